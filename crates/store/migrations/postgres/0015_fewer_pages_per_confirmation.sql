-- An attendance's status changes three times (checked in, out, confirmed), and with the
-- status in the activity index each change wrote a new index entry (and ruled out a
-- heap-only update). No query looks attendances up by activity and status: the
-- check-out's lookup goes by person, and the roster reads an activity's attendances in
-- slot order, which this index gives without a sort. (SQLite's migration of the same
-- number also makes volunteer_years a WITHOUT ROWID table; PostgreSQL has no such form.)
DROP INDEX attendance_activity;
CREATE INDEX attendance_activity ON attendance (activity_id, slot_id, id);
