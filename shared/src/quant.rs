//! Fixed-point quantisation: the simulation and the wire use integers so that an unchanged value
//! is byte-identical and every platform computes the same checksum.

/// Fixed-point positions: 1 world unit = `POS_SCALE` steps (1/16 unit resolution).
pub const POS_SCALE: i32 = 16;

/// A full turn in aim units (`u16` wraps exactly once per turn).
pub const ANGLE_STEPS: u32 = 1 << 16;

/// World units to fixed point, rounding to nearest.
pub fn pos_to_fixed(units: f32) -> i32 {
    (units * POS_SCALE as f32).round() as i32
}

pub fn pos_from_fixed(fixed: i32) -> f32 {
    fixed as f32 / POS_SCALE as f32
}

/// Radians (any value) to a `u16` angle; a full turn wraps.
pub fn angle_to_u16(radians: f32) -> u16 {
    let turns = radians / std::f32::consts::TAU;
    let frac = turns - turns.floor();
    ((frac * ANGLE_STEPS as f32).round() as u32 % ANGLE_STEPS) as u16
}

pub fn angle_from_u16(angle: u16) -> f32 {
    angle as f32 / ANGLE_STEPS as f32 * std::f32::consts::TAU
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn position_round_trip_is_within_half_a_step(units in -100_000.0f32..100_000.0) {
            let back = pos_from_fixed(pos_to_fixed(units));
            prop_assert!((back - units).abs() <= 0.5 / POS_SCALE as f32 + units.abs() * 1e-6,
                "{units} came back as {back}");
        }

        #[test]
        fn quantised_angle_is_stable(a in any::<u16>()) {
            prop_assert_eq!(angle_to_u16(angle_from_u16(a)), a, "re-quantising an angle changes it");
        }
    }

    #[test]
    fn negative_and_over_full_turn_angles_wrap() {
        assert_eq!(
            angle_to_u16(-std::f32::consts::FRAC_PI_2),
            49152,
            "-90 degrees is 3/4 turn"
        );
        assert_eq!(
            angle_to_u16(std::f32::consts::TAU),
            0,
            "a full turn is zero"
        );
    }
}
