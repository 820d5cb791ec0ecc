-- Several nodes on one PostgreSQL: game nodes register here and heart-beat, the lobby places
-- matches on the least-loaded live one, and API nodes leave events (bans, kicks, ends) for the
-- game nodes. On SQLite the single node registers itself the same way, so there is one code path.

CREATE TABLE nodes (
    id            TEXT PRIMARY KEY,
    -- the realtime WebSocket URL clients are sent to (wss://host:port/v1/realtime)
    url           TEXT NOT NULL,
    region        TEXT NOT NULL,
    -- the games it serves, as ",arena,cycles," so a LIKE finds one on both databases
    games         TEXT NOT NULL,
    -- players it takes before placement passes it over
    capacity      BIGINT NOT NULL,
    -- load as the node last reported it (placement counts seats from `matches` instead)
    players       BIGINT NOT NULL DEFAULT 0,
    matches       BIGINT NOT NULL DEFAULT 0,
    -- `live` or `draining`
    state         TEXT NOT NULL,
    started_at    BIGINT NOT NULL,
    -- wall-clock Unix milliseconds of the node's last heartbeat
    heartbeat_at  BIGINT NOT NULL
);

-- Ended matches are kept (results, history), so what the lobby and the upkeep ask about live
-- matches is served by partial indexes over live ones only (the queries spell the predicate
-- the same way, as a literal, so PostgreSQL can use them). Without them, four hours of play at
-- 100,000 players (500,000 ended matches) took placement from 10 ms to 0.8 s and quick-join to
-- 25/s (server/benches/cluster.rs).
CREATE INDEX matches_live_by_node ON matches (node_id, players) WHERE state <> 'ended';
CREATE INDEX matches_joinable ON matches (game, players DESC, created_at, id)
    WHERE state <> 'ended' AND public = 1;
CREATE INDEX matches_live_by_time ON matches (created_at) WHERE state <> 'ended';
-- It held `players`, so every seat taken rewrote it (no HOT update), and nothing used it.
DROP INDEX matches_by_state;
-- 1 for a match ended without results because its node died (or it never started on a node
-- that went away): its simulation is gone. A match ended normally has 0 and its results.
ALTER TABLE matches ADD COLUMN abandoned BIGINT NOT NULL DEFAULT 0;

-- What an API node asks of whichever game node hosts a player or a match. The row is the truth;
-- on PostgreSQL a NOTIFY wakes the game nodes at once, and they also poll (a missed
-- notification, a reconnecting listener). Rows are purged after a while.
CREATE TABLE cluster_events (
    id          TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    -- `ban`, `kick` or `end`
    kind        TEXT NOT NULL,
    account_id  BIGINT,
    match_id    TEXT,
    reason      TEXT NOT NULL,
    -- the node that published it (it has acted on it already)
    origin      TEXT NOT NULL
);
CREATE INDEX cluster_events_by_time ON cluster_events (at);
