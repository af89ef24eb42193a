-- A resident may cancel an invitation: it becomes `cancelled`, and its code no longer lets anyone in
-- (check-in takes only accepted and pre-approved visitors).

ALTER TABLE visitors DROP CONSTRAINT visitors_status_check;
ALTER TABLE visitors ADD CONSTRAINT visitors_status_check CHECK (status IN
    ('pending', 'accepted', 'denied', 'pre_approved', 'checked_in', 'checked_out', 'cancelled'));
