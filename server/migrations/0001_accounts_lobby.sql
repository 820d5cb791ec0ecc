-- Accounts, lobby and join tickets. One schema for SQLite and PostgreSQL: only types and syntax
-- both accept (BIGINT, TEXT, ON CONFLICT, RETURNING). Times are Unix milliseconds.

CREATE TABLE accounts (
    id            BIGINT PRIMARY KEY,
    username      TEXT NOT NULL,
    -- lower-cased username: the unique key, so names are unique case-insensitively
    username_key  TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    device_id     TEXT UNIQUE,
    guest         BIGINT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'player',
    created_at    BIGINT NOT NULL,
    banned_until  BIGINT,
    ban_reason    TEXT
);

CREATE TABLE matches (
    id          TEXT PRIMARY KEY,
    map         TEXT NOT NULL,
    public      BIGINT NOT NULL,
    capacity    BIGINT NOT NULL,
    -- seats taken; only changed by the conditional UPDATE that keeps it <= capacity
    players     BIGINT NOT NULL DEFAULT 0,
    state       TEXT NOT NULL,
    node_id     TEXT,
    created_by  BIGINT,
    created_at  BIGINT NOT NULL,
    ended_at    BIGINT
);
CREATE INDEX matches_by_state ON matches (state, public, players);

CREATE TABLE match_seats (
    match_id   TEXT NOT NULL,
    account_id BIGINT NOT NULL,
    joined_at  BIGINT NOT NULL,
    PRIMARY KEY (match_id, account_id)
);
CREATE INDEX match_seats_by_account ON match_seats (account_id);

CREATE TABLE join_tickets (
    id         TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    match_id   TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX join_tickets_by_expiry ON join_tickets (expires_at);
