-- The gram index now holds trigrams too (3-character queries are one lookup). An index
-- built before this migration lacks them: flag it, and start-up rebuilds it from the names.
INSERT INTO meta (key, value)
SELECT 'search_grams_rebuild', 'trigrams' WHERE EXISTS (SELECT 1 FROM search_grams);
