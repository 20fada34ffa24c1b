-- The index on (ledger, balance) over every person account was for the expiry job, which
-- pages through coin accounts by person and is served as well by the unique (ledger,
-- person_id) index (SQLite's planner chose that one anyway). It moved an entry on every
-- change of any balance: each confirmed service moves a points balance, so each
-- confirmation wrote two more index pages for a job that runs once an hour.
DROP INDEX ledger_accounts_ledger_balance;
