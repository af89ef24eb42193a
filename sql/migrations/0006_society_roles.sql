-- The society domain's scope types and roles; then role assignments may only
-- name a role some domain added, on the scope type it is held on.

INSERT INTO scope_types (name) VALUES ('society'), ('flat');
INSERT INTO roles (name, scope_type) VALUES ('society_admin', 'society'), ('guard', 'society'), ('resident', 'flat');

ALTER TABLE role_assignments DROP CONSTRAINT role_assignments_check;
ALTER TABLE role_assignments
    ADD CONSTRAINT role_assignments_role_fkey FOREIGN KEY (role, scope_type) REFERENCES roles (name, scope_type);
