-- Several games: each match and each result line knows its game, and a result line's numbers
-- beside the score are named stats, declared by the game (arena: kills, deaths; cycles: cuts,
-- crashes, cells). Same SQL on SQLite (3.35+ for DROP COLUMN; sqlx bundles a newer one) and
-- PostgreSQL. Leaderboard tables are not touched: existing records keep their board ids.

-- Everything stored so far was played by the only game there was.
ALTER TABLE matches ADD COLUMN game TEXT NOT NULL DEFAULT 'arena';
ALTER TABLE match_results ADD COLUMN game TEXT NOT NULL DEFAULT 'arena';

-- One row per (match, account, stat). A row per stat rather than a JSON column keeps the values
-- queryable with plain SQL on both backends. `ordinal` is the stat's place in its game's
-- declaration, so results read back in the order the game declared them.
CREATE TABLE match_result_stats (
    match_id   TEXT NOT NULL,
    account_id BIGINT NOT NULL,
    stat       TEXT NOT NULL,
    ordinal    BIGINT NOT NULL,
    value      BIGINT NOT NULL,
    PRIMARY KEY (match_id, account_id, stat)
);

INSERT INTO match_result_stats (match_id, account_id, stat, ordinal, value)
SELECT match_id, account_id, 'kills', 0, kills FROM match_results;
INSERT INTO match_result_stats (match_id, account_id, stat, ordinal, value)
SELECT match_id, account_id, 'deaths', 1, deaths FROM match_results;

-- The kills and deaths columns are dropped, not kept with a default: their values now live in
-- match_result_stats (copied above, in this migration's transaction), and a kept column would
-- read as "0 kills" for games that have no kills. Neither column is indexed, which SQLite's DROP
-- COLUMN requires.
ALTER TABLE match_results DROP COLUMN kills;
ALTER TABLE match_results DROP COLUMN deaths;
