//! Angles without the platform's maths library: a sine/cosine evaluated with plain IEEE
//! additions and multiplications (so every platform gets the same bits), and an aim table built
//! from it at compile time.

use std::f64::consts::TAU;

/// Fixed-point scale of [`COS_TABLE`] entries: `1 << 16` is 1.0.
const UNIT_BITS: u32 = 16;

/// log2 of the table's entries per turn.
const TABLE_BITS: u32 = 12;
const TABLE_LEN: usize = 1 << TABLE_BITS;

/// `cos(i / TABLE_LEN turns) * 2^16`, rounded to nearest.
static COS_TABLE: [i32; TABLE_LEN] = {
    let mut table = [0i32; TABLE_LEN];
    let mut i = 0;
    while i < TABLE_LEN {
        let (_, cos) = sin_cos_unit_turn(i as f64 / TABLE_LEN as f64);
        table[i] = round_to_i32(cos * (1u32 << UNIT_BITS) as f64);
        i += 1;
    }
    table
};

/// The vector of length `length` (fixed-point units) pointing along `aim` (65536 per turn,
/// 0 = east, increasing clockwise on screen where y grows downwards), each component rounded half
/// away from zero so that opposite aims give exactly opposite vectors.
pub(crate) fn aim_vector(aim: u16, length: i32) -> (i32, i32) {
    // 65536 aim steps onto 4096 table entries, rounding to nearest.
    let shift = 16 - TABLE_BITS;
    let index = ((u32::from(aim) + (1 << (shift - 1))) >> shift) as usize % TABLE_LEN;
    let cos = COS_TABLE[index];
    // sin(a) = cos(a - quarter turn).
    let sin = COS_TABLE[(index + TABLE_LEN - TABLE_LEN / 4) % TABLE_LEN];
    (scale(length, cos), scale(length, sin))
}

/// Sine and cosine of an angle in radians, deterministic across platforms (see the module doc).
/// Accurate to about 1e-15 for angles up to a few thousand radians.
pub(crate) fn sin_cos(radians: f64) -> (f64, f64) {
    let turns = radians / TAU;
    sin_cos_unit_turn(turns - turns.floor())
}

/// `length * unit / 2^16`, rounded half away from zero.
fn scale(length: i32, unit: i32) -> i32 {
    let product = i64::from(length) * i64::from(unit);
    let magnitude = (product.abs() + (1 << (UNIT_BITS - 1))) >> UNIT_BITS;
    let magnitude = i32::try_from(magnitude).unwrap_or(i32::MAX);
    if product < 0 { -magnitude } else { magnitude }
}

/// Sine and cosine of `t` turns, `t` in `[0, 1)`: reduced to the nearest quarter turn, then
/// Taylor series on `[-pi/4, pi/4]` (the first omitted term is below 1e-16).
const fn sin_cos_unit_turn(t: f64) -> (f64, f64) {
    // t >= 0, so truncation is floor.
    let quarter = (t * 4.0 + 0.5) as u32;
    let r = (t - quarter as f64 * 0.25) * TAU;
    let r2 = r * r;
    let sin = r
        * (1.0
            - r2 / 6.0
                * (1.0
                    - r2 / 20.0
                        * (1.0
                            - r2 / 42.0
                                * (1.0
                                    - r2 / 72.0
                                        * (1.0
                                            - r2 / 110.0
                                                * (1.0 - r2 / 156.0 * (1.0 - r2 / 210.0)))))));
    let cos = 1.0
        - r2 / 2.0
            * (1.0
                - r2 / 12.0
                    * (1.0
                        - r2 / 30.0
                            * (1.0
                                - r2 / 56.0
                                    * (1.0
                                        - r2 / 90.0 * (1.0 - r2 / 132.0 * (1.0 - r2 / 182.0))))));
    match quarter % 4 {
        0 => (sin, cos),
        1 => (cos, -sin),
        2 => (-sin, -cos),
        _ => (-cos, sin),
    }
}

/// Round half away from zero (`f64::round` is not usable in a constant on our MSRV).
const fn round_to_i32(x: f64) -> i32 {
    if x < 0.0 {
        (x - 0.5) as i32
    } else {
        (x + 0.5) as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sin_cos_matches_the_platform_within_1e_12() {
        for i in -2000..2000 {
            let a = f64::from(i) * 0.0137;
            let (s, c) = sin_cos(a);
            assert!(
                (s - a.sin()).abs() < 1e-12,
                "sin({a}) = {s}, std says {}",
                a.sin()
            );
            assert!(
                (c - a.cos()).abs() < 1e-12,
                "cos({a}) = {c}, std says {}",
                a.cos()
            );
        }
    }

    #[test]
    fn aim_vector_points_along_the_compass() {
        assert_eq!(aim_vector(0, 1000), (1000, 0), "aim 0 is east");
        assert_eq!(
            aim_vector(16384, 1000),
            (0, 1000),
            "a quarter turn is south (y down)"
        );
        assert_eq!(aim_vector(32768, 1000), (-1000, 0), "half a turn is west");
        assert_eq!(
            aim_vector(49152, 1000),
            (0, -1000),
            "three quarters is north"
        );
        assert_eq!(
            aim_vector(8192, 1000),
            (707, 707),
            "an eighth is south-east"
        );
    }

    #[test]
    fn opposite_aims_give_opposite_vectors() {
        for aim in (0..32768u16).step_by(97) {
            let (x, y) = aim_vector(aim, 373);
            let (ox, oy) = aim_vector(aim + 32768, 373);
            assert_eq!((x, y), (-ox, -oy), "aim {aim} and its opposite");
        }
    }
}
