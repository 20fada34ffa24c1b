-- Time coins keep their deposit date: an entry that moves coins between people (a gift to a
-- relative) or takes them out (spending, expiry) carries the deposit date of the coins it
-- moves, one entry per date, so a gift never restarts the coins' expiry. NULL: the date is
-- the transaction's (coins earned by service, points).
ALTER TABLE ledger_entries ADD COLUMN deposited_at TEXT;

-- The expiry job looks for accounts whose coins may be due.
CREATE INDEX ledger_accounts_ledger_balance ON ledger_accounts (ledger, balance) WHERE person_id IS NOT NULL;
