-- Registry, part 2: people. One row per real person, de-duplicated by the blind index of the
-- citizen ID; ID numbers and phones are stored encrypted (AES-256-GCM, AAD bound to the
-- row's uid) next to their masked form, so lists never decrypt. A person holds any of the
-- roles below at once.

CREATE TABLE people (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    uid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    gender TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    id_index TEXT NOT NULL UNIQUE,
    id_cipher BLOB NOT NULL,
    id_masked TEXT NOT NULL,
    phone_index TEXT,
    phone_cipher BLOB,
    phone_masked TEXT,
    division_code TEXT NOT NULL,
    address TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX people_division ON people (division_code, id);
CREATE INDEX people_phone ON people (phone_index);
CREATE INDEX people_name ON people (name_folded, id);

-- Consents given by the person or their guardian (data processing, a minor's participation).
CREATE TABLE person_consents (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    person_id INTEGER NOT NULL REFERENCES people (id),
    purpose TEXT NOT NULL,
    given_by TEXT NOT NULL,
    given_on TEXT NOT NULL,
    note TEXT,
    recorded_at TEXT NOT NULL,
    recorded_by INTEGER
);
CREATE INDEX person_consents_person ON person_consents (person_id, id);

CREATE TABLE volunteers (
    person_id INTEGER PRIMARY KEY NOT NULL REFERENCES people (id),
    volunteer_number TEXT NOT NULL UNIQUE,
    skills TEXT NOT NULL,
    availability TEXT,
    latitude_e6 INTEGER,
    longitude_e6 INTEGER,
    guardian_name TEXT,
    guardian_phone_cipher BLOB,
    guardian_phone_masked TEXT,
    registered_on TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Per-county serials behind volunteer numbers.
CREATE TABLE volunteer_serials (
    county TEXT PRIMARY KEY NOT NULL,
    last_serial INTEGER NOT NULL
);

CREATE TABLE volunteer_organizations (
    person_id INTEGER NOT NULL REFERENCES volunteers (person_id),
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    joined_on TEXT NOT NULL,
    PRIMARY KEY (person_id, organization_id)
);
CREATE INDEX volunteer_organizations_org ON volunteer_organizations (organization_id, person_id);

CREATE TABLE social_workers (
    person_id INTEGER PRIMARY KEY NOT NULL REFERENCES people (id),
    credential_level TEXT NOT NULL,
    certificate_number TEXT UNIQUE,
    registered_on TEXT NOT NULL,
    ce_hours INTEGER NOT NULL,
    employer_org_id INTEGER REFERENCES organizations (id),
    station_code TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX social_workers_employer ON social_workers (employer_org_id, person_id);

CREATE TABLE beneficiaries (
    person_id INTEGER PRIMARY KEY NOT NULL REFERENCES people (id),
    categories TEXT NOT NULL,
    guardian_name TEXT,
    guardian_relation TEXT,
    guardian_phone_cipher BLOB,
    guardian_phone_masked TEXT,
    serving_org_id INTEGER REFERENCES organizations (id),
    created_at TEXT NOT NULL
);
CREATE INDEX beneficiaries_serving ON beneficiaries (serving_org_id, person_id);

CREATE TABLE beneficiary_categories (
    person_id INTEGER NOT NULL REFERENCES beneficiaries (person_id),
    category TEXT NOT NULL,
    PRIMARY KEY (person_id, category)
);
CREATE INDEX beneficiary_categories_category ON beneficiary_categories (category, person_id);
