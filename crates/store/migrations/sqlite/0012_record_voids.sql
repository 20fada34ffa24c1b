-- A correction may void a record (作废: the service did not happen): approval marks the record
-- superseded and writes no successor, so a void request carries no times. SQLite cannot drop
-- a NOT NULL, so the table is rebuilt: create, copy, drop, rename, index again. Nothing
-- references record_corrections, so the drop is safe with foreign keys on (a migration runs
-- in a transaction, where PRAGMA foreign_keys cannot be switched off).
CREATE TABLE record_corrections_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    record_id INTEGER NOT NULL REFERENCES service_records (id),
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    person_id INTEGER NOT NULL,
    requested_by INTEGER NOT NULL,
    requested_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    started_at TEXT,
    ended_at TEXT,
    travel_minutes INTEGER NOT NULL,
    status TEXT NOT NULL,
    reviewed_by INTEGER,
    reviewed_at TEXT,
    review_note TEXT,
    new_record_id INTEGER REFERENCES service_records (id),
    void BOOLEAN NOT NULL DEFAULT FALSE,
    CHECK (void OR (started_at IS NOT NULL AND ended_at IS NOT NULL))
);
INSERT INTO record_corrections_new (id, record_id, organization_id, person_id, requested_by, requested_at, reason,
    started_at, ended_at, travel_minutes, status, reviewed_by, reviewed_at, review_note, new_record_id, void)
SELECT id, record_id, organization_id, person_id, requested_by, requested_at, reason,
    started_at, ended_at, travel_minutes, status, reviewed_by, reviewed_at, review_note, new_record_id, FALSE
FROM record_corrections;
-- the AUTOINCREMENT counter carries over, so no id is ever handed out twice
DELETE FROM sqlite_sequence WHERE name = 'record_corrections_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'record_corrections_new', seq FROM sqlite_sequence WHERE name = 'record_corrections';
DROP TABLE record_corrections;
ALTER TABLE record_corrections_new RENAME TO record_corrections;
CREATE INDEX record_corrections_org ON record_corrections (organization_id, status, id);
CREATE INDEX record_corrections_record ON record_corrections (record_id);
