-- Password attempts per username, counted in the shared database so that the limit holds across
-- API nodes (on PostgreSQL; a single SQLite node counts in memory). One row per username and
-- fixed one-minute window; old windows are purged.

CREATE TABLE auth_attempts (
    key           TEXT PRIMARY KEY,
    window_start  BIGINT NOT NULL,
    attempts      BIGINT NOT NULL
);
CREATE INDEX auth_attempts_by_window ON auth_attempts (window_start);
