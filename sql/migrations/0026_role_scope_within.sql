-- Each role assignment keeps the ids of the scopes its scope sits inside (a flat's society, a shop's mall),
-- taken from the owning domain when the role is granted, so a scope admin's list of the people of their
-- society or mall (residents of its flats, staff of its shops) is one indexed query.

ALTER TABLE role_assignments ADD COLUMN within uuid[] NOT NULL DEFAULT '{}';

-- The assignments made before this, filled in from the places they are held on.
UPDATE role_assignments r SET within = ARRAY[f.society_id]
FROM flats f WHERE r.scope_type = 'flat' AND f.id = r.scope_id;
UPDATE role_assignments r SET within = ARRAY[s.mall_id]
FROM shops s WHERE r.scope_type = 'shop' AND s.id = r.scope_id;

CREATE INDEX role_assignments_within_idx ON role_assignments USING gin (within);
