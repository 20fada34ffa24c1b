-- A check-in finds the volunteer's approved sign-up for one activity. With the person index on
-- (person_id, id) every one of the volunteer's sign-ups was read from the table to test its
-- activity and status (a regular volunteer has hundreds); on (person_id, activity_id, status)
-- it is one seek. Lists of a person's sign-ups still use the index's first column.
DROP INDEX signups_person;
CREATE INDEX signups_person ON signups (person_id, activity_id, status);
