-- Match results, written by the server in one transaction when a match ends.
CREATE TABLE match_results (
    match_id   TEXT NOT NULL,
    account_id BIGINT NOT NULL,
    player_id  BIGINT NOT NULL,
    username   TEXT NOT NULL,
    score      BIGINT NOT NULL,
    kills      BIGINT NOT NULL,
    deaths     BIGINT NOT NULL,
    ended_at   BIGINT NOT NULL,
    PRIMARY KEY (match_id, account_id)
);
CREATE INDEX match_results_by_account ON match_results (account_id, ended_at);
