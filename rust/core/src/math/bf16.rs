//! bfloat16 storage of non-negative rates: the upper half of an `f32`
//! (same exponent range, 8 significant bits). Widening is a shift, so a
//! kernel reads a stored rate for the price of an integer load, and any
//! finite rate fits (unlike IEEE half, which overflows above 65,504).

/// The bfloat16 nearest to `x` (ties to even), as its bits. Finite `x`
/// beyond bfloat16's largest finite value give that value, not infinity;
/// infinities stay infinite and NaN stays NaN.
#[inline(always)]
pub fn to_bf16(x: f32) -> u16 {
    let b = x.to_bits();
    if !x.is_finite() {
        // (a NaN keeps a mantissa bit, which truncation could drop)
        return (b >> 16) as u16 | if x.is_nan() { 0x0040 } else { 0 };
    }
    let q = ((b + 0x7fff + ((b >> 16) & 1)) >> 16) as u16;
    if q & 0x7f80 == 0x7f80 {
        (b >> 16) as u16 // (rounded up into infinity)
    } else {
        q
    }
}

/// The `f32` of bfloat16 bits (exact).
#[inline(always)]
pub fn from_bf16(q: u16) -> f32 {
    f32::from_bits((q as u32) << 16)
}

/// Whether bfloat16 bits hold NaN or an infinity.
#[inline]
pub fn bf16_is_finite(q: u16) -> bool {
    q & 0x7f80 != 0x7f80
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_to_the_nearest_with_ties_to_even() {
        for &x in &[
            0.0f32,
            1.0,
            0.5,
            3.0,
            0.75,
            2f32.powi(-100),
            1.5 * 2f32.powi(40),
        ] {
            assert_eq!(from_bf16(to_bf16(x)), x, "{x} is exact in bfloat16");
        }
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties to 1 (even).
        assert_eq!(from_bf16(to_bf16(1.0 + 2f32.powi(-8))), 1.0);
        // 1 + 3·2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: to the even one.
        assert_eq!(
            from_bf16(to_bf16(1.0 + 3.0 * 2f32.powi(-8))),
            1.0 + 2f32.powi(-6)
        );
        // Relative error at most 2^-8 (half a unit of the 8th bit) over many magnitudes.
        let mut x = 1e-20f32;
        while x < 1e20 {
            for y in [x, x * 1.37, x * 1.999] {
                let e = (from_bf16(to_bf16(y)) - y).abs() / y;
                assert!(e <= 2f32.powi(-8), "{y}: {e}");
            }
            x *= 3.7;
        }
    }

    #[test]
    fn finite_stays_finite_and_nan_stays_nan() {
        let big = to_bf16(f32::MAX);
        assert!(bf16_is_finite(big) && from_bf16(big) > 3e38);
        assert!(!bf16_is_finite(to_bf16(f32::INFINITY)));
        assert!(from_bf16(to_bf16(f32::NAN)).is_nan());
        assert!(from_bf16(to_bf16(f32::from_bits(0x7fff_ffff))).is_nan());
        assert_eq!(from_bf16(to_bf16(-f32::MAX)), -from_bf16(big));
        assert_eq!(from_bf16(to_bf16(f32::NEG_INFINITY)), f32::NEG_INFINITY);
        assert!(!bf16_is_finite(to_bf16(f32::NAN)));
        // The smallest positive f32 rounds to zero; bfloat16's own subnormals stay.
        assert_eq!(to_bf16(f32::from_bits(1)), 0);
        let tiny = f32::from_bits(1 << 16);
        assert_eq!(from_bf16(to_bf16(tiny)), tiny);
    }
}
