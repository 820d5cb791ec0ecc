//! The client's copy of the world, rebuilt from the server's snapshots. Pure: no I/O, no clock.
//!
//! The same code replicates every game: a world is rows of the fields the game declares
//! ([`crate::GameProtocol::entity`]), and the delta engine and the checksum work from that
//! declaration, so a replica only needs to know which game it holds.
//!
//! Call order: for every snapshot the server sends, [`Replica::apply`]; then send
//! [`Replica::ack_tick`] in the next `Input`, so the server deltas against a world this replica
//! holds.

use std::collections::VecDeque;

use crate::{DeltaError, GameProtocol, Snapshot, Tick, World};

/// Worlds kept for baselines by default. The server deltas against the newest tick the client
/// acknowledged, which is a round trip old at most, so this is generous.
pub const DEFAULT_HISTORY: usize = 128;

/// Seconds of worlds the server keeps as baselines: it deltas against a world (and predicts
/// from one) at most this far behind the tick it sends, and answers an older acknowledgement
/// with a keyframe. A replica holding the newest `tick_rate × BASELINE_SPAN_S` worlds it applied
/// therefore never misses a baseline, however far behind the client reads: a backlogged client
/// receives a run of deltas against one old acknowledgement, and a shorter history loses it.
pub const BASELINE_SPAN_S: u16 = 2;

/// The history (in worlds) that covers [`BASELINE_SPAN_S`] at `tick_rate`.
pub fn baseline_span_ticks(tick_rate: u16) -> usize {
    usize::from(tick_rate.max(1)) * usize::from(BASELINE_SPAN_S)
}

/// The outcome of applying one snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// The snapshot's tick.
    pub tick: Tick,
    /// The snapshot was a keyframe (baseline [`Tick::ZERO`]).
    pub keyframe: bool,
    /// `Some(true)`: the snapshot carried a checksum and the rebuilt world matches it;
    /// `Some(false)`: it did not match (a desync); `None`: no checksum, or a stale snapshot.
    pub checksum: Option<bool>,
    /// The snapshot was not newer than one already applied, and was ignored.
    pub stale: bool,
}

/// How many snapshots of each kind this replica has handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplicaCounters {
    pub keyframes: u64,
    pub deltas: u64,
    pub checksums_verified: u64,
    pub desyncs: u64,
    pub stale: u64,
}

/// Why a snapshot could not be applied. The replica is unchanged and keeps acknowledging its
/// newest world, so the server's next delta is against a world it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReplicaError {
    #[error("snapshot {tick} is a delta against tick {baseline}, which this client does not hold")]
    MissingBaseline { tick: Tick, baseline: Tick },
    #[error("snapshot {tick} does not apply to its baseline: {source}")]
    Delta { tick: Tick, source: DeltaError },
    #[error("snapshot with the reserved tick 0")]
    ZeroTick,
}

/// The recent worlds this client has rebuilt, newest last.
///
/// A world whose checksum did not match is reported as a desync and not kept: it is never a
/// baseline and never acknowledged, so one desync does not spread to every later delta.
#[derive(Debug, Clone)]
pub struct Replica {
    game: &'static GameProtocol,
    /// Rebuilt worlds in increasing tick order, at most `capacity` of them.
    worlds: VecDeque<(Tick, World)>,
    capacity: usize,
    /// The newest tick seen, applied or desynced: older snapshots are stale.
    newest_seen: Option<Tick>,
    counters: ReplicaCounters,
    empty: World,
    /// A world no longer held, whose allocation the next snapshot is rebuilt into: a client
    /// applies a snapshot every tick, and allocating a world for each showed in its profile
    /// (fresh pages, zeroed by the kernel).
    spare: Option<World>,
    /// Forget worlds older than the baseline of each applied delta.
    prune: bool,
}

impl Replica {
    /// An empty replica of `game` keeping [`DEFAULT_HISTORY`] worlds.
    pub fn new(game: &'static GameProtocol) -> Replica {
        Replica::with_history(game, DEFAULT_HISTORY)
    }

    /// An empty replica of `game` keeping the newest `history` worlds (at least one).
    pub fn with_history(game: &'static GameProtocol, history: usize) -> Replica {
        let capacity = history.max(1);
        Replica {
            game,
            worlds: VecDeque::with_capacity(capacity.min(DEFAULT_HISTORY)),
            capacity,
            newest_seen: None,
            counters: ReplicaCounters::default(),
            // Every keyframe applies to the game's empty world, which fixes the schema of
            // every world rebuilt after it.
            empty: World::new(game.entity),
            spare: None,
            prune: false,
        }
    }

    /// The game this replica holds.
    pub fn game(&self) -> &'static GameProtocol {
        self.game
    }

    /// With `prune`, applying a delta forgets the worlds older than its baseline (or, for a
    /// delta that predicts, than its older baseline). That is safe for a client whose
    /// acknowledgements never go backwards (every input acknowledges the newest tick it has
    /// processed): the server deltas against the newest acknowledgement it has heard and
    /// predicts from the one before, so once a delta comes against tick B (predicting from A),
    /// no later one comes against a tick before B (or predicts from one before A). In steady play the replica then holds two or three worlds instead of its
    /// whole history, which is most of a bot's memory. Keyframes prune nothing: acks sent
    /// before one arrived may still be used after it.
    pub fn set_pruning(&mut self, prune: bool) {
        self.prune = prune;
    }

    /// Rebuilds the world of `snapshot` from its baseline and keeps it under its tick.
    pub fn apply(&mut self, snapshot: &Snapshot) -> Result<Applied, ReplicaError> {
        let header = snapshot.header;
        let tick = header.tick;
        let keyframe = header.baseline_tick.is_zero();
        if tick.is_zero() {
            return Err(ReplicaError::ZeroTick);
        }
        if self.newest_seen.is_some_and(|newest| tick <= newest) {
            self.counters.stale += 1;
            return Ok(Applied {
                tick,
                keyframe,
                checksum: None,
                stale: true,
            });
        }

        // The allocation the new world is rebuilt in; given back on every early return.
        let mut world = self
            .spare
            .take()
            .unwrap_or_else(|| World::new(self.game.entity));
        let baseline = if keyframe {
            &self.empty
        } else {
            match held_at(&self.worlds, header.baseline_tick) {
                Some(baseline) => baseline,
                None => {
                    self.spare = Some(world);
                    return Err(ReplicaError::MissingBaseline {
                        tick,
                        baseline: header.baseline_tick,
                    });
                }
            }
        };
        // A delta may predict positions from an older world this client also applied (it
        // acknowledged it before); the delta names it by its distance from the baseline.
        let delta = &snapshot.body.delta;
        let older_tick = delta
            .prediction
            .filter(|_| !keyframe)
            .map(|p| p.older_tick(header.baseline_tick));
        let applied = match (delta.prediction, older_tick) {
            (Some(p), Some(older_tick)) => {
                if i64::from(p.ahead()) != i64::from(tick.since(header.baseline_tick)) {
                    self.spare = Some(world);
                    return Err(ReplicaError::Delta {
                        tick,
                        source: DeltaError::WrongTick,
                    });
                }
                match held_at(&self.worlds, older_tick) {
                    Some(older) => crate::apply_predicted_into(older, baseline, delta, &mut world),
                    None => {
                        self.spare = Some(world);
                        return Err(ReplicaError::MissingBaseline {
                            tick,
                            baseline: older_tick,
                        });
                    }
                }
            }
            // A keyframe that predicts is refused here.
            _ => crate::apply_into(baseline, delta, &mut world),
        };
        if let Err(source) = applied {
            self.spare = Some(world);
            return Err(ReplicaError::Delta { tick, source });
        }

        if keyframe {
            self.counters.keyframes += 1;
        } else {
            self.counters.deltas += 1;
        }
        self.newest_seen = Some(tick);
        let checksum = snapshot
            .body
            .checksum
            .map(|expected| crate::checksum(&world) == expected);
        match checksum {
            Some(true) => self.counters.checksums_verified += 1,
            Some(false) => {
                self.counters.desyncs += 1;
                self.spare = Some(world);
                return Ok(Applied {
                    tick,
                    keyframe,
                    checksum,
                    stale: false,
                });
            }
            None => {}
        }
        if self.prune && !keyframe {
            let oldest_needed = older_tick.unwrap_or(header.baseline_tick);
            while self
                .worlds
                .front()
                .is_some_and(|(held, _)| *held < oldest_needed)
            {
                self.recycle_oldest();
            }
        }
        self.worlds.push_back((tick, world));
        while self.worlds.len() > self.capacity {
            self.recycle_oldest();
        }
        Ok(Applied {
            tick,
            keyframe,
            checksum,
            stale: false,
        })
    }

    /// Forgets the oldest world, keeping its allocation for the next snapshot.
    fn recycle_oldest(&mut self) {
        if let Some((_, world)) = self.worlds.pop_front() {
            self.spare = Some(world);
        }
    }

    /// The newest applied tick, [`Tick::ZERO`] if none: what the client sends as
    /// `Input::ack_tick` (and `Resume::ack_tick`).
    pub fn ack_tick(&self) -> Tick {
        self.worlds.back().map_or(Tick::ZERO, |(tick, _)| *tick)
    }

    /// The newest applied world; empty before the first snapshot.
    pub fn world(&self) -> &World {
        self.worlds.back().map_or(&self.empty, |(_, world)| world)
    }

    /// The world applied at `tick`, if it is still held.
    pub fn world_at(&self, tick: Tick) -> Option<&World> {
        held_at(&self.worlds, tick)
    }

    /// Keeps at most the newest `history` worlds (at least one) from now on, dropping the
    /// oldest at once if more are held. A client sizes it to the ticks of one round trip plus
    /// a margin: the server deltas against the newest tick it heard acknowledged.
    pub fn set_history(&mut self, history: usize) {
        self.capacity = history.max(1);
        while self.worlds.len() > self.capacity {
            self.worlds.pop_front();
        }
    }

    /// How many worlds are held.
    pub fn held(&self) -> usize {
        self.worlds.len()
    }

    pub fn counters(&self) -> ReplicaCounters {
        self.counters
    }
}

/// The world held for `tick`, if any.
fn held_at(worlds: &VecDeque<(Tick, World)>, tick: Tick) -> Option<&World> {
    // Baselines are nearly always among the newest few, so search from the back.
    worlds
        .iter()
        .rev()
        .find(|(held, _)| *held == tick)
        .map(|(_, world)| world)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::games::arena;
    use crate::sample;
    use crate::{Prediction, SnapshotBody, SnapshotHeader, diff, diff_predicted};

    const ARENA: &GameProtocol = &arena::PROTOCOL;

    /// The arena's empty world: the baseline of a keyframe.
    fn empty() -> World {
        World::new(ARENA.entity)
    }

    fn snapshot(tick: u32, baseline: u32, from: &World, to: &World, checksum: bool) -> Snapshot {
        Snapshot {
            header: SnapshotHeader {
                tick: Tick(tick),
                baseline_tick: Tick(baseline),
                last_input_seq: 0,
            },
            body: SnapshotBody {
                delta: diff(from, to),
                events: Vec::new(),
                checksum: checksum.then(|| crate::checksum(to)),
            },
        }
    }

    /// A delta at `tick` against `baseline`, predicting from `older`.
    fn predicted(
        (tick, baseline, older): (u32, u32, u32),
        worlds: (&World, &World, &World),
    ) -> Snapshot {
        let (older_world, from, to) = worlds;
        let prediction = Prediction::between(Tick(older), Tick(baseline), Tick(tick))
            .expect("older < baseline <= tick");
        Snapshot {
            header: SnapshotHeader {
                tick: Tick(tick),
                baseline_tick: Tick(baseline),
                last_input_seq: 0,
            },
            body: SnapshotBody {
                delta: diff_predicted(older_world, from, to, prediction),
                events: Vec::new(),
                checksum: Some(crate::checksum(to)),
            },
        }
    }

    /// Server worlds for ticks 1..=n: each moves a few more entities.
    fn server_worlds(n: u32) -> Vec<World> {
        (1..=n).map(|t| sample::world(40, t * 3)).collect()
    }

    #[test]
    fn keyframe_then_deltas_rebuild_the_server_worlds() {
        let worlds = server_worlds(5);
        let mut replica = Replica::new(ARENA);
        let applied = replica
            .apply(&snapshot(1, 0, &empty(), &worlds[0], true))
            .expect("keyframe applies");
        assert!(applied.keyframe, "baseline 0 is a keyframe");
        assert_eq!(applied.checksum, Some(true), "keyframe checksum verified");
        for t in 2..=5u32 {
            let base = &worlds[t as usize - 2];
            let cur = &worlds[t as usize - 1];
            let applied = replica
                .apply(&snapshot(t, t - 1, base, cur, t % 2 == 0))
                .expect("delta applies");
            assert!(!applied.keyframe, "tick {t} is a delta");
            assert!(!applied.stale, "tick {t} is new");
            assert_eq!(replica.world(), cur, "world after tick {t}");
            assert_eq!(replica.ack_tick(), Tick(t), "ack follows the newest tick");
        }
        let counters = replica.counters();
        assert_eq!(counters.keyframes, 1, "one keyframe");
        assert_eq!(counters.deltas, 4, "four deltas");
        assert_eq!(
            counters.checksums_verified, 3,
            "ticks 1, 2 and 4 had checksums"
        );
        assert_eq!(counters.desyncs, 0, "no desync");
    }

    #[test]
    fn a_delta_against_an_older_held_tick_applies() {
        let worlds = server_worlds(3);
        let mut replica = Replica::new(ARENA);
        replica
            .apply(&snapshot(1, 0, &empty(), &worlds[0], false))
            .expect("keyframe");
        replica
            .apply(&snapshot(2, 1, &worlds[0], &worlds[1], false))
            .expect("delta on 1");
        let applied = replica
            .apply(&snapshot(3, 1, &worlds[0], &worlds[2], true))
            .expect("delta on 1 again, as when the server has not yet seen ack 2");
        assert_eq!(
            applied.checksum,
            Some(true),
            "rebuilt from the older baseline"
        );
        assert_eq!(replica.world(), &worlds[2], "world at tick 3");
    }

    #[test]
    fn a_delta_predicting_from_an_older_held_tick_applies() {
        let worlds = server_worlds(5);
        let mut replica = Replica::new(ARENA);
        replica
            .apply(&snapshot(1, 0, &empty(), &worlds[0], false))
            .expect("keyframe");
        replica
            .apply(&snapshot(2, 1, &worlds[0], &worlds[1], false))
            .expect("delta on 1");
        let applied = replica
            .apply(&predicted((5, 2, 1), (&worlds[0], &worlds[1], &worlds[4])))
            .expect("delta on 2 predicting from 1");
        assert_eq!(applied.checksum, Some(true), "rebuilt exactly");
        assert_eq!(replica.world(), &worlds[4], "world at tick 5");
    }

    #[test]
    fn a_missing_older_baseline_is_a_missing_baseline() {
        let worlds = server_worlds(5);
        let mut replica = Replica::new(ARENA);
        replica
            .apply(&snapshot(2, 0, &empty(), &worlds[1], false))
            .expect("keyframe at 2");
        assert_eq!(
            replica.apply(&predicted((5, 2, 1), (&worlds[0], &worlds[1], &worlds[4]))),
            Err(ReplicaError::MissingBaseline {
                tick: Tick(5),
                baseline: Tick(1)
            }),
            "tick 1 was never applied"
        );
        assert_eq!(replica.ack_tick(), Tick(2), "ack unchanged");
    }

    #[test]
    fn a_predicted_delta_for_another_tick_is_refused() {
        let worlds = server_worlds(5);
        let mut replica = Replica::new(ARENA);
        replica
            .apply(&snapshot(1, 0, &empty(), &worlds[0], false))
            .expect("keyframe");
        replica
            .apply(&snapshot(2, 1, &worlds[0], &worlds[1], false))
            .expect("delta on 1");
        let mut wrong = predicted((5, 2, 1), (&worlds[0], &worlds[1], &worlds[4]));
        wrong.header.tick = Tick(4);
        assert_eq!(
            replica.apply(&wrong),
            Err(ReplicaError::Delta {
                tick: Tick(4),
                source: DeltaError::WrongTick
            }),
            "predicted three ticks on, sent as two"
        );
    }

    #[test]
    fn pruning_keeps_the_older_baseline_of_a_predicted_delta() {
        let worlds = server_worlds(6);
        let mut replica = Replica::new(ARENA);
        replica.set_pruning(true);
        replica
            .apply(&snapshot(1, 0, &empty(), &worlds[0], false))
            .expect("keyframe");
        replica
            .apply(&snapshot(2, 1, &worlds[0], &worlds[1], false))
            .expect("delta on 1");
        replica
            .apply(&snapshot(3, 2, &worlds[1], &worlds[2], false))
            .expect("delta on 2");
        replica
            .apply(&predicted((4, 3, 2), (&worlds[1], &worlds[2], &worlds[3])))
            .expect("delta on 3 predicting from 2");
        assert!(replica.world_at(Tick(2)).is_some(), "tick 2 still needed");
        assert!(replica.world_at(Tick(1)).is_none(), "tick 1 forgotten");
        replica
            .apply(&predicted((5, 3, 2), (&worlds[1], &worlds[2], &worlds[4])))
            .expect("the same pair again, before the server heard ack 4");
        replica
            .apply(&predicted((6, 4, 3), (&worlds[2], &worlds[3], &worlds[5])))
            .expect("delta on 4 predicting from 3");
        assert!(replica.world_at(Tick(2)).is_none(), "tick 2 forgotten");
        assert_eq!(replica.world(), &worlds[5], "rebuilt");
        assert_eq!(replica.counters().desyncs, 0, "every checksum matched");
    }

    #[test]
    fn a_checksum_mismatch_is_reported_as_a_desync_and_not_acknowledged() {
        let worlds = server_worlds(2);
        let mut replica = Replica::new(ARENA);
        replica
            .apply(&snapshot(1, 0, &empty(), &worlds[0], true))
            .expect("keyframe");
        let mut bad = snapshot(2, 1, &worlds[0], &worlds[1], true);
        bad.body.checksum = bad.body.checksum.map(|c| c ^ 1);
        let applied = replica
            .apply(&bad)
            .expect("a desync is a result, not an error");
        assert_eq!(applied.checksum, Some(false), "mismatch reported");
        assert_eq!(replica.counters().desyncs, 1, "desync counted");
        assert_eq!(
            replica.ack_tick(),
            Tick(1),
            "the desynced world is not acknowledged"
        );
        assert!(
            replica.world_at(Tick(2)).is_none(),
            "nor kept as a baseline"
        );
    }

    #[test]
    fn a_missing_baseline_is_an_error_and_changes_nothing() {
        let worlds = server_worlds(3);
        let mut replica = Replica::new(ARENA);
        replica
            .apply(&snapshot(1, 0, &empty(), &worlds[0], false))
            .expect("keyframe");
        let result = replica.apply(&snapshot(3, 2, &worlds[1], &worlds[2], false));
        assert_eq!(
            result,
            Err(ReplicaError::MissingBaseline {
                tick: Tick(3),
                baseline: Tick(2)
            }),
            "tick 2 was never applied"
        );
        assert_eq!(replica.ack_tick(), Tick(1), "ack unchanged");
        assert_eq!(replica.world(), &worlds[0], "world unchanged");
    }

    #[test]
    fn a_delta_that_does_not_fit_its_baseline_is_an_error() {
        let worlds = server_worlds(2);
        let mut replica = Replica::new(ARENA);
        replica
            .apply(&snapshot(1, 0, &empty(), &empty(), false))
            .expect("empty keyframe");
        let result = replica.apply(&snapshot(2, 1, &worlds[0], &worlds[1], false));
        assert!(
            matches!(result, Err(ReplicaError::Delta { tick: Tick(2), .. })),
            "changes to entities the baseline lacks: {result:?}"
        );
    }

    #[test]
    fn stale_snapshots_are_ignored() {
        let worlds = server_worlds(2);
        let mut replica = Replica::new(ARENA);
        replica
            .apply(&snapshot(1, 0, &empty(), &worlds[0], false))
            .expect("keyframe");
        replica
            .apply(&snapshot(2, 1, &worlds[0], &worlds[1], false))
            .expect("delta");
        for tick in [1, 2] {
            let applied = replica
                .apply(&snapshot(tick, 0, &empty(), &worlds[0], true))
                .expect("stale is not an error");
            assert!(applied.stale, "tick {tick} is not newer than 2");
            assert_eq!(applied.checksum, None, "stale snapshots are not checked");
        }
        assert_eq!(replica.world(), &worlds[1], "the newer world stays");
        assert_eq!(replica.counters().stale, 2, "both counted as stale");
        assert_eq!(
            replica.counters().keyframes,
            1,
            "stale keyframe not counted"
        );
    }

    #[test]
    fn history_is_bounded_and_drops_the_oldest() {
        let mut replica = Replica::with_history(ARENA, 4);
        let world = sample::world(5, 0);
        replica
            .apply(&snapshot(1, 0, &empty(), &world, false))
            .expect("keyframe");
        for t in 2..=10 {
            replica
                .apply(&snapshot(t, t - 1, &world, &world, false))
                .expect("empty delta");
        }
        assert_eq!(replica.held(), 4, "only four worlds kept");
        assert!(replica.world_at(Tick(6)).is_none(), "tick 6 dropped");
        assert!(replica.world_at(Tick(7)).is_some(), "tick 7 kept");
        assert_eq!(
            replica.apply(&snapshot(11, 6, &world, &world, false)),
            Err(ReplicaError::MissingBaseline {
                tick: Tick(11),
                baseline: Tick(6)
            }),
            "a dropped baseline is missing"
        );
    }

    #[test]
    fn a_baseline_span_of_history_survives_a_backlog_against_one_acknowledgement() {
        // A client that fell behind acknowledged tick 1 and then read nothing; the server sent
        // two seconds of deltas against tick 1 before it heard a newer ack.
        let span = baseline_span_ticks(30) as u32;
        let world = sample::world(5, 0);
        let mut replica = Replica::with_history(ARENA, baseline_span_ticks(30));
        replica.set_pruning(true);
        replica
            .apply(&snapshot(1, 0, &empty(), &world, false))
            .expect("keyframe");
        for t in 2..=span {
            replica
                .apply(&snapshot(t, 1, &world, &world, false))
                .unwrap_or_else(|e| panic!("tick {t} against tick 1: {e}"));
        }
        let mut short = Replica::with_history(ARENA, baseline_span_ticks(30) / 2);
        short.set_pruning(true);
        short
            .apply(&snapshot(1, 0, &empty(), &world, false))
            .expect("keyframe");
        let missing = (2..=span)
            .map(|t| short.apply(&snapshot(t, 1, &world, &world, false)))
            .find(Result::is_err);
        assert!(
            matches!(missing, Some(Err(ReplicaError::MissingBaseline { .. }))),
            "half the span loses the baseline: {missing:?}"
        );
    }

    #[test]
    fn shrinking_the_history_drops_the_oldest_worlds_at_once() {
        let mut replica = Replica::new(ARENA);
        let world = sample::world(5, 0);
        replica
            .apply(&snapshot(1, 0, &empty(), &world, false))
            .expect("keyframe");
        for t in 2..=10 {
            replica
                .apply(&snapshot(t, t - 1, &world, &world, false))
                .expect("empty delta");
        }
        replica.set_history(3);
        assert_eq!(replica.held(), 3, "trimmed to three");
        assert!(replica.world_at(Tick(7)).is_none(), "tick 7 dropped");
        assert_eq!(
            replica.ack_tick(),
            Tick(10),
            "the newest stays acknowledged"
        );
        replica
            .apply(&snapshot(11, 10, &world, &world, false))
            .expect("delta on the newest");
        assert_eq!(replica.held(), 3, "the new bound holds for later worlds");
    }

    #[test]
    fn pruning_forgets_worlds_older_than_each_delta_baseline() {
        let worlds = server_worlds(6);
        let mut replica = Replica::new(ARENA);
        replica.set_pruning(true);
        replica
            .apply(&snapshot(1, 0, &empty(), &worlds[0], false))
            .expect("keyframe");
        replica
            .apply(&snapshot(2, 1, &worlds[0], &worlds[1], false))
            .expect("delta on 1");
        replica
            .apply(&snapshot(3, 1, &worlds[0], &worlds[2], false))
            .expect("delta on 1 again");
        assert_eq!(replica.held(), 3, "tick 1 is still a baseline");
        replica
            .apply(&snapshot(4, 3, &worlds[2], &worlds[3], false))
            .expect("delta on 3");
        assert_eq!(replica.held(), 2, "ticks 3 and 4 held");
        assert!(replica.world_at(Tick(2)).is_none(), "tick 2 forgotten");
        replica
            .apply(&snapshot(5, 0, &empty(), &worlds[4], false))
            .expect("keyframe");
        assert_eq!(replica.held(), 3, "a keyframe forgets nothing");
        replica
            .apply(&snapshot(6, 4, &worlds[3], &worlds[5], true))
            .expect("an ack sent before the keyframe still works");
        assert_eq!(replica.world(), &worlds[5], "rebuilt");
    }

    #[test]
    fn an_empty_replica_acks_zero_and_shows_an_empty_world() {
        let replica = Replica::new(ARENA);
        assert_eq!(replica.ack_tick(), Tick::ZERO, "nothing applied");
        assert!(replica.world().is_empty(), "no entities");
    }

    #[test]
    fn a_snapshot_at_tick_zero_is_refused() {
        let mut replica = Replica::new(ARENA);
        assert_eq!(
            replica.apply(&snapshot(0, 0, &empty(), &empty(), false)),
            Err(ReplicaError::ZeroTick),
            "tick 0 is reserved"
        );
    }

    #[test]
    fn ticks_order_across_the_wrap() {
        let world = sample::world(3, 0);
        let mut replica = Replica::new(ARENA);
        replica
            .apply(&snapshot(u32::MAX, 0, &empty(), &world, false))
            .expect("keyframe at MAX");
        let applied = replica
            .apply(&snapshot(1, u32::MAX, &world, &world, true))
            .expect("tick 1 after the wrap is newer");
        assert!(!applied.stale, "wrapped tick is not stale");
        assert_eq!(replica.ack_tick(), Tick(1), "ack wrapped");
    }

    /// A cycles world at tick `t`: two cycles riding east and south, leaving a trail cell per
    /// tick behind them.
    fn cycles_world(t: i16) -> World {
        use crate::NetId;
        use crate::games::cycles::{CyclesEntity, CyclesKind, Heading};
        let cycle = |owner, x, y, heading| CyclesEntity {
            kind: CyclesKind::Cycle,
            owner,
            x,
            y,
            heading,
            alive: true,
        };
        let mut entities = vec![
            (NetId::new(1, 1), cycle(1, 2 + t, 5, Heading::East)),
            (NetId::new(2, 1), cycle(2, 9, 1 + t, Heading::South)),
        ];
        for k in 0..t {
            let trail = |owner, x, y| CyclesEntity {
                kind: CyclesKind::Trail,
                ..cycle(owner, x, y, Heading::East)
            };
            let index = 10 + 2 * k as u32;
            entities.push((NetId::new(index, 1), trail(1, 2 + k, 5)));
            entities.push((NetId::new(index + 1, 1), trail(2, 9, 1 + k)));
        }
        World::from_entities(entities)
    }

    #[test]
    fn another_game_replicates_through_the_same_code() {
        use crate::games::cycles;
        let game: &'static GameProtocol = &cycles::PROTOCOL;
        let worlds: Vec<World> = (0..6).map(cycles_world).collect();
        let mut replica = Replica::new(game);
        replica
            .apply(&snapshot(1, 0, &World::new(game.entity), &worlds[0], true))
            .expect("keyframe");
        replica
            .apply(&snapshot(2, 1, &worlds[0], &worlds[1], true))
            .expect("delta on 1");
        replica
            .apply(&predicted((3, 2, 1), (&worlds[0], &worlds[1], &worlds[2])))
            .expect("delta on 2 predicting the cycles from 1");
        replica
            .apply(&predicted((5, 3, 2), (&worlds[1], &worlds[2], &worlds[4])))
            .expect("two ticks ahead");
        assert_eq!(replica.world(), &worlds[4], "the server's cycles world");
        assert_eq!(replica.counters().desyncs, 0, "every checksum matched");
        assert_eq!(replica.counters().checksums_verified, 4, "all verified");
        assert_eq!(
            replica.world().entities::<cycles::CyclesEntity>().count(),
            10,
            "typed rows read back: two cycles and eight trail cells"
        );
    }
}
