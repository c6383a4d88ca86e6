//! Dense float kernels of the MLP: dot products and rank-1 row updates.
//!
//! Every reduction uses 16 independent lanes summed in a fixed order at the
//! end, and products are accumulated with fused multiply-add (`mul_add`),
//! so the portable code and the AVX2+FMA intrinsics (chosen at run time)
//! give the same bits.

const LANES: usize = 16;

#[inline(always)]
fn reduce(acc: [f32; LANES]) -> f32 {
    // Fixed pairwise order.
    let mut a = acc;
    let mut w = LANES / 2;
    while w > 0 {
        for k in 0..w {
            a[k] += a[k + w];
        }
        w /= 2;
    }
    a[0]
}

#[inline(always)]
fn dot_body(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (ca, cb) = (a[..n].chunks_exact(LANES), b[..n].chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    let mut acc = [0.0f32; LANES];
    for (x, y) in ca.zip(cb) {
        for k in 0..LANES {
            acc[k] = x[k].mul_add(y[k], acc[k]);
        }
    }
    for (k, (x, y)) in ra.iter().zip(rb).enumerate() {
        acc[k] = x.mul_add(*y, acc[k]);
    }
    reduce(acc)
}

/// Dots of one weight row `w` with four inputs at once (the row is read once).
#[inline(always)]
fn dot4_body(w: &[f32], x: [&[f32]; 4]) -> [f32; 4] {
    let n = x.iter().fold(w.len(), |m, v| m.min(v.len()));
    let cw = w[..n].chunks_exact(LANES);
    let c0 = x[0][..n].chunks_exact(LANES);
    let c1 = x[1][..n].chunks_exact(LANES);
    let c2 = x[2][..n].chunks_exact(LANES);
    let c3 = x[3][..n].chunks_exact(LANES);
    let (rw, r0, r1, r2, r3) = (
        cw.remainder(),
        c0.remainder(),
        c1.remainder(),
        c2.remainder(),
        c3.remainder(),
    );
    let mut acc = [[0.0f32; LANES]; 4];
    for ((((wv, v0), v1), v2), v3) in cw.zip(c0).zip(c1).zip(c2).zip(c3) {
        for k in 0..LANES {
            acc[0][k] = wv[k].mul_add(v0[k], acc[0][k]);
            acc[1][k] = wv[k].mul_add(v1[k], acc[1][k]);
            acc[2][k] = wv[k].mul_add(v2[k], acc[2][k]);
            acc[3][k] = wv[k].mul_add(v3[k], acc[3][k]);
        }
    }
    for (k, ((((wj, a0), a1), a2), a3)) in rw.iter().zip(r0).zip(r1).zip(r2).zip(r3).enumerate() {
        acc[0][k] = wj.mul_add(*a0, acc[0][k]);
        acc[1][k] = wj.mul_add(*a1, acc[1][k]);
        acc[2][k] = wj.mul_add(*a2, acc[2][k]);
        acc[3][k] = wj.mul_add(*a3, acc[3][k]);
    }
    [
        reduce(acc[0]),
        reduce(acc[1]),
        reduce(acc[2]),
        reduce(acc[3]),
    ]
}

/// `w[i] += a[i] * u` for every `i` (dense rank-1 row update).
#[inline(always)]
fn axpy_body(w: &mut [f32], a: &[f32], u: f32) {
    let n = w.len().min(a.len());
    for (wi, ai) in w[..n].iter_mut().zip(&a[..n]) {
        *wi = ai.mul_add(u, *wi);
    }
}

/// `w[i] += a[i] * u` where `|a[i] * u| >= thr`; returns `(writes, Σ|Δw|)`
/// of the kept non-zero changes.
#[inline(always)]
fn axpy_thr_body(w: &mut [f32], a: &[f32], u: f32, thr: f32) -> (u64, f64) {
    let n = w.len().min(a.len());
    let full = n / LANES * LANES;
    let (w, rw) = w[..n].split_at_mut(full);
    let (a, ra) = a[..n].split_at(full);
    let mut cnt = [0u32; LANES];
    let mut sum = [0.0f32; LANES];
    for (wv, av) in w.chunks_exact_mut(LANES).zip(a.chunks_exact(LANES)) {
        for k in 0..LANES {
            let d = av[k] * u;
            let m = d.abs();
            let keep = m >= thr && m > 0.0;
            let d = if keep { d } else { 0.0 };
            wv[k] += d;
            cnt[k] += keep as u32;
            sum[k] += d.abs();
        }
    }
    for (k, (wi, ai)) in rw.iter_mut().zip(ra).enumerate() {
        let d = ai * u;
        let m = d.abs();
        if m >= thr && m > 0.0 {
            *wi += d;
            cnt[k] += 1;
            sum[k] += m;
        }
    }
    (
        cnt.iter().map(|&c| c as u64).sum(),
        sum.iter().map(|&s| s as f64).sum(),
    )
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    //! The same lane structure as the portable bodies (lane `k` of 16 is
    //! element `k % 8` of accumulator `k / 8`), fused multiply-add like
    //! `f32::mul_add`, the same final reduction: bit-identical results.
    use super::{reduce, LANES};
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2,fma")]
    fn store(lo: __m256, hi: __m256) -> [f32; LANES] {
        let mut out = [0.0f32; LANES];
        // SAFETY: `out` holds 16 floats.
        unsafe {
            _mm256_storeu_ps(out.as_mut_ptr(), lo);
            _mm256_storeu_ps(out.as_mut_ptr().add(8), hi);
        }
        out
    }

    #[target_feature(enable = "avx2,fma")]
    pub fn dot(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let full = n / LANES * LANES;
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let (mut lo, mut hi) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        let mut i = 0;
        while i < full {
            // SAFETY: i + 16 <= n <= len of a and b.
            unsafe {
                let x0 = _mm256_loadu_ps(pa.add(i));
                let x1 = _mm256_loadu_ps(pa.add(i + 8));
                let y0 = _mm256_loadu_ps(pb.add(i));
                let y1 = _mm256_loadu_ps(pb.add(i + 8));
                lo = _mm256_fmadd_ps(x0, y0, lo);
                hi = _mm256_fmadd_ps(x1, y1, hi);
            }
            i += LANES;
        }
        let mut acc = store(lo, hi);
        for (k, j) in (full..n).enumerate() {
            acc[k] = a[j].mul_add(b[j], acc[k]);
        }
        reduce(acc)
    }

    #[target_feature(enable = "avx2,fma")]
    pub fn dot4(w: &[f32], x: [&[f32]; 4]) -> [f32; 4] {
        let n = x.iter().fold(w.len(), |m, v| m.min(v.len()));
        let full = n / LANES * LANES;
        let pw = w.as_ptr();
        let px = [x[0].as_ptr(), x[1].as_ptr(), x[2].as_ptr(), x[3].as_ptr()];
        let mut lo = [_mm256_setzero_ps(); 4];
        let mut hi = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        while i < full {
            // SAFETY: i + 16 <= n <= every length.
            unsafe {
                let w0 = _mm256_loadu_ps(pw.add(i));
                let w1 = _mm256_loadu_ps(pw.add(i + 8));
                for b in 0..4 {
                    let x0 = _mm256_loadu_ps(px[b].add(i));
                    let x1 = _mm256_loadu_ps(px[b].add(i + 8));
                    lo[b] = _mm256_fmadd_ps(w0, x0, lo[b]);
                    hi[b] = _mm256_fmadd_ps(w1, x1, hi[b]);
                }
            }
            i += LANES;
        }
        let mut out = [0.0f32; 4];
        for b in 0..4 {
            let mut acc = store(lo[b], hi[b]);
            for (k, j) in (full..n).enumerate() {
                acc[k] = w[j].mul_add(x[b][j], acc[k]);
            }
            out[b] = reduce(acc);
        }
        out
    }

    #[target_feature(enable = "avx2,fma")]
    pub fn dot4x2(w0: &[f32], w1: &[f32], x: [&[f32]; 4]) -> ([f32; 4], [f32; 4]) {
        let n = x.iter().fold(w0.len().min(w1.len()), |m, v| m.min(v.len()));
        let full = n / LANES * LANES;
        let (p0, p1) = (w0.as_ptr(), w1.as_ptr());
        let px = [x[0].as_ptr(), x[1].as_ptr(), x[2].as_ptr(), x[3].as_ptr()];
        let mut lo = [[_mm256_setzero_ps(); 4]; 2];
        let mut hi = [[_mm256_setzero_ps(); 4]; 2];
        let mut i = 0;
        while i < full {
            // SAFETY: i + 16 <= n <= every length.
            unsafe {
                let a0 = _mm256_loadu_ps(p0.add(i));
                let a1 = _mm256_loadu_ps(p0.add(i + 8));
                let b0 = _mm256_loadu_ps(p1.add(i));
                let b1 = _mm256_loadu_ps(p1.add(i + 8));
                for s in 0..4 {
                    let x0 = _mm256_loadu_ps(px[s].add(i));
                    let x1 = _mm256_loadu_ps(px[s].add(i + 8));
                    lo[0][s] = _mm256_fmadd_ps(a0, x0, lo[0][s]);
                    hi[0][s] = _mm256_fmadd_ps(a1, x1, hi[0][s]);
                    lo[1][s] = _mm256_fmadd_ps(b0, x0, lo[1][s]);
                    hi[1][s] = _mm256_fmadd_ps(b1, x1, hi[1][s]);
                }
            }
            i += LANES;
        }
        let mut out = [[0.0f32; 4]; 2];
        for (r, w) in [w0, w1].into_iter().enumerate() {
            for s in 0..4 {
                let mut acc = store(lo[r][s], hi[r][s]);
                for (k, j) in (full..n).enumerate() {
                    acc[k] = w[j].mul_add(x[s][j], acc[k]);
                }
                out[r][s] = reduce(acc);
            }
        }
        (out[0], out[1])
    }

    /// # Safety
    /// `wt` holds `st × npad` values, `npad % 16 == 0`, every `xs[s]` at least
    /// `st` values and `z` at least `6 × npad`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn gemm6(
        wt: &[f32],
        npad: usize,
        st: usize,
        xs: [&[f32]; super::GEMM_ROWS],
        z: &mut [f32],
    ) {
        let pw = wt.as_ptr();
        let pz = z.as_mut_ptr();
        let mut jb = 0;
        while jb < npad {
            let mut acc = [[_mm256_setzero_ps(); 2]; super::GEMM_ROWS];
            for i in 0..st {
                // SAFETY: i < st, jb + 16 <= npad (the caller's contract).
                unsafe {
                    let w0 = _mm256_loadu_ps(pw.add(i * npad + jb));
                    let w1 = _mm256_loadu_ps(pw.add(i * npad + jb + 8));
                    for s in 0..super::GEMM_ROWS {
                        let xb = _mm256_set1_ps(*xs[s].get_unchecked(i));
                        acc[s][0] = _mm256_fmadd_ps(w0, xb, acc[s][0]);
                        acc[s][1] = _mm256_fmadd_ps(w1, xb, acc[s][1]);
                    }
                }
            }
            for (s, a) in acc.iter().enumerate() {
                // SAFETY: s * npad + jb + 16 <= 6 * npad <= z.len().
                unsafe {
                    _mm256_storeu_ps(pz.add(s * npad + jb), a[0]);
                    _mm256_storeu_ps(pz.add(s * npad + jb + 8), a[1]);
                }
            }
            jb += 16;
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub fn axpy(w: &mut [f32], a: &[f32], u: f32) {
        let n = w.len().min(a.len());
        let full = n / 8 * 8;
        let uv = _mm256_set1_ps(u);
        let (pw, pa) = (w.as_mut_ptr(), a.as_ptr());
        let mut i = 0;
        while i < full {
            // SAFETY: i + 8 <= n.
            unsafe {
                let r = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), uv, _mm256_loadu_ps(pw.add(i)));
                _mm256_storeu_ps(pw.add(i), r);
            }
            i += 8;
        }
        for j in full..n {
            w[j] = a[j].mul_add(u, w[j]);
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub fn axpy_thr(w: &mut [f32], a: &[f32], u: f32, thr: f32) -> (u64, f64) {
        let n = w.len().min(a.len());
        let full = n / LANES * LANES;
        let uv = _mm256_set1_ps(u);
        let tv = _mm256_set1_ps(thr);
        let zero = _mm256_setzero_ps();
        let sign = _mm256_set1_ps(-0.0);
        let (pw, pa) = (w.as_mut_ptr(), a.as_ptr());
        let mut cnt = [_mm256_setzero_si256(); 2];
        let mut sum = [_mm256_setzero_ps(); 2];
        let mut i = 0;
        while i < full {
            for h in 0..2 {
                let o = i + 8 * h;
                // SAFETY: o + 8 <= n.
                unsafe {
                    let d = _mm256_mul_ps(_mm256_loadu_ps(pa.add(o)), uv);
                    let m = _mm256_andnot_ps(sign, d);
                    let keep = _mm256_and_ps(
                        _mm256_cmp_ps::<_CMP_GE_OQ>(m, tv),
                        _mm256_cmp_ps::<_CMP_GT_OQ>(m, zero),
                    );
                    let d = _mm256_and_ps(d, keep);
                    _mm256_storeu_ps(pw.add(o), _mm256_add_ps(_mm256_loadu_ps(pw.add(o)), d));
                    cnt[h] = _mm256_sub_epi32(cnt[h], _mm256_castps_si256(keep));
                    sum[h] = _mm256_add_ps(sum[h], _mm256_and_ps(m, keep));
                }
            }
            i += LANES;
        }
        let sums = store(sum[0], sum[1]);
        let mut cnts = [0u32; LANES];
        // SAFETY: `cnts` holds 16 u32.
        unsafe {
            _mm256_storeu_si256(cnts.as_mut_ptr() as *mut __m256i, cnt[0]);
            _mm256_storeu_si256(cnts.as_mut_ptr().add(8) as *mut __m256i, cnt[1]);
        }
        let mut sums = sums;
        for (k, j) in (full..n).enumerate() {
            let d = a[j] * u;
            let m = d.abs();
            if m >= thr && m > 0.0 {
                w[j] += d;
                cnts[k] += 1;
                sums[k] += m;
            }
        }
        (
            cnts.iter().map(|&c| c as u64).sum(),
            sums.iter().map(|&s| s as f64).sum(),
        )
    }
}

#[inline]
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `Σ a[i] b[i]` over the common length.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 (checked at run time).
        return unsafe { avx2::dot(a, b) };
    }
    dot_body(a, b)
}

/// Four dots of `w` with `x[0..4]`, bit-identical to four calls of [`dot`].
#[inline]
pub fn dot4(w: &[f32], x: [&[f32]; 4]) -> [f32; 4] {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 (checked at run time).
        return unsafe { avx2::dot4(w, x) };
    }
    dot4_body(w, x)
}

/// Dots of two weight rows with four inputs, bit-identical to two [`dot4`].
#[inline]
pub fn dot4x2(w0: &[f32], w1: &[f32], x: [&[f32]; 4]) -> ([f32; 4], [f32; 4]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked at run time).
        return unsafe { avx2::dot4x2(w0, w1, x) };
    }
    (dot4_body(w0, x), dot4_body(w1, x))
}

/// Samples per block of [`gemm6`].
pub const GEMM_ROWS: usize = 6;

/// `z[s][j] = Σ_i x_s[i] wt[i][j]` for six inputs against a transposed,
/// column-padded weight matrix `wt` (`st × npad`, `npad` a multiple of 16).
/// Each output is one fused multiply-add chain over `i` in order, in the
/// portable and the AVX2 code alike. Does nothing if the sizes do not fit.
pub fn gemm6(wt: &[f32], npad: usize, st: usize, xs: [&[f32]; GEMM_ROWS], z: &mut [f32]) {
    if npad % 16 != 0
        || wt.len() < st * npad
        || z.len() < GEMM_ROWS * npad
        || xs.iter().any(|x| x.len() < st)
    {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: AVX2 and FMA are present; the sizes were checked above.
        return unsafe { avx2::gemm6(wt, npad, st, xs, z) };
    }
    for (s, x) in xs.iter().enumerate() {
        for j in 0..npad {
            let mut acc = 0.0f32;
            for i in 0..st {
                acc = x[i].mul_add(wt[i * npad + j], acc);
            }
            z[s * npad + j] = acc;
        }
    }
}

/// `w += u * a`.
#[inline]
pub fn axpy(w: &mut [f32], a: &[f32], u: f32) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 (checked at run time).
        return unsafe { avx2::axpy(w, a, u) };
    }
    axpy_body(w, a, u)
}

/// `w += u * a` restricted to `|u a_i| >= thr`; `(writes, Σ|Δw|)`.
#[inline]
pub fn axpy_thr(w: &mut [f32], a: &[f32], u: f32, thr: f32) -> (u64, f64) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 (checked at run time).
        return unsafe { avx2::axpy_thr(w, a, u, thr) };
    }
    axpy_thr_body(w, a, u, thr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_variants_agree_bitwise() {
        let a: Vec<f32> = (0..101).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..101).map(|i| (i as f32 * 0.11).cos()).collect();
        let c: Vec<f32> = (0..101).map(|i| i as f32 * 0.01).collect();
        let d = dot(&a, &b);
        assert_eq!(d, dot_body(&a, &b));
        assert_eq!(dot4(&a, [&b, &c, &a, &b]), dot4_body(&a, [&b, &c, &a, &b]));
        let (mut w1, mut w2) = (c.clone(), c.clone());
        assert_eq!(
            axpy_thr(&mut w1, &a, 0.3, 0.1),
            axpy_thr_body(&mut w2, &a, 0.3, 0.1)
        );
        assert_eq!(w1, w2);
        let e: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
        assert!((d as f64 - e).abs() < 1e-4);
        let four = dot4(&a, [&b, &c, &a, &b]);
        assert_eq!(
            dot4x2(&a, &c, [&b, &c, &a, &b]),
            (four, dot4(&c, [&b, &c, &a, &b]))
        );
        assert_eq!(four, [dot(&a, &b), dot(&a, &c), dot(&a, &a), dot(&a, &b)]);
    }

    #[test]
    fn gemm6_matches_portable_chain() {
        let (st, n, npad) = (37, 21, 32);
        let wt: Vec<f32> = (0..st * npad)
            .map(|k| {
                if k % npad < n {
                    (k as f32 * 0.13).sin()
                } else {
                    0.0
                }
            })
            .collect();
        let xs: Vec<Vec<f32>> = (0..6)
            .map(|s| (0..st).map(|i| ((s * 7 + i) as f32 * 0.21).cos()).collect())
            .collect();
        let mut z = vec![0.0f32; 6 * npad];
        gemm6(
            &wt,
            npad,
            st,
            [&xs[0], &xs[1], &xs[2], &xs[3], &xs[4], &xs[5]],
            &mut z,
        );
        for s in 0..6 {
            for j in 0..npad {
                let mut acc = 0.0f32;
                for i in 0..st {
                    acc = xs[s][i].mul_add(wt[i * npad + j], acc);
                }
                assert_eq!(z[s * npad + j], acc);
            }
        }
    }

    #[test]
    fn thresholded_axpy_keeps_large_changes_only() {
        let mut w = vec![0.0f32; 20];
        let a: Vec<f32> = (0..20).map(|i| i as f32 - 10.0).collect();
        let (n, s) = axpy_thr(&mut w, &a, 0.5, 2.0);
        // |0.5 a| >= 2 <=> |a| >= 4: a in -10..=-4 (7) and 4..=9 (6)
        assert_eq!(n, 13);
        let expect: f64 = a
            .iter()
            .map(|x| (0.5 * x).abs() as f64)
            .filter(|&m| m >= 2.0)
            .sum();
        assert!((s - expect).abs() < 1e-9);
        assert_eq!(w[10], 0.0);
        assert_eq!(w[0], -5.0);
    }
}
