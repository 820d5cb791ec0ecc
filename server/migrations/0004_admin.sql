-- The admin audit log: one row per admin action (reads are not logged). Ids are made by the
-- server: Unix milliseconds * 1024 plus a small random part, bumped to stay increasing within
-- a process, so ordering by id is newest-first without a sequence (which SQLite lacks) and the
-- id doubles as the pagination cursor. `detail` is a JSON object as text.
CREATE TABLE admin_audit (
    id     BIGINT PRIMARY KEY,
    at     BIGINT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
