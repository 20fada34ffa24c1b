-- Registry, part 3: edits. The volunteer skill dictionary moves from code into a table that
-- administrators maintain (keys are never deleted: volunteers hold them; a skill is retired
-- by deactivating it). A role ends on a date instead of being deleted, and a volunteer's past
-- memberships are kept when they leave an organization (the live table keeps current ones
-- only, so its member index stays what lists walk).

CREATE TABLE skills (
    key TEXT PRIMARY KEY NOT NULL,
    label TEXT NOT NULL,
    sort_order INTEGER NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE UNIQUE INDEX skills_label ON skills (label);

-- The entries of the former code-level dictionary, with the same keys.
INSERT INTO skills (key, label, sort_order, active) VALUES
    ('elder_care', '助老服务', 10, TRUE),
    ('disability_support', '助残服务', 20, TRUE),
    ('child_care', '儿童关爱', 30, TRUE),
    ('nursing', '医疗护理', 40, TRUE),
    ('counselling', '心理疏导', 50, TRUE),
    ('legal', '法律咨询', 60, TRUE),
    ('tutoring', '教育辅导', 70, TRUE),
    ('rescue', '应急救援', 80, TRUE),
    ('performance', '文艺表演', 90, TRUE),
    ('it', '信息技术', 100, TRUE),
    ('driving', '驾驶', 110, TRUE),
    ('translation', '外语翻译', 120, TRUE),
    ('environment', '环境保护', 130, TRUE),
    ('community', '社区治理', 140, TRUE),
    ('other', '其他', 150, TRUE);

ALTER TABLE volunteers ADD COLUMN ended_on TEXT;
ALTER TABLE volunteers ADD COLUMN end_reason TEXT;
ALTER TABLE social_workers ADD COLUMN ended_on TEXT;
ALTER TABLE social_workers ADD COLUMN end_reason TEXT;
ALTER TABLE beneficiaries ADD COLUMN ended_on TEXT;
ALTER TABLE beneficiaries ADD COLUMN end_reason TEXT;

CREATE TABLE volunteer_organization_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    person_id INTEGER NOT NULL REFERENCES volunteers (person_id),
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    joined_on TEXT NOT NULL,
    left_on TEXT NOT NULL,
    reason TEXT,
    recorded_at TEXT NOT NULL,
    recorded_by INTEGER
);
CREATE INDEX volunteer_organization_history_person ON volunteer_organization_history (person_id, id);
