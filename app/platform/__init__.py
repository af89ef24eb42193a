"""Everything that knows no domain: database, HTTP conventions, security, realtime, jobs."""
