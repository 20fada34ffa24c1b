-- A volunteer's year is active while they have a record in force dated in it. The row of
-- (person, year) counted those records, so every confirmation rewrote it. The row now
-- only says the year is active (its region is where the year's active-volunteer delta
-- went): a confirmation in a year already active finds it and writes nothing, and a
-- correction that takes a record out of its year asks the volunteer's records (by the
-- person index) whether any is left.
DELETE FROM volunteer_years WHERE records = 0;
ALTER TABLE volunteer_years DROP COLUMN records;
