//! Proptest strategies shared by this crate's tests.

use std::collections::BTreeMap;

use proptest::collection::vec;
use proptest::prelude::*;

use crate::delta::Prediction;
use crate::games::arena::{ArenaEntity, ArenaKind};
use crate::world::{NetId, World};

pub(crate) use crate::sample::world as world_with;

pub(crate) fn arb_kind() -> impl Strategy<Value = ArenaKind> {
    prop_oneof![
        Just(ArenaKind::Player),
        Just(ArenaKind::Projectile),
        Just(ArenaKind::Orb),
        Just(ArenaKind::Drone),
    ]
}

pub(crate) fn arb_state() -> impl Strategy<Value = ArenaEntity> {
    (
        arb_kind(),
        any::<u32>(),
        any::<i32>(),
        any::<i32>(),
        any::<u16>(),
        any::<i32>(),
        any::<i32>(),
        0u8..=7,
    )
        .prop_map(
            |(kind, owner, x, y, aim, health, score, flags)| ArenaEntity {
                kind,
                owner,
                x,
                y,
                aim,
                health,
                score,
                flags,
            },
        )
}

/// A small id space so that random worlds share, add and drop ids, and reuse slots with a new
/// version.
pub(crate) fn arb_id() -> impl Strategy<Value = NetId> {
    (0u32..64, 1u32..4).prop_map(|(i, v)| NetId::new(i, v))
}

pub(crate) fn arb_world() -> impl Strategy<Value = World> {
    vec((arb_id(), arb_state()), 0..48).prop_map(World::from_entities::<ArenaEntity>)
}

/// What a churn step does to one entity.
#[derive(Debug, Clone)]
pub(crate) enum Churn {
    Keep,
    Remove,
    /// Moves by this much, whatever the ticks.
    Move(i32, i32),
    Replace(ArenaEntity),
    /// Moves at this velocity per tick: a straight line across steps.
    Glide(i32, i32),
}

impl Churn {
    /// The entity after this step of `ticks` ticks, or `None` if removed.
    fn step(&self, (id, e): (NetId, ArenaEntity), ticks: i32) -> Option<(NetId, ArenaEntity)> {
        let mut e = e;
        match *self {
            Churn::Keep => {}
            Churn::Remove => return None,
            Churn::Move(dx, dy) => {
                e.x = e.x.wrapping_add(dx);
                e.y = e.y.wrapping_add(dy);
            }
            Churn::Replace(s) => e = s,
            Churn::Glide(vx, vy) => {
                e.x = e.x.wrapping_add(vx.wrapping_mul(ticks));
                e.y = e.y.wrapping_add(vy.wrapping_mul(ticks));
            }
        }
        Some((id, e))
    }
}

fn arb_churn() -> impl Strategy<Value = Churn> {
    prop_oneof![
        4 => Just(Churn::Keep),
        1 => Just(Churn::Remove),
        4 => (-300i32..300, -300i32..300).prop_map(|(dx, dy)| Churn::Move(dx, dy)),
        1 => arb_state().prop_map(Churn::Replace),
        3 => (-300i32..300, -300i32..300).prop_map(|(vx, vy)| Churn::Glide(vx, vy)),
    ]
}

/// A baseline and a later world derived from it by random churn: entities kept, removed, moved,
/// changed in any field, plus new entities (some in reused slots).
pub(crate) fn arb_world_pair() -> impl Strategy<Value = (World, World)> {
    arb_world().prop_flat_map(|base| {
        let n = base.len();
        (
            Just(base),
            vec(arb_churn(), n),
            vec((arb_id(), arb_state()), 0..16),
        )
            .prop_map(|(base, churn, added)| {
                let mut next: Vec<_> = base
                    .entities::<ArenaEntity>()
                    .zip(churn)
                    .filter_map(|(entry, c)| c.step(entry, 1))
                    .collect();
                next.extend(added);
                (base, World::from_entities(next))
            })
    })
}

/// An older baseline, a baseline `span` ticks later and a current world `ahead` ticks after
/// that, with a [`Prediction`] saying so. Between each pair, entities are kept, removed, moved,
/// replaced, created (some in reused slots, some with the id of an entity they replace) or glide
/// in straight lines; an entity gliding in both steps keeps its velocity, so it is exactly
/// predicted (unless its coordinates wrap).
pub(crate) fn arb_world_triple() -> impl Strategy<Value = (World, World, World, Prediction)> {
    (arb_world(), 1u32..=6, 0u32..=6).prop_flat_map(|(older, span, ahead)| {
        let n = older.len();
        (
            Just(older),
            Just(span),
            Just(ahead),
            vec((arb_churn(), arb_churn()), n),
            vec((arb_id(), arb_state(), arb_churn()), 0..12),
            vec((arb_id(), arb_state()), 0..12),
        )
            .prop_map(|(older, span, ahead, churn, born_early, born_late)| {
                // What each slot of the baseline does next; a later entry for a slot replaces an
                // earlier one, as `World::from_entities` does.
                let mut next_step = BTreeMap::new();
                let mut base = Vec::new();
                for (entry, (first, second)) in older.entities::<ArenaEntity>().zip(churn) {
                    if let Some(moved) = first.step(entry, span as i32) {
                        let second = match (&first, second) {
                            (Churn::Glide(vx, vy), Churn::Glide(..)) => Churn::Glide(*vx, *vy),
                            (_, second) => second,
                        };
                        next_step.insert(moved.0.index, second);
                        base.push(moved);
                    }
                }
                for (id, state, second) in born_early {
                    next_step.insert(id.index, second);
                    base.push((id, state));
                }
                let base = World::from_entities(base);
                let mut current: Vec<_> = base
                    .entities::<ArenaEntity>()
                    .filter_map(|entry| next_step[&entry.0.index].step(entry, ahead as i32))
                    .collect();
                current.extend(born_late);
                let prediction = Prediction::new(span, ahead).expect("small spans are in range");
                (older, base, World::from_entities(current), prediction)
            })
    })
}
