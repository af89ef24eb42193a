-- Roles and scope types are data: each domain's migration adds its own (its
-- module.py declares the same), in place of a CHECK list in platform SQL.

CREATE TABLE scope_types (
    name  text PRIMARY KEY CHECK (name ~ '^[a-z_]{1,32}$')
);
CREATE TABLE roles (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z_]{1,32}$'),
    scope_type  text NOT NULL REFERENCES scope_types (name),
    UNIQUE (name, scope_type)
);
CREATE INDEX roles_scope_type_idx ON roles (scope_type);

-- The platform's own: the global scope and the two global roles identity grants.
INSERT INTO scope_types (name) VALUES ('global');
INSERT INTO roles (name, scope_type) VALUES ('admin', 'global'), ('customer', 'global');
