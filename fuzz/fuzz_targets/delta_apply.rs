//! Applying hostile deltas against baselines of each shipped game, directly and through a
//! client's replica: never a panic; whatever applies is a well-formed world of the game that the
//! server's own diff reproduces.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::events::EventFeed;
use shared::replica::Replica;
use shared::{
    Delta, Snapshot, SnapshotBody, SnapshotHeader, Tick, World, apply, apply_predicted, codec,
    diff, diff_predicted, keyframe,
};
use tickwire_fuzz::{game, section};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let game = game(selector);
    let empty = World::new(game.entity);
    let (older_bytes, rest) = section(rest);
    let (base_bytes, rest) = section(rest);
    let Ok(snapshot) = codec::decode_value::<Snapshot>(rest, codec::MAX_SERVER_MESSAGE) else {
        return;
    };
    // Baselines are worlds a client could hold: built by applying deltas, as it builds them.
    let older = decode_delta(older_bytes)
        .and_then(|d| apply(&empty, &d).ok())
        .unwrap_or_else(|| empty.clone());
    let base = decode_delta(base_bytes)
        .and_then(|d| apply(&older, &d).ok())
        .unwrap_or_else(|| older.clone());
    let delta = &snapshot.body.delta;

    let plain = apply(&base, delta);
    if let Ok(world) = &plain {
        check_world(world);
        assert_eq!(
            apply(&base, &diff(&base, world)).as_ref(),
            Ok(world),
            "re-diff"
        );
    }
    let predicted = apply_predicted(&older, &base, delta);
    if let Ok(world) = &predicted {
        check_world(world);
        let again = match delta.prediction {
            Some(p) => diff_predicted(&older, &base, world, p),
            None => diff(&base, world),
        };
        let again = roundtrip(&again);
        assert_eq!(
            apply_predicted(&older, &base, &again).as_ref(),
            Ok(world),
            "re-diff with the same prediction"
        );
    }
    if delta.prediction.is_none() {
        assert_eq!(
            plain, predicted,
            "no prediction: the older baseline is unused"
        );
    }

    replica(&older, &base, &snapshot, plain.ok());
});

fn decode_delta(bytes: &[u8]) -> Option<Delta> {
    codec::decode_value(bytes, codec::MAX_SERVER_MESSAGE).ok()
}

fn roundtrip(delta: &Delta) -> Delta {
    let back = decode_delta(&codec::encode_value(delta)).expect("an encoded delta decodes");
    assert_eq!(&back, delta, "codec round trip");
    back
}

/// One entity per slot, in slot order, every row admitted by the game's declaration.
fn check_world(world: &World) {
    let schema = world.schema();
    assert!(
        world.ids().windows(2).all(|w| w[0].index < w[1].index),
        "slots strictly increasing"
    );
    for (_, row) in world.iter() {
        assert!(schema.admits(row), "row {row:?} admitted");
    }
    assert_eq!(
        world.values().len(),
        world.len() * schema.len(),
        "row table"
    );
    let _ = shared::checksum(world);
}

/// The client's path: a replica holding the older baseline and the baseline applies the
/// snapshot; what it keeps is what `apply` gave, and the event feed passes events on once.
fn replica(older: &World, base: &World, snapshot: &Snapshot, plain: Option<World>) {
    let header = snapshot.header;
    let mut replica = Replica::new(game_of(base));
    let mut feed = EventFeed::new();
    let frame = |tick: Tick, baseline: Tick, delta: Delta| Snapshot {
        header: SnapshotHeader {
            tick,
            baseline_tick: baseline,
            last_input_seq: 0,
        },
        body: SnapshotBody {
            delta,
            events: Vec::new(),
            checksum: None,
        },
    };
    let base_tick = header.baseline_tick;
    if !base_tick.is_zero() {
        // The older baseline where the delta predicts from, else the tick before.
        let older_tick = snapshot
            .body
            .delta
            .prediction
            .map_or(Tick(base_tick.0.wrapping_sub(1)), |p| {
                p.older_tick(base_tick)
            });
        let base_frame = if !older_tick.is_zero() && older_tick < base_tick {
            let first = replica.apply(&frame(older_tick, Tick::ZERO, keyframe(older)));
            assert!(
                first.is_ok(),
                "a keyframe of a valid world applies: {first:?}"
            );
            frame(base_tick, older_tick, diff(older, base))
        } else {
            frame(base_tick, Tick::ZERO, keyframe(base))
        };
        let second = replica.apply(&base_frame);
        assert!(second.is_ok(), "a diff of valid worlds applies: {second:?}");
        let _ = feed.fresh(base_tick, Tick::ZERO, Vec::new());
    }
    let held = replica.world().clone();
    match replica.apply(snapshot) {
        Ok(applied) => {
            if applied.stale || applied.checksum == Some(false) {
                assert_eq!(
                    replica.world(),
                    &held,
                    "a stale or desynced world is not kept"
                );
            } else {
                check_world(replica.world());
                if snapshot.body.delta.prediction.is_none() && !base_tick.is_zero() {
                    assert_eq!(Some(replica.world()), plain.as_ref(), "as apply gave");
                }
                let events = snapshot.body.events.clone();
                for e in feed.fresh(header.tick, base_tick, events) {
                    assert!(e.tick <= header.tick, "an event is not after its snapshot");
                }
            }
        }
        Err(_) => assert_eq!(replica.world(), &held, "a refused snapshot changes nothing"),
    }
}

fn game_of(world: &World) -> &'static shared::GameProtocol {
    shared::games::shipped()
        .into_iter()
        .find(|g| shared::Schema::same(g.entity, world.schema()))
        .expect("a shipped game's world")
}
