//! Re-simulating a replay: the game is started from the recorded seed and map and driven with
//! the recorded calls in the recorded order, and its state hash is compared on every tick that
//! has one recorded. The same run can also rebuild what a spectator would have been sent
//! ([`playback`]).

use std::collections::BTreeMap;

use shared::protocol::{
    MatchEnd, PlayerResult, ServerMessage, SnapshotBody, SnapshotHeader, TimedEvent, Welcome,
};
use shared::{Event, Tick, World, codec, diff, keyframe};

use super::format::{DecodeError, Op, Replay};
use crate::game::{AnyGame, Games, JoinInfo};

/// What a successful verification went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The tick the match ended on.
    pub ticks: Tick,
    /// State hashes compared, the final one included.
    pub hashes_checked: usize,
    pub final_hash: u64,
    /// Joins, leaves and inputs re-applied.
    pub joins: usize,
    pub leaves: usize,
    pub inputs: usize,
}

/// Why a replay does not re-simulate to what was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("the replay's game {0:?} is not served here")]
    UnknownGame(String),
    #[error("game {game:?} has no map {map:?} here")]
    UnknownMap { game: String, map: String },
    #[error(
        "{game}'s declarations differ from the recording's (protocol hash {recorded:016x}, here \
         {current:016x}): it cannot be trusted to re-simulate the same way"
    )]
    ProtocolMismatch {
        game: String,
        recorded: u64,
        current: u64,
    },
    #[error(
        "{game}'s game.toml or its map {map:?} differ from the recording's: it cannot be trusted \
         to re-simulate the same way"
    )]
    AssetsMismatch { game: String, map: String },
    #[error("tick {tick}: {game} does not admit player {player}'s input {values:?}")]
    BadInput {
        tick: Tick,
        game: String,
        player: u32,
        values: Vec<i32>,
    },
    #[error("tick {tick}: the game refused player {player}, whom the match seated: {reason}")]
    JoinRefused {
        tick: Tick,
        player: u32,
        reason: String,
    },
    #[error(
        "tick {tick}: the state hash differs (recorded {recorded:016x}, re-simulated {replayed:016x})"
    )]
    Mismatch {
        tick: Tick,
        recorded: u64,
        replayed: u64,
    },
    #[error("the replay contradicts itself: {0}")]
    Inconsistent(String),
}

/// Re-simulates `replay` and compares every recorded hash; the first that differs is the error.
pub fn verify(replay: &Replay, games: &Games) -> Result<Verified, ReplayError> {
    simulate(replay, games, &mut ()).map(|(verified, _)| verified)
}

/// Re-simulates `replay` (verifying it on the way) into the stream a spectator of the whole
/// match would have read: records of `[u32 little-endian length][encoded ServerMessage]`, first
/// a `Welcome` (player 0), then one `Snapshot` per tick, each a delta against the tick before
/// (the first a keyframe) with that tick's events and the world's checksum, then `MatchEnd`.
pub fn playback(replay: &Replay, games: &Games) -> Result<Vec<u8>, ReplayError> {
    let mut out = Playback {
        replay,
        out: Vec::new(),
        previous: None,
    };
    let (_, game) = simulate(replay, games, &mut out)?;
    let names: BTreeMap<u32, (i64, &str)> = replay
        .players()
        .map(|(player, account_id, username)| (player, (account_id, username)))
        .collect();
    let stats = game.protocol().stats;
    let results = game
        .results()
        .into_iter()
        .filter_map(|r| {
            let (account_id, username) = names.get(&r.player)?;
            Some(PlayerResult {
                player_id: r.player,
                account_id: *account_id,
                username: username.to_string(),
                score: r.score,
                stats: stats
                    .iter()
                    .zip(&r.stats)
                    .map(|(name, v)| (name.to_string(), *v))
                    .collect(),
            })
        })
        .collect();
    let mut out = out.out;
    record(&mut out, |buf| {
        codec::encode_into(&ServerMessage::MatchEnd(MatchEnd { results }), buf);
    });
    Ok(out)
}

/// Sees a re-simulation go by.
trait Observer {
    /// The game as started, before any recorded call.
    fn start(&mut self, _game: &dyn AnyGame) {}
    /// The game after stepping to `tick`, which produced `events` (joins and leaves since the
    /// last step first, as the driver sends them).
    fn tick(&mut self, _tick: Tick, _game: &dyn AnyGame, _events: Vec<Event>) {}
}

impl Observer for () {}

/// Runs the replay; answers the summary and the game as it ended.
fn simulate(
    replay: &Replay,
    games: &Games,
    observer: &mut dyn Observer,
) -> Result<(Verified, Box<dyn AnyGame>), ReplayError> {
    let info = games
        .get(&replay.game)
        .ok_or_else(|| ReplayError::UnknownGame(replay.game.clone()))?;
    if info.hash != replay.game_hash {
        return Err(ReplayError::ProtocolMismatch {
            game: replay.game.clone(),
            recorded: replay.game_hash,
            current: info.hash,
        });
    }
    let unknown_map = || ReplayError::UnknownMap {
        game: replay.game.clone(),
        map: replay.map.clone(),
    };
    if super::assets_hash(info, &replay.map).ok_or_else(unknown_map)? != replay.assets_hash {
        return Err(ReplayError::AssetsMismatch {
            game: replay.game.clone(),
            map: replay.map.clone(),
        });
    }
    let mut game = games
        .start(&replay.game, &replay.map, replay.seed)
        .ok_or_else(unknown_map)?;
    if replay.hash_interval == 0 {
        return Err(ReplayError::Inconsistent(
            "a hash interval of 0 ticks".into(),
        ));
    }
    observer.start(game.as_ref());

    let mut checkpoints = replay.hashes.iter().peekable();
    let mut verified = Verified {
        ticks: Tick::ZERO,
        hashes_checked: 0,
        final_hash: 0,
        joins: 0,
        leaves: 0,
        inputs: 0,
    };
    let mut tick = Tick::ZERO;
    // Joins and leaves since the last step: the driver sends them with the next tick.
    let mut pending: Vec<Event> = Vec::new();
    for op in &replay.ops {
        match op {
            Op::Join {
                player,
                account_id,
                username,
            } => {
                let who = JoinInfo {
                    account_id: *account_id,
                    username,
                };
                game.join(*player, &who)
                    .map_err(|refused| ReplayError::JoinRefused {
                        tick: tick.next(),
                        player: *player,
                        reason: refused.0,
                    })?;
                pending.push(Event::PlayerJoined {
                    player: *player,
                    name: username.clone(),
                });
                verified.joins += 1;
            }
            Op::Leave { player } => {
                game.leave(*player);
                pending.push(Event::PlayerLeft { player: *player });
                verified.leaves += 1;
            }
            Op::Input { player, values } => {
                if !game.input(*player, values) {
                    return Err(ReplayError::BadInput {
                        tick: tick.next(),
                        game: replay.game.clone(),
                        player: *player,
                        values: values.as_slice().to_vec(),
                    });
                }
                verified.inputs += 1;
            }
            Op::Steps(n) => {
                for _ in 0..*n {
                    // Checked before stepping, so a damaged count cannot run for ages.
                    if tick.0 >= replay.final_tick.0 {
                        return Err(ReplayError::Inconsistent(format!(
                            "more steps than the final tick {}",
                            replay.final_tick
                        )));
                    }
                    let mut events = std::mem::take(&mut pending);
                    game.step(&mut events);
                    tick = tick.next();
                    observer.tick(tick, game.as_ref(), events);
                    if tick.0.is_multiple_of(replay.hash_interval) {
                        let recorded = match checkpoints.next() {
                            Some(c) if c.tick == tick => c.hash,
                            _ => {
                                return Err(ReplayError::Inconsistent(format!(
                                    "no state hash recorded for tick {tick}"
                                )));
                            }
                        };
                        check(tick, recorded, game.state_hash())?;
                        verified.hashes_checked += 1;
                    }
                }
            }
        }
    }
    if tick != replay.final_tick {
        return Err(ReplayError::Inconsistent(format!(
            "the steps end on tick {tick}, the replay says {}",
            replay.final_tick
        )));
    }
    if let Some(extra) = checkpoints.next() {
        return Err(ReplayError::Inconsistent(format!(
            "a state hash recorded for tick {}, which was never reached",
            extra.tick
        )));
    }
    let final_hash = game.state_hash();
    check(tick, replay.final_hash, final_hash)?;
    verified.hashes_checked += 1;
    verified.ticks = tick;
    verified.final_hash = final_hash;
    Ok((verified, game))
}

fn check(tick: Tick, recorded: u64, replayed: u64) -> Result<(), ReplayError> {
    if recorded == replayed {
        Ok(())
    } else {
        Err(ReplayError::Mismatch {
            tick,
            recorded,
            replayed,
        })
    }
}

/// Builds the spectator stream of [`playback`] as the re-simulation goes.
struct Playback<'a> {
    replay: &'a Replay,
    out: Vec<u8>,
    /// The world of the tick before, the next delta's baseline.
    previous: Option<(Tick, World)>,
}

impl Observer for Playback<'_> {
    fn start(&mut self, game: &dyn AnyGame) {
        let replay = self.replay;
        let welcome = ServerMessage::Welcome(Welcome {
            player_id: 0,
            match_id: replay.match_id.clone(),
            game: replay.game.clone(),
            game_hash: replay.game_hash,
            tick_rate: replay.tick_rate,
            map: replay.map.clone(),
            reconnect_token: String::new(),
            reconnect_grace_s: 0,
            tick: Tick::ZERO,
            ticks_remaining: game.ticks_remaining(),
            players: Vec::new(),
        });
        record(&mut self.out, |buf| codec::encode_into(&welcome, buf));
    }

    fn tick(&mut self, tick: Tick, game: &dyn AnyGame, events: Vec<Event>) {
        let world = game.world();
        let (baseline_tick, delta) = match &self.previous {
            Some((baseline, before)) => (*baseline, diff(before, &world)),
            None => (Tick::ZERO, keyframe(&world)),
        };
        let body = codec::encode_snapshot_body(&SnapshotBody {
            delta,
            events: events
                .into_iter()
                .map(|event| TimedEvent { ago: 0, event })
                .collect(),
            checksum: Some(shared::checksum(&world)),
        });
        let header = SnapshotHeader {
            tick,
            baseline_tick,
            last_input_seq: 0,
        };
        record(&mut self.out, |buf| {
            codec::snapshot_frame(&header, &body, buf)
        });
        self.previous = Some((tick, world));
    }
}

/// Appends one record: the message `write` appends, behind its length as a little-endian u32.
fn record(out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    write(out);
    // A message is at most `codec::MAX_SERVER_MESSAGE`, far below 4 GiB.
    let len = u32::try_from(out.len() - start - 4).unwrap_or(u32::MAX);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
}

/// Splits a [`playback`] stream into its messages, as a browser would.
pub fn read_playback(mut bytes: &[u8]) -> Result<Vec<ServerMessage>, codec::CodecError> {
    let mut messages = Vec::new();
    while !bytes.is_empty() {
        let Some((len, rest)) = bytes.split_first_chunk::<4>() else {
            return Err(codec::CodecError::Malformed);
        };
        let len = u32::from_le_bytes(*len) as usize;
        if rest.len() < len {
            return Err(codec::CodecError::Malformed);
        }
        let (message, rest) = rest.split_at(len);
        messages.push(codec::decode_server(message)?);
        bytes = rest;
    }
    Ok(messages)
}
