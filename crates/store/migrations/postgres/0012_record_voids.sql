-- A correction may void a record (作废: the service did not happen): approval marks the record
-- superseded and writes no successor, so a void request carries no times.
ALTER TABLE record_corrections ADD COLUMN void BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE record_corrections ALTER COLUMN started_at DROP NOT NULL, ALTER COLUMN ended_at DROP NOT NULL;
ALTER TABLE record_corrections ADD CONSTRAINT record_corrections_times
    CHECK (void OR (started_at IS NOT NULL AND ended_at IS NOT NULL));
