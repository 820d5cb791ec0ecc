-- When a running match will end, so quick-join does not seat players in a match about to end.
ALTER TABLE matches ADD COLUMN ends_at BIGINT;
