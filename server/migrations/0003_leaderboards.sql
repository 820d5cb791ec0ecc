-- Leaderboard records, versioned: a change closes the current row (valid_to) and adds a new one,
-- so a paginated read can page through the board as it stood when the first page was read.
-- Closed rows are deleted once no cursor can still need them.
CREATE TABLE leaderboard_records (
    board_id        TEXT NOT NULL,
    season          BIGINT NOT NULL,
    account_id      BIGINT NOT NULL,
    version         BIGINT NOT NULL,
    username        TEXT NOT NULL,
    score           BIGINT NOT NULL,
    -- lower sorts first whatever the board's order (score for ascending boards, -score otherwise)
    sort_key        BIGINT NOT NULL,
    -- when the record reached its value: earlier achievers rank first among ties
    achieved_at     BIGINT NOT NULL,
    valid_from      BIGINT NOT NULL,
    valid_to        BIGINT,
    -- the board version that last touched the row (made or closed it), for rank caches
    changed_version BIGINT NOT NULL,
    PRIMARY KEY (board_id, season, account_id, version)
);
CREATE INDEX leaderboard_rank ON leaderboard_records (board_id, season, sort_key, achieved_at, account_id);
CREATE INDEX leaderboard_changes ON leaderboard_records (board_id, season, changed_version);

-- One row per board season: bumped by every write, which also serialises writers of a board.
CREATE TABLE leaderboard_versions (
    board_id TEXT NOT NULL,
    season   BIGINT NOT NULL,
    version  BIGINT NOT NULL,
    PRIMARY KEY (board_id, season)
);
