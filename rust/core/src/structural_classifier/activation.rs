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

/// The units above threshold: writes the positions `i` with `u[i] > 0`
/// (ascending) to `at` and their drives to `hv`, and returns how many.
/// `at` and `hv` are at least as long as `u`; beyond the count they hold
/// scratch. The readout's code gathers these before `f`, for every sample
/// of every code (on MNIST 1.5 billion drives per fit).
pub fn above_threshold(u: &[f32], at: &mut [u32], hv: &mut [f32]) -> usize {
    assert!(
        at.len() >= u.len() && hv.len() >= u.len(),
        "room for every unit"
    );
    #[cfg(target_arch = "x86_64")]
    if crate::math::simd::has_avx512() {
        // SAFETY: the CPU supports AVX-512F (checked at run time); the
        // lengths are checked above.
        return unsafe { avx512::above_threshold(u, at, hv) };
    }
    above_threshold_from(u, at, hv, 0, 0)
}

/// [`above_threshold`] from unit `i0` on, `n` written before it. Every
/// unit is written and the write position advances only past those above
/// threshold: no branch on `u`, which is as often positive as not.
#[inline(always)]
fn above_threshold_from(u: &[f32], at: &mut [u32], hv: &mut [f32], i0: usize, n: usize) -> usize {
    let mut n = n;
    for (i, &v) in u.iter().enumerate().skip(i0) {
        at[n] = i as u32;
        hv[n] = v;
        n += usize::from(v > 0.0);
    }
    n
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    /// Sixteen units at a time: the lanes above threshold are packed to the
    /// front of a register and all sixteen stored at the write position
    /// (which never runs ahead of the units read, so the stores stay inside
    /// `at` and `hv`), the position advancing by the count.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn above_threshold(u: &[f32], at: &mut [u32], hv: &mut [f32]) -> usize {
        let full = u.len() / 16 * 16;
        let zero = _mm512_setzero_ps();
        let step = _mm512_set1_epi32(16);
        let mut pos = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        let mut n = 0usize;
        for i in (0..full).step_by(16) {
            // SAFETY: i + 16 <= u.len(); n <= i, so n + 16 <= u.len() <= at.len(), hv.len().
            unsafe {
                let v = _mm512_loadu_ps(u.as_ptr().add(i));
                let m = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(v, zero);
                _mm512_storeu_ps(hv.as_mut_ptr().add(n), _mm512_maskz_compress_ps(m, v));
                _mm512_storeu_epi32(
                    at.as_mut_ptr().add(n).cast(),
                    _mm512_maskz_compress_epi32(m, pos),
                );
                n += m.count_ones() as usize;
            }
            pos = _mm512_add_epi32(pos, step);
        }
        super::above_threshold_from(u, at, hv, full, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn above_threshold_gathers_the_positive_units_in_order() {
        for len in [0usize, 1, 15, 16, 17, 33, 1000] {
            let mut u: Vec<f32> = (0..len)
                .map(|i| ((i * 37 % 11) as f32 - 5.0) * 0.3)
                .collect();
            for (i, v) in [f32::NAN, -0.0, 0.0, f32::INFINITY, f32::MIN_POSITIVE]
                .iter()
                .enumerate()
            {
                if i * 7 < len {
                    u[i * 7] = *v;
                }
            }
            let want: Vec<(u32, u32)> = u
                .iter()
                .enumerate()
                .filter(|(_, &v)| v > 0.0)
                .map(|(i, v)| (i as u32, v.to_bits()))
                .collect();
            // (the dispatched kernel, then the portable loop)
            for portable in [false, true] {
                let (mut at, mut hv) = (vec![0u32; len], vec![0.0f32; len]);
                let n = if portable {
                    above_threshold_from(&u, &mut at, &mut hv, 0, 0)
                } else {
                    above_threshold(&u, &mut at, &mut hv)
                };
                let got: Vec<(u32, u32)> = at[..n]
                    .iter()
                    .zip(&hv[..n])
                    .map(|(&i, v)| (i, v.to_bits()))
                    .collect();
                assert_eq!(got, want, "{len} units, portable: {portable}");
            }
        }
    }

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
