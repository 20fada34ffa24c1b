-- Officials' oversight of volunteer service (issue 4): star awards and their approval by the
-- level of government the settings name, spot-checks (抽查) of confirmed hour records by a
-- reproducible random sample, and the summable parts behind the registered- and
-- active-volunteer figures.

-- A star a volunteer's confirmed hours reach: pending until an official of the approving
-- level approves or rejects it; it lapses when a correction takes the hours below the
-- threshold. At most one pending or approved award per star and volunteer.
CREATE TABLE star_awards (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    person_id INTEGER NOT NULL REFERENCES volunteers (person_id),
    star INTEGER NOT NULL,
    status TEXT NOT NULL,
    threshold_minutes BIGINT NOT NULL,
    reached_on TEXT NOT NULL,
    eligible_on TEXT NOT NULL,
    created_at TEXT NOT NULL,
    decided_by INTEGER REFERENCES users (id),
    decided_by_name TEXT,
    decided_at TEXT,
    decision_note TEXT,
    total_at_decision BIGINT,
    lapsed_at TEXT,
    CHECK (star BETWEEN 1 AND 5)
);
CREATE UNIQUE INDEX star_awards_held ON star_awards (person_id, star) WHERE status IN ('pending', 'approved');
CREATE INDEX star_awards_person ON star_awards (person_id, id);
CREATE INDEX star_awards_queue ON star_awards (status, star, id);

-- Confirmed records in force per volunteer and year, with the home region the year's
-- active-volunteer delta went to (so a correction that empties a year takes it back there).
CREATE TABLE volunteer_years (
    person_id INTEGER NOT NULL REFERENCES volunteers (person_id),
    year INTEGER NOT NULL,
    division_code TEXT NOT NULL,
    records BIGINT NOT NULL,
    PRIMARY KEY (person_id, year),
    CHECK (records >= 0)
);

-- A spot-check: the region and period checked, how the sample was drawn (seed, population
-- size and fingerprint), and its stage. Visible to officials covering the region until it
-- is published, then to everyone.
CREATE TABLE spot_checks (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    region TEXT NOT NULL,
    title TEXT NOT NULL,
    period_from TEXT NOT NULL,
    period_to TEXT NOT NULL,
    sample_mode TEXT NOT NULL,
    sample_param INTEGER NOT NULL,
    seed TEXT NOT NULL,
    population BIGINT NOT NULL,
    population_digest TEXT NOT NULL,
    sample_size INTEGER NOT NULL,
    drawn_at TEXT NOT NULL,
    status TEXT NOT NULL,
    conclusion TEXT,
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_by_name TEXT NOT NULL,
    completed_at TEXT,
    completed_by INTEGER,
    published_at TEXT,
    published_by INTEGER
);
CREATE INDEX spot_checks_region ON spot_checks (region, id);
CREATE INDEX spot_checks_status ON spot_checks (status, id);

-- The sampled records, in draw order, with the finding recorded for each. The record's
-- organization is kept here so that an organization's follow-ups are one index range.
CREATE TABLE spot_check_items (
    spot_check_id INTEGER NOT NULL REFERENCES spot_checks (id),
    record_id INTEGER NOT NULL REFERENCES service_records (id),
    position INTEGER NOT NULL,
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    finding TEXT,
    note TEXT,
    checked_by INTEGER,
    checked_by_name TEXT,
    checked_at TEXT,
    PRIMARY KEY (spot_check_id, record_id)
);
CREATE INDEX spot_check_items_org ON spot_check_items (organization_id, finding, spot_check_id);
CREATE INDEX spot_check_items_record ON spot_check_items (record_id);

-- The population of a spot-check is a range of places and days; corrections are found by
-- the record they supersede (to re-draw a sample as of the day it was drawn).
CREATE INDEX service_records_division ON service_records (division_code, service_date);
CREATE INDEX service_records_supersedes ON service_records (supersedes_id) WHERE supersedes_id IS NOT NULL;

-- Figures for what exists already: registered volunteers (+1 on registration, −1 on the
-- day the role ended) and the active volunteers of each year, at their home region.
INSERT INTO stat_deltas (metric, division_code, day, amount)
SELECT 'registered_volunteers', p.division_code, v.registered_on, 1
FROM volunteers v JOIN people p ON p.id = v.person_id;
INSERT INTO stat_deltas (metric, division_code, day, amount)
SELECT 'registered_volunteers', p.division_code, v.ended_on, -1
FROM volunteers v JOIN people p ON p.id = v.person_id WHERE v.ended_on IS NOT NULL;

INSERT INTO volunteer_years (person_id, year, division_code, records)
SELECT r.person_id, CAST(SUBSTR(r.service_date, 1, 4) AS INTEGER), p.division_code, COUNT(*)
FROM service_records r JOIN people p ON p.id = r.person_id
WHERE r.superseded = FALSE
GROUP BY r.person_id, CAST(SUBSTR(r.service_date, 1, 4) AS INTEGER), p.division_code;
INSERT INTO stat_deltas (metric, division_code, day, amount)
SELECT 'active_volunteers', division_code, printf('%04d-01-01', year), 1 FROM volunteer_years;

-- Star awards for hours confirmed before this migration: start-up creates them under the
-- deployment's star settings (which SQL cannot read).
INSERT INTO meta (key, value)
SELECT 'stars_reconcile', '0010' WHERE EXISTS (SELECT 1 FROM service_records);
