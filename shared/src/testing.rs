//! Proptest strategies shared by this crate's tests.

use proptest::collection::vec;
use proptest::prelude::*;

use crate::world::{EntityKind, EntityState, NetId, World};

pub(crate) use crate::sample::world as world_with;

pub(crate) fn arb_kind() -> impl Strategy<Value = EntityKind> {
    prop_oneof![
        Just(EntityKind::Player),
        Just(EntityKind::Projectile),
        Just(EntityKind::Orb),
        Just(EntityKind::Drone),
    ]
}

pub(crate) fn arb_state() -> impl Strategy<Value = EntityState> {
    (
        arb_kind(),
        any::<u32>(),
        any::<i32>(),
        any::<i32>(),
        any::<u16>(),
        any::<i32>(),
        any::<i32>(),
        any::<u8>(),
    )
        .prop_map(
            |(kind, owner, x, y, aim, health, score, flags)| EntityState {
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
    vec((arb_id(), arb_state()), 0..48).prop_map(World::from_entities)
}

/// Which part of an entity a churn step touches.
#[derive(Debug, Clone)]
pub(crate) enum Churn {
    Keep,
    Remove,
    Move(i32, i32),
    Replace(EntityState),
}

fn arb_churn() -> impl Strategy<Value = Churn> {
    prop_oneof![
        4 => Just(Churn::Keep),
        1 => Just(Churn::Remove),
        4 => (-300i32..300, -300i32..300).prop_map(|(dx, dy)| Churn::Move(dx, dy)),
        1 => arb_state().prop_map(Churn::Replace),
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
                    .entities()
                    .iter()
                    .zip(churn)
                    .filter_map(|((id, e), c)| match c {
                        Churn::Keep => Some((*id, *e)),
                        Churn::Remove => None,
                        Churn::Move(dx, dy) => {
                            let mut e = *e;
                            e.x = e.x.wrapping_add(dx);
                            e.y = e.y.wrapping_add(dy);
                            Some((*id, e))
                        }
                        Churn::Replace(s) => Some((*id, s)),
                    })
                    .collect();
                next.extend(added);
                (base, World::from_entities(next))
            })
    })
}
