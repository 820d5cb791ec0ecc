-- Replays: one per ended match, the bincode bytes of server/src/replay/format.rs, stored with the
-- match's results and deleted after the configured retention. The same table as
-- migrations/sqlite/0009_replays.sql but for the bytes' type: a BYTEA here, a BLOB there (no
-- type name gives bytes on both; see Store::connect).
CREATE TABLE replays (
    match_id    TEXT PRIMARY KEY REFERENCES matches (id) ON DELETE CASCADE,
    bytes       BYTEA NOT NULL,
    created_ms  BIGINT NOT NULL
);
-- The retention's prune.
CREATE INDEX replays_by_age ON replays (created_ms);
