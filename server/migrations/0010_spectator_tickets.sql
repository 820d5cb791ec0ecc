-- Spectator tickets: a join ticket for a read-only seat. It takes no seat in the lobby; it may
-- follow one player's view (the player id in the match) instead of seeing the whole world.
ALTER TABLE join_tickets ADD COLUMN spectate BIGINT NOT NULL DEFAULT 0;
ALTER TABLE join_tickets ADD COLUMN follow_player BIGINT;
