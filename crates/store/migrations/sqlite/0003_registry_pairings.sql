-- Pairing programmes (结对帮扶, 牵手计划): a stronger organization helps one in a weaker area.

CREATE TABLE pairings (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    programme TEXT NOT NULL,
    helper_org_id INTEGER NOT NULL REFERENCES organizations (id),
    helped_org_id INTEGER NOT NULL REFERENCES organizations (id),
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    goals TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by INTEGER
);
CREATE INDEX pairings_helper ON pairings (helper_org_id);
CREATE INDEX pairings_helped ON pairings (helped_org_id);
