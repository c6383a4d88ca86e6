//! The hidden units' transfer function `f(u) = 2σ(u) − 1 = tanh(u / 2)` for
//! `u > 0`, 0 below.
//!
//! The readout's code needs `f` of about a third of all hidden drives (on
//! MNIST 450 million values per fit), so it is computed in single precision
//! from a polynomial `e^{−u}` with only additions, multiplications, a
//! division and bit operations: loops over a slice vectorise, and every CPU
//! (scalar, AVX2, AVX-512) gives the same bits. The absolute error is below
//! 3e-7, against the `1e-3` of the silent-synapse scale.

use crate::math::simd::multiversion;

/// `1.5 · 2^23`: adding it to a float below `2^22` in magnitude rounds it to
/// an integer, held in the low bits of the sum's mantissa.
const ROUND: f32 = 12_582_912.0;

/// `e^{−u}` for `u ≥ 0` (clamped at `e^{−87}`, where `f(u)` is 1 in single
/// precision): `e^{−u} = 2^{−k} e^{(k − t) ln 2}` with `t = u log2 e` and
/// `k = round(t)`, the second factor by its Taylor series to the 7th
/// power (`|k − t| ln 2 ≤ 0.35`, remainder below 1e-8).
#[inline(always)]
fn exp_neg(u: f32) -> f32 {
    let t = (u * std::f32::consts::LOG2_E).clamp(0.0, 126.0);
    let shifted = t + ROUND;
    let k = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let y = ((shifted - ROUND) - t) * std::f32::consts::LN_2;
    let mut p = 1.0 / 5040.0;
    for c in [
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * y + c;
    }
    // 2^{−k} from its exponent bits (0 ≤ k ≤ 126).
    p * f32::from_bits((127u32.wrapping_sub(k)) << 23)
}

/// `f(u) = 2σ(u) − 1` for `u > 0` (equals `tanh(u / 2)`), 0 otherwise.
#[inline(always)]
pub fn activation(u: f32) -> f32 {
    let e = exp_neg(u);
    let h = (1.0 - e) / (1.0 + e);
    if u > 0.0 {
        h
    } else {
        0.0
    }
}

#[inline(always)]
fn activate_body(u: &mut [f32]) {
    for v in u.iter_mut() {
        *v = activation(*v);
    }
}

multiversion! {
    /// `u ← f(u)` elementwise, compiled for the widest vector unit (the
    /// same bits on every CPU).
    pub fn activate(u: &mut [f32]) -> () = activate_body;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(u: f64) -> f64 {
        if u > 0.0 {
            (u / 2.0).tanh()
        } else {
            0.0
        }
    }

    #[test]
    fn activation_is_within_3e7_of_tanh_half_and_monotone() {
        let mut prev = 0.0f32;
        let mut worst = 0.0f64;
        for i in 0..=400_000 {
            let u = i as f32 * 1e-4; // 0 to 40
            let h = activation(u);
            worst = worst.max((h as f64 - exact(u as f64)).abs());
            assert!(h >= prev, "not monotone at u = {u}");
            prev = h;
        }
        assert!(worst < 3e-7, "largest error {worst}");
        for u in [50.0f32, 87.0, 88.0, 1e3, 1e30, f32::MAX] {
            assert_eq!(activation(u), 1.0, "u = {u}");
        }
        for u in [0.0f32, -0.0, -1e-30, -1.0, -1e30, f32::MIN] {
            assert_eq!(activation(u), 0.0, "u = {u}");
        }
    }

    #[test]
    fn activate_gives_the_scalar_bits() {
        let mut u: Vec<f32> = (0..1000).map(|i| (i as f32 - 300.0) * 0.037).collect();
        let want: Vec<u32> = u.iter().map(|&v| activation(v).to_bits()).collect();
        activate(&mut u);
        let got: Vec<u32> = u.iter().map(|v| v.to_bits()).collect();
        assert_eq!(got, want);
    }
}
