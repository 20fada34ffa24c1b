-- Time bank and points: double-entry ledgers. A transaction's entries sum to zero; entries
-- are never updated or deleted; `balance` is kept equal to the sum of the account's entries
-- in the same transaction, and a person's balance can never be negative (CHECK).

CREATE TABLE ledger_accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    ledger TEXT NOT NULL,
    person_id INTEGER REFERENCES people (id),
    system_key TEXT,
    balance BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK (person_id IS NULL OR balance >= 0),
    CHECK ((person_id IS NULL) <> (system_key IS NULL))
);
CREATE UNIQUE INDEX ledger_accounts_person ON ledger_accounts (ledger, person_id) WHERE person_id IS NOT NULL;
CREATE UNIQUE INDEX ledger_accounts_system ON ledger_accounts (ledger, system_key) WHERE system_key IS NOT NULL;

CREATE TABLE ledger_transactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    ledger TEXT NOT NULL,
    kind TEXT NOT NULL,
    memo TEXT,
    record_id INTEGER REFERENCES service_records (id),
    division_code TEXT NOT NULL,
    created_by INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX ledger_transactions_record ON ledger_transactions (record_id);

CREATE TABLE ledger_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    transaction_id INTEGER NOT NULL REFERENCES ledger_transactions (id),
    account_id INTEGER NOT NULL REFERENCES ledger_accounts (id),
    amount BIGINT NOT NULL
);
CREATE INDEX ledger_entries_account ON ledger_entries (account_id, id, amount);
CREATE INDEX ledger_entries_transaction ON ledger_entries (transaction_id);

-- Direct relatives (for coin gifts), recorded by the station or civil-affairs staff who
-- checked the household register.
CREATE TABLE person_relations (
    person_id INTEGER NOT NULL REFERENCES people (id),
    relative_id INTEGER NOT NULL REFERENCES people (id),
    relation TEXT NOT NULL,
    recorded_by INTEGER,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (person_id, relative_id)
);

-- Love supermarkets (爱心超市): community outlets with goods priced in points.
CREATE TABLE outlets (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    division_code TEXT NOT NULL,
    address TEXT NOT NULL,
    created_by INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX outlets_division ON outlets (division_code);

CREATE TABLE goods (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    outlet_id INTEGER NOT NULL REFERENCES outlets (id),
    name TEXT NOT NULL,
    points BIGINT NOT NULL,
    stock BIGINT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    CHECK (stock >= 0),
    CHECK (points > 0)
);
CREATE INDEX goods_outlet ON goods (outlet_id, id);

CREATE TABLE redemptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    goods_id INTEGER NOT NULL REFERENCES goods (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    quantity BIGINT NOT NULL,
    points BIGINT NOT NULL,
    transaction_id INTEGER NOT NULL REFERENCES ledger_transactions (id),
    created_by INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX redemptions_person ON redemptions (person_id, id);
