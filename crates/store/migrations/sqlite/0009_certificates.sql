-- Volunteer service certificates (志愿服务记录证明): requested by the volunteer from the
-- organization that recorded the hours ("who records certifies"), issued free of charge.
--
-- An issued certificate keeps a snapshot of what it certifies (holder, issuer, the itemized
-- services and the total) taken when it is issued: the PDF and the public verification read
-- the snapshot, so a later correction of a record never silently changes an issued
-- certificate. Instead the correction stamps `records_corrected_at` on the issued
-- certificates that list the superseded record; verification then says so, and the
-- organization sees it needs re-issuing (revoke, and the volunteer asks again).
--
-- `number` is given at issue (NULL before: a request has no number to verify); the unique
-- index is the one lookup of the public verification.

CREATE TABLE certificates (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    number TEXT UNIQUE,
    person_id INTEGER NOT NULL REFERENCES volunteers (person_id),
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    -- the issuing organization's region: officials see the certificates issued in theirs
    division_code TEXT NOT NULL,
    status TEXT NOT NULL,
    purpose TEXT,
    requested_at TEXT NOT NULL,
    requested_by INTEGER NOT NULL,
    publicity_until TEXT,
    decided_at TEXT,
    decided_by INTEGER,
    issued_at TEXT,
    issued_on TEXT,
    issued_by INTEGER,
    revoked_at TEXT,
    revoked_by INTEGER,
    -- why it was declined or revoked
    reason TEXT,
    -- snapshot at issue
    holder_name TEXT,
    id_type TEXT,
    id_masked TEXT,
    volunteer_number TEXT,
    issuer_name TEXT,
    issuer_credit_code TEXT,
    person_in_charge TEXT,
    handler_name TEXT,
    contact TEXT,
    total_minutes BIGINT,
    item_count INTEGER,
    records_corrected_at TEXT
);
-- one request in progress per volunteer and organization
CREATE UNIQUE INDEX certificates_one_pending ON certificates (person_id, organization_id)
    WHERE status IN ('requested', 'publicity');
CREATE INDEX certificates_org ON certificates (organization_id, id);
CREATE INDEX certificates_person ON certificates (person_id, id);
CREATE INDEX certificates_division ON certificates (division_code, id);

-- The itemized services of an issued certificate, as they stood at issue.
CREATE TABLE certificate_items (
    certificate_id INTEGER NOT NULL REFERENCES certificates (id),
    position INTEGER NOT NULL,
    record_id INTEGER NOT NULL REFERENCES service_records (id),
    activity_title TEXT NOT NULL,
    service_date TEXT NOT NULL,
    place TEXT NOT NULL,
    content TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    credited_minutes BIGINT NOT NULL,
    PRIMARY KEY (certificate_id, position)
);
CREATE INDEX certificate_items_record ON certificate_items (record_id);
