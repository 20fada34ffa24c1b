-- Foundation: reference data, organizations (minimal; the registry extends it), accounts,
-- sessions, API tokens and the hash-chained audit log.

CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- NBS statistical divisions, 12-digit codes. Descendant counts per level are computed at load
-- time, so a region page never counts 600k villages on a request.
CREATE TABLE divisions (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    level SMALLINT NOT NULL,
    parent_code TEXT,
    kind TEXT,
    n_city INTEGER NOT NULL DEFAULT 0,
    n_county INTEGER NOT NULL DEFAULT 0,
    n_township INTEGER NOT NULL DEFAULT 0,
    n_village INTEGER NOT NULL DEFAULT 0,
    n_subdistrict INTEGER NOT NULL DEFAULT 0,
    n_town INTEGER NOT NULL DEFAULT 0,
    n_rural_township INTEGER NOT NULL DEFAULT 0,
    n_community INTEGER NOT NULL DEFAULT 0,
    n_rural_village INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX divisions_parent ON divisions (parent_code, code);

CREATE TABLE organizations (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    credit_code TEXT UNIQUE,
    org_type TEXT NOT NULL,
    division_code TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX organizations_division ON organizations (division_code);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    scope_division TEXT NOT NULL,
    organization_id INTEGER REFERENCES organizations (id),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    password_changed_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by INTEGER
);
CREATE INDEX users_scope ON users (scope_division);

-- Session ids are stored only as their SHA-256, so a copy of the table opens no session.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id INTEGER,
    data TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    token_prefix TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Append-only, hash-chained. ids are assigned from audit_head under its lock, so the chain
-- order is the id order on both backends.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY NOT NULL,
    at TEXT NOT NULL,
    user_id INTEGER,
    username TEXT,
    role TEXT,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    division_code TEXT NOT NULL,
    organization_id INTEGER,
    summary TEXT NOT NULL,
    ip TEXT,
    request_id TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_division ON audit_log (division_code, id);
CREATE INDEX audit_log_user ON audit_log (user_id, id);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, '审计日志只能追加，不能修改');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, '审计日志只能追加，不能删除');
END;
