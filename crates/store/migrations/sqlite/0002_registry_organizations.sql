-- Registry, part 1: organizations with their registration facts, several types, a status
-- history that is never overwritten, the list of banned (illegal) organizations, and the
-- n-gram index for Chinese fragment search.

ALTER TABLE organizations ADD COLUMN name_folded TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN registration_authority TEXT;
ALTER TABLE organizations ADD COLUMN registered_on TEXT;
ALTER TABLE organizations ADD COLUMN status TEXT NOT NULL DEFAULT 'registered';
ALTER TABLE organizations ADD COLUMN is_charity BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE organizations ADD COLUMN fundraising_qualified BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE organizations ADD COLUMN legal_representative TEXT;
ALTER TABLE organizations ADD COLUMN contact_person TEXT;
ALTER TABLE organizations ADD COLUMN contact_phone TEXT;
ALTER TABLE organizations ADD COLUMN address TEXT;
ALTER TABLE organizations ADD COLUMN updated_at TEXT;
CREATE INDEX organizations_status ON organizations (status, division_code);

CREATE TABLE organization_types (
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    org_type TEXT NOT NULL,
    PRIMARY KEY (organization_id, org_type)
);
CREATE INDEX organization_types_type ON organization_types (org_type, organization_id);

CREATE TABLE organization_status_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    status TEXT NOT NULL,
    effective_on TEXT NOT NULL,
    authority TEXT NOT NULL,
    document_number TEXT,
    note TEXT,
    recorded_at TEXT NOT NULL,
    recorded_by INTEGER
);
CREATE INDEX organization_status_history_org ON organization_status_history (organization_id, id);

CREATE TABLE banned_organizations (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    banned_on TEXT NOT NULL,
    authority TEXT NOT NULL,
    document_number TEXT,
    note TEXT,
    division_code TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (name_folded, authority)
);

-- Unigrams and bigrams of folded names: a 2-character fragment (社工, 慈善) is one index
-- lookup however many records there are.
CREATE TABLE search_grams (
    kind TEXT NOT NULL,
    gram TEXT NOT NULL,
    entity_id INTEGER NOT NULL,
    PRIMARY KEY (kind, gram, entity_id)
);
CREATE INDEX search_grams_entity ON search_grams (kind, entity_id);
