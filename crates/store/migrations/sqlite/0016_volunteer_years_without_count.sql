-- A volunteer's year is active while they have a record in force dated in it. The row of
-- (person, year) counted those records, so every confirmation rewrote it: a page of its
-- own in the write-ahead log for a random volunteer. The row now only says the year is
-- active (its region is where the year's active-volunteer delta went): a confirmation in a
-- year already active finds it and writes nothing, and a correction that takes a record
-- out of its year asks the volunteer's records (by the person index) whether any is left.
CREATE TABLE volunteer_years_active (
    person_id INTEGER NOT NULL REFERENCES volunteers (person_id),
    year INTEGER NOT NULL,
    division_code TEXT NOT NULL,
    PRIMARY KEY (person_id, year)
) WITHOUT ROWID;
INSERT INTO volunteer_years_active (person_id, year, division_code)
SELECT person_id, year, division_code FROM volunteer_years WHERE records > 0;
DROP TABLE volunteer_years;
ALTER TABLE volunteer_years_active RENAME TO volunteer_years;
