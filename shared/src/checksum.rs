//! A state checksum a client recomputes after applying a delta, to prove its reconstruction
//! matches the server's world exactly.

use xxhash_rust::xxh3::Xxh3;

use crate::world::World;

/// XXH3-64 over a fixed little-endian layout of every entity (index, version, then every field
/// as an `i32`), in id order, then the schema's fingerprint. It does not depend on bincode's
/// encoding or on the platform's endianness, so every client computes the same value.
pub fn checksum(world: &World) -> u64 {
    let mut hasher = Xxh3::new();
    hasher.update(&(world.len() as u32).to_le_bytes());
    // Entities are laid out into a block that is hashed when full: one `update` per entity
    // costs more than the hashing itself.
    const BLOCK: usize = 4096;
    let mut buf = [0u8; BLOCK];
    let mut used = 0;
    for (id, row) in world.iter() {
        let size = 8 + 4 * row.len();
        if used + size > BLOCK {
            hasher.update(&buf[..used]);
            used = 0;
        }
        let entity = &mut buf[used..used + size];
        entity[0..4].copy_from_slice(&id.index.to_le_bytes());
        entity[4..8].copy_from_slice(&id.version.to_le_bytes());
        for (slot, v) in entity[8..].chunks_exact_mut(4).zip(row) {
            slot.copy_from_slice(&v.to_le_bytes());
        }
        used += size;
    }
    hasher.update(&buf[..used]);
    // Ties the layout to the declaration: a field added, renamed or re-ranged changes every
    // checksum instead of silently leaving the new field unchecked.
    hasher.update(&world.schema().fingerprint().to_le_bytes());
    hasher.digest()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::{apply, diff};
    use crate::testing::{arb_world_pair, world_with};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn checksum_of_applied_delta_matches_current((base, current) in arb_world_pair()) {
            let rebuilt = apply(&base, &diff(&base, &current)).unwrap();
            prop_assert_eq!(checksum(&rebuilt), checksum(&current));
        }
    }

    #[test]
    fn checksum_sees_a_one_step_change() {
        let a = world_with(50, 0);
        let b = world_with(50, 1);
        assert_ne!(checksum(&a), checksum(&b), "one entity moved one step");
    }

    #[test]
    fn checksum_is_pinned() {
        // Pinned so a change to the layout (which would desync older clients) is deliberate.
        let world = world_with(3, 0);
        let first = checksum(&world);
        assert_eq!(first, checksum(&world.clone()), "deterministic");
        assert_eq!(
            first, 10913348930323022247,
            "pinned checksum of sample::world(3, 0)"
        );
    }
}
