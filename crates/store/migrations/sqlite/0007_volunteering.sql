-- Volunteer service: activities with time slots, sign-ups, attendance (check-in/out),
-- confirmed service records (never edited: a correction supersedes), correction requests,
-- insurance policies; settings edited by administrators; statistics deltas and rollups.

-- Rules set per deployment (hour rounding and caps, star thresholds …), one JSON value per key.
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by INTEGER
);

-- The person behind an account (a volunteer's own login), so nobody confirms their own hours.
ALTER TABLE users ADD COLUMN person_id INTEGER REFERENCES people (id);
CREATE INDEX users_person ON users (person_id);

CREATE TABLE activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    title TEXT NOT NULL,
    title_folded TEXT NOT NULL,
    content TEXT NOT NULL,
    category TEXT NOT NULL,
    division_code TEXT NOT NULL,
    address TEXT NOT NULL,
    latitude_e6 INTEGER,
    longitude_e6 INTEGER,
    checkin_radius_m INTEGER,
    required_skills TEXT NOT NULL,
    min_age INTEGER,
    risky BOOLEAN NOT NULL,
    timebank BOOLEAN NOT NULL,
    auto_approve BOOLEAN NOT NULL,
    recruit_until TEXT,
    status TEXT NOT NULL,
    checkin_secret BLOB NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    created_by INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX activities_division ON activities (division_code, starts_at);
CREATE INDEX activities_org ON activities (organization_id, starts_at);
CREATE INDEX activities_status ON activities (status, starts_at);

-- `approved` counts the sign-ups holding a place; the CHECK makes overbooking impossible
-- whatever the concurrency.
CREATE TABLE activity_slots (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    activity_id INTEGER NOT NULL REFERENCES activities (id),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    approved INTEGER NOT NULL DEFAULT 0,
    CHECK (approved >= 0 AND approved <= capacity)
);
CREATE INDEX activity_slots_activity ON activity_slots (activity_id, starts_at);

CREATE TABLE signups (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    slot_id INTEGER NOT NULL REFERENCES activity_slots (id),
    activity_id INTEGER NOT NULL REFERENCES activities (id),
    person_id INTEGER NOT NULL REFERENCES volunteers (person_id),
    status TEXT NOT NULL,
    note TEXT,
    created_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by INTEGER
);
CREATE UNIQUE INDEX signups_one_active ON signups (slot_id, person_id)
    WHERE status IN ('pending', 'approved', 'waitlisted');
CREATE INDEX signups_slot ON signups (slot_id, status, id);
CREATE INDEX signups_activity ON signups (activity_id, status, id);
CREATE INDEX signups_person ON signups (person_id, id);

CREATE TABLE attendance (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    signup_id INTEGER NOT NULL UNIQUE REFERENCES signups (id),
    slot_id INTEGER NOT NULL REFERENCES activity_slots (id),
    activity_id INTEGER NOT NULL REFERENCES activities (id),
    person_id INTEGER NOT NULL REFERENCES volunteers (person_id),
    checked_in_at TEXT NOT NULL,
    check_in_method TEXT NOT NULL,
    checked_in_by INTEGER,
    latitude_e6 INTEGER,
    longitude_e6 INTEGER,
    checked_out_at TEXT,
    check_out_method TEXT,
    checked_out_by INTEGER,
    status TEXT NOT NULL,
    resolution_note TEXT
);
CREATE INDEX attendance_activity ON attendance (activity_id, status, id);
CREATE INDEX attendance_person ON attendance (person_id, id);

-- Confirmed hours. Facts are never updated: a correction is a new row pointing at the row it
-- supersedes, and the old row is marked superseded (both kept). The person index covers a
-- volunteer's totals.
CREATE TABLE service_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    uid TEXT NOT NULL UNIQUE,
    person_id INTEGER NOT NULL REFERENCES volunteers (person_id),
    activity_id INTEGER NOT NULL REFERENCES activities (id),
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    attendance_id INTEGER UNIQUE REFERENCES attendance (id),
    division_code TEXT NOT NULL,
    category TEXT NOT NULL,
    service_date TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    travel_minutes INTEGER NOT NULL,
    recorded_minutes INTEGER NOT NULL,
    credited_minutes INTEGER NOT NULL,
    evaluation TEXT,
    timebank BOOLEAN NOT NULL,
    superseded BOOLEAN NOT NULL DEFAULT FALSE,
    supersedes_id INTEGER REFERENCES service_records (id),
    confirmed_by INTEGER NOT NULL,
    confirmed_by_name TEXT NOT NULL,
    confirmed_at TEXT NOT NULL
);
CREATE INDEX service_records_person ON service_records (person_id, superseded, service_date, credited_minutes, organization_id);
CREATE INDEX service_records_org ON service_records (organization_id, service_date);
CREATE INDEX service_records_activity ON service_records (activity_id, id);

CREATE TABLE record_corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    record_id INTEGER NOT NULL REFERENCES service_records (id),
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    person_id INTEGER NOT NULL,
    requested_by INTEGER NOT NULL,
    requested_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    travel_minutes INTEGER NOT NULL,
    status TEXT NOT NULL,
    reviewed_by INTEGER,
    reviewed_at TEXT,
    review_note TEXT,
    new_record_id INTEGER REFERENCES service_records (id)
);
CREATE INDEX record_corrections_org ON record_corrections (organization_id, status, id);
CREATE INDEX record_corrections_record ON record_corrections (record_id);

CREATE TABLE insurance_policies (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    insurer TEXT NOT NULL,
    policy_number TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    note TEXT,
    created_by INTEGER,
    created_at TEXT NOT NULL,
    UNIQUE (insurer, policy_number)
);
CREATE INDEX insurance_policies_org ON insurance_policies (organization_id, ends_on);

CREATE TABLE insurance_covered (
    policy_id INTEGER NOT NULL REFERENCES insurance_policies (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    PRIMARY KEY (policy_id, person_id)
);
CREATE INDEX insurance_covered_person ON insurance_covered (person_id, policy_id);

-- Statistics (ARCHITECTURE.md): every write that changes a figure appends deltas in its own
-- transaction; the rollup worker folds them into region × period sums and deletes them.
CREATE TABLE stat_deltas (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    metric TEXT NOT NULL,
    division_code TEXT NOT NULL,
    day TEXT NOT NULL,
    amount BIGINT NOT NULL
);

-- region: '' (national) or a 2/4/6/9/12-digit prefix; period: 'y2026', 'm2026-05', 'd2026-05-01'.
CREATE TABLE stat_rollups (
    metric TEXT NOT NULL,
    period TEXT NOT NULL,
    region TEXT NOT NULL,
    value BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (metric, period, region)
);
