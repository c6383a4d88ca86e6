//! Packed-panel matrix products of the MLP's batched forward passes
//! (evaluation, `predict`): weights in column panels ([`Panels`]) and
//! register-blocked micro-kernels for AVX-512 and AVX2+FMA. Every output is
//! one fused multiply-add chain over the inputs in order, so all code paths
//! give the same bits. Single-row kernels are in [`crate::math::simd`].

#[cfg(target_arch = "x86_64")]
use crate::math::simd::{has_avx2, has_avx512};

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// Rows per register block of the batched product (6 × 2 accumulators).
    const ROWS: usize = 6;

    #[target_feature(enable = "avx2,fma")]
    pub fn panels_affine(pk: &super::Panels, x: &[f32], nb: usize, z: &mut [f32]) {
        let k = pk.n_in;
        let np = pk.n_out.div_ceil(super::PANEL);
        let mut out = [0.0f32; ROWS * super::PANEL];
        let mut r0 = 0;
        while r0 < nb {
            let valid = (nb - r0).min(ROWS);
            let xp: [*const f32; ROWS] =
                std::array::from_fn(|s| x[(r0 + s.min(valid - 1)) * k..].as_ptr());
            for p in 0..np {
                let pp = pk.panel(p).as_ptr();
                let mut acc = [[_mm256_setzero_ps(); 2]; ROWS];
                for i in 0..k {
                    // SAFETY: rows of `x` hold k values, the panel k × 16.
                    unsafe {
                        let w0 = _mm256_loadu_ps(pp.add(i * super::PANEL));
                        let w1 = _mm256_loadu_ps(pp.add(i * super::PANEL + 8));
                        for s in 0..ROWS {
                            let xb = _mm256_set1_ps(*xp[s].add(i));
                            acc[s][0] = _mm256_fmadd_ps(xb, w0, acc[s][0]);
                            acc[s][1] = _mm256_fmadd_ps(xb, w1, acc[s][1]);
                        }
                    }
                }
                for (s, a) in acc.iter().enumerate() {
                    // SAFETY: `out` holds ROWS × 16 values.
                    unsafe {
                        _mm256_storeu_ps(out[s * 16..].as_mut_ptr(), a[0]);
                        _mm256_storeu_ps(out[s * 16 + 8..].as_mut_ptr(), a[1]);
                    }
                }
                pk.scatter(&out, super::PANEL, r0, valid, p, z);
            }
            r0 += ROWS;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    /// Rows per register block of the batched product.
    const ROWS: usize = 12;

    /// `ROWS` samples × `P` panels: `ROWS·P` accumulators, one weight load
    /// per panel and one broadcast per sample for each input.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn block<const P: usize>(
        x: &[f32],
        k: usize,
        rows: [usize; ROWS],
        panels: [&[f32]; P],
        out: &mut [f32],
    ) {
        let mut acc = [[_mm512_setzero_ps(); P]; ROWS];
        let xp: [*const f32; ROWS] = std::array::from_fn(|s| x[rows[s] * k..].as_ptr());
        let pp: [*const f32; P] = std::array::from_fn(|q| panels[q].as_ptr());
        for i in 0..k {
            // SAFETY: every row of `x` and every panel holds k (× 16) values.
            unsafe {
                let w: [__m512; P] =
                    std::array::from_fn(|q| _mm512_loadu_ps(pp[q].add(i * super::PANEL)));
                for s in 0..ROWS {
                    let xb = _mm512_set1_ps(*xp[s].add(i));
                    for q in 0..P {
                        acc[s][q] = _mm512_fmadd_ps(xb, w[q], acc[s][q]);
                    }
                }
            }
        }
        for s in 0..ROWS {
            for q in 0..P {
                // SAFETY: `out` holds ROWS × P × 16 values.
                unsafe {
                    _mm512_storeu_ps(out[(s * P + q) * super::PANEL..].as_mut_ptr(), acc[s][q])
                };
            }
        }
    }

    #[target_feature(enable = "avx512f")]
    pub fn panels_affine(pk: &super::Panels, x: &[f32], nb: usize, z: &mut [f32]) {
        let k = pk.n_in;
        let np = pk.n_out.div_ceil(super::PANEL);
        let mut out = [0.0f32; ROWS * 2 * super::PANEL];
        let mut r0 = 0;
        while r0 < nb {
            let valid = (nb - r0).min(ROWS);
            // Rows past the end repeat the last one (results discarded).
            let rows: [usize; ROWS] = std::array::from_fn(|s| r0 + s.min(valid - 1));
            let mut p = 0;
            while p + 2 <= np {
                block::<2>(x, k, rows, [pk.panel(p), pk.panel(p + 1)], &mut out);
                pk.scatter(&out, 2 * super::PANEL, r0, valid, p, z);
                p += 2;
            }
            if p < np {
                block::<1>(x, k, rows, [pk.panel(p)], &mut out);
                pk.scatter(&out, super::PANEL, r0, valid, p, z);
            }
            r0 += ROWS;
        }
    }
}

/// Columns per panel of [`Panels`].
pub const PANEL: usize = 16;

/// A weight layer packed for batched forward products: the `n_out` rows of
/// `n_in` weights (bias excluded) as column panels of [`PANEL`] outputs,
/// each `n_in × PANEL` contiguous (padding columns zero), and the biases.
#[derive(Debug, Clone, Default)]
pub struct Panels {
    pub n_in: usize,
    pub n_out: usize,
    data: Vec<f32>,
    bias: Vec<f32>,
}

impl Panels {
    /// Pack `w` (`n_out` rows of stride `n_in + 1`, bias last).
    pub fn pack(w: &[f32], n_in: usize, n_out: usize) -> Panels {
        let st = n_in + 1;
        let np = n_out.div_ceil(PANEL);
        let mut data = vec![0.0f32; np * n_in * PANEL];
        for (j, row) in w.chunks(st).take(n_out).enumerate() {
            let panel = &mut data[(j / PANEL) * n_in * PANEL..];
            for (i, &v) in row[..n_in].iter().enumerate() {
                panel[i * PANEL + j % PANEL] = v;
            }
        }
        let bias = w.chunks(st).take(n_out).map(|r| r[n_in]).collect();
        Panels {
            n_in,
            n_out,
            data,
            bias,
        }
    }

    fn panel(&self, p: usize) -> &[f32] {
        &self.data[p * self.n_in * PANEL..(p + 1) * self.n_in * PANEL]
    }

    /// `z = x Wᵀ + b` for the `nb` rows of `x` (`nb × n_in`); `z` is
    /// `nb × n_out`. Every output is one fused multiply-add chain over the
    /// inputs in order, plus the bias: the same bits in every code path and
    /// for any grouping of rows. Does nothing if the sizes do not fit.
    pub fn affine(&self, x: &[f32], nb: usize, z: &mut [f32]) {
        let (k, n_out) = (self.n_in, self.n_out);
        if x.len() < nb * k || z.len() < nb * n_out || nb == 0 || n_out == 0 {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if has_avx512() {
            // SAFETY: AVX-512F is present; the sizes were checked above.
            unsafe { avx512::panels_affine(self, x, nb, z) };
            return self.add_bias(z, nb);
        }
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            // SAFETY: AVX2 and FMA are present; the sizes were checked above.
            unsafe { avx2::panels_affine(self, x, nb, z) };
            return self.add_bias(z, nb);
        }
        for (s, zr) in z[..nb * n_out].chunks_mut(n_out).enumerate() {
            let xr = &x[s * k..(s + 1) * k];
            for (j, zj) in zr.iter_mut().enumerate() {
                let panel = self.panel(j / PANEL);
                let mut acc = 0.0f32;
                for (i, &xi) in xr.iter().enumerate() {
                    acc = xi.mul_add(panel[i * PANEL + j % PANEL], acc);
                }
                *zj = acc;
            }
        }
        self.add_bias(z, nb);
    }

    fn add_bias(&self, z: &mut [f32], nb: usize) {
        for zr in z[..nb * self.n_out].chunks_mut(self.n_out) {
            for (zj, b) in zr.iter_mut().zip(&self.bias) {
                *zj += b;
            }
        }
    }

    /// Copy a block's accumulated panels (`rows × (panels · PANEL)`) into
    /// `z`, rows `r0..r0 + valid`, columns from panel `p0` on.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    #[inline(always)]
    fn scatter(
        &self,
        acc: &[f32],
        width: usize,
        r0: usize,
        valid: usize,
        p0: usize,
        z: &mut [f32],
    ) {
        let n_out = self.n_out;
        let c0 = p0 * PANEL;
        let cols = width.min(n_out - c0);
        for s in 0..valid {
            z[(r0 + s) * n_out + c0..][..cols].copy_from_slice(&acc[s * width..s * width + cols]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AVX2 code is not dispatched on AVX-512 machines; check it directly.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_panels_match_one_fma_chain_per_output() {
        if !has_avx2() {
            return;
        }
        let (n_in, n_out, nb) = (37, 21, 13);
        let w: Vec<f32> = (0..n_out * (n_in + 1))
            .map(|q| (q as f32 * 0.13).sin())
            .collect();
        let x: Vec<f32> = (0..nb * n_in).map(|q| (q as f32 * 0.21).cos()).collect();
        let pk = Panels::pack(&w, n_in, n_out);
        let mut z = vec![0.0f32; nb * n_out];
        // SAFETY: the CPU supports AVX2 and FMA (checked above).
        unsafe { avx2::panels_affine(&pk, &x, nb, &mut z) };
        pk.add_bias(&mut z, nb);
        let mut want = vec![0.0f32; nb * n_out];
        for (s, zr) in want.chunks_mut(n_out).enumerate() {
            for (j, zj) in zr.iter_mut().enumerate() {
                let mut acc = 0.0f32;
                for i in 0..n_in {
                    acc = x[s * n_in + i].mul_add(w[j * (n_in + 1) + i], acc);
                }
                *zj = acc + w[j * (n_in + 1) + n_in];
            }
        }
        assert_eq!(z, want);
    }

    #[test]
    fn packed_affine_is_one_fma_chain_per_output() {
        // Sizes that leave partial panels and partial row blocks.
        for (n_in, n_out, nb) in [(37, 21, 13), (5, 16, 1), (64, 33, 25), (3, 1, 7)] {
            let st = n_in + 1;
            let w: Vec<f32> = (0..n_out * st).map(|q| (q as f32 * 0.13).sin()).collect();
            let x: Vec<f32> = (0..nb * n_in).map(|q| (q as f32 * 0.21).cos()).collect();
            let pk = Panels::pack(&w, n_in, n_out);
            let mut z = vec![f32::NAN; nb * n_out];
            pk.affine(&x, nb, &mut z);
            for s in 0..nb {
                for j in 0..n_out {
                    let mut acc = 0.0f32;
                    for i in 0..n_in {
                        acc = x[s * n_in + i].mul_add(w[j * st + i], acc);
                    }
                    acc += w[j * st + n_in];
                    assert_eq!(
                        z[s * n_out + j].to_bits(),
                        acc.to_bits(),
                        "{n_in} {n_out} {nb}"
                    );
                }
            }
        }
    }
}
