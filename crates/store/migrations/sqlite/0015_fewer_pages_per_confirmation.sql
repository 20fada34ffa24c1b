-- Two changes that each save a confirmed service a page of its own in the write-ahead log
-- (about 9.5 pages per confirmation before, counted from the log's frame counter during
-- `wushe bench hours`; every page is written at the commit and again at the checkpoint).

-- Each confirmation upserts its volunteer's row for the year. As a rowid table keyed by
-- (person_id, year), the row sat in two B-trees, the table and its key's index, each a
-- page of its own for a random volunteer; WITHOUT ROWID, the key's B-tree holds the row.
CREATE TABLE volunteer_years_keyed (
    person_id INTEGER NOT NULL REFERENCES volunteers (person_id),
    year INTEGER NOT NULL,
    division_code TEXT NOT NULL,
    records BIGINT NOT NULL,
    PRIMARY KEY (person_id, year),
    CHECK (records >= 0)
) WITHOUT ROWID;
INSERT INTO volunteer_years_keyed (person_id, year, division_code, records)
SELECT person_id, year, division_code, records FROM volunteer_years;
DROP TABLE volunteer_years;
ALTER TABLE volunteer_years_keyed RENAME TO volunteer_years;

-- An attendance's status changes three times (checked in, out, confirmed), and with the
-- status in the activity index each change moved the entry to another part of it. No
-- query looks attendances up by activity and status: the check-out's lookup goes by
-- person, and the roster reads an activity's attendances in slot order, which this index
-- gives without a sort.
DROP INDEX attendance_activity;
CREATE INDEX attendance_activity ON attendance (activity_id, slot_id, id);
