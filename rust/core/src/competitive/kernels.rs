//! Dense float kernels of the MLP: dot products and rank-1 row updates.
//!
//! Every reduction uses 16 independent lanes summed in a fixed order at the
//! end, and products are accumulated with fused multiply-add (`mul_add`),
//! so the portable code and the AVX2+FMA or AVX-512 intrinsics (chosen at
//! run time) give the same bits.
//!
//! The fused kernels [`axpy_dot`] and [`axpy_dot2`] update a weight row and
//! immediately take its product with the next sample, so the row is read
//! from cache once per training step; the pair version interleaves two
//! rows, whose two independent accumulation chains hide the latency of the
//! fused multiply-add. Batched forward products (evaluation, `predict`) use
//! weights packed in column panels ([`Panels`]) and register-blocked
//! micro-kernels.

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
    thr_tail(rw, ra, u, thr, cnt, sum)
}

/// The scalar tail (fewer than 16 elements, lane `k` = element `k`) of a
/// thresholded update, then the lane counters summed: shared by the
/// portable and the AVX2 code.
#[inline(always)]
fn thr_tail(
    w: &mut [f32],
    a: &[f32],
    u: f32,
    thr: f32,
    mut cnt: [u32; LANES],
    mut sum: [f32; LANES],
) -> (u64, f64) {
    for (k, (wi, ai)) in w.iter_mut().zip(a).enumerate() {
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
        super::thr_tail(&mut w[full..n], &a[full..n], u, thr, cnts, sums)
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    //! One 512-bit register holds the 16 lanes of the portable bodies
    //! (lane `k` = element `k % 16`); tails use masked operations that leave
    //! the other lanes untouched: bit-identical results.
    use super::{reduce, LANES};
    use std::arch::x86_64::*;

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn lanes(v: __m512) -> [f32; LANES] {
        let mut out = [0.0f32; LANES];
        // SAFETY: `out` holds 16 floats.
        unsafe { _mm512_storeu_ps(out.as_mut_ptr(), v) };
        out
    }

    #[inline]
    fn tail_mask(rem: usize) -> __mmask16 {
        ((1u32 << rem) - 1) as __mmask16
    }

    #[target_feature(enable = "avx512f")]
    pub fn dot(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let full = n / LANES * LANES;
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = _mm512_setzero_ps();
        let mut i = 0;
        // SAFETY (all blocks): i + 16 <= full <= n, and the masked tail
        // touches only the n - full elements left.
        while i < full {
            unsafe {
                acc = _mm512_fmadd_ps(_mm512_loadu_ps(pa.add(i)), _mm512_loadu_ps(pb.add(i)), acc);
            }
            i += LANES;
        }
        if full < n {
            let m = tail_mask(n - full);
            unsafe {
                let x = _mm512_maskz_loadu_ps(m, pa.add(full));
                let y = _mm512_maskz_loadu_ps(m, pb.add(full));
                acc = _mm512_mask3_fmadd_ps(x, y, acc, m);
            }
        }
        reduce(lanes(acc))
    }

    #[target_feature(enable = "avx512f")]
    pub fn axpy(w: &mut [f32], a: &[f32], u: f32) {
        let n = w.len().min(a.len());
        let full = n / LANES * LANES;
        let uv = _mm512_set1_ps(u);
        let (pw, pa) = (w.as_mut_ptr(), a.as_ptr());
        let mut i = 0;
        // SAFETY: as in `dot`.
        while i < full {
            unsafe {
                let r = _mm512_fmadd_ps(_mm512_loadu_ps(pa.add(i)), uv, _mm512_loadu_ps(pw.add(i)));
                _mm512_storeu_ps(pw.add(i), r);
            }
            i += LANES;
        }
        if full < n {
            let m = tail_mask(n - full);
            unsafe {
                let av = _mm512_maskz_loadu_ps(m, pa.add(full));
                let wv = _mm512_maskz_loadu_ps(m, pw.add(full));
                _mm512_mask_storeu_ps(pw.add(full), m, _mm512_fmadd_ps(av, uv, wv));
            }
        }
    }

    /// `axpy(w, a, u)` then `dot(w, x)` in one pass.
    #[target_feature(enable = "avx512f")]
    pub fn axpy_dot(w: &mut [f32], a: &[f32], u: f32, x: &[f32]) -> f32 {
        let n = w.len().min(a.len()).min(x.len());
        let full = n / LANES * LANES;
        let uv = _mm512_set1_ps(u);
        let (pw, pa, px) = (w.as_mut_ptr(), a.as_ptr(), x.as_ptr());
        let mut acc = _mm512_setzero_ps();
        let mut i = 0;
        // SAFETY: as in `dot`.
        while i < full {
            unsafe {
                let r = _mm512_fmadd_ps(_mm512_loadu_ps(pa.add(i)), uv, _mm512_loadu_ps(pw.add(i)));
                _mm512_storeu_ps(pw.add(i), r);
                acc = _mm512_fmadd_ps(r, _mm512_loadu_ps(px.add(i)), acc);
            }
            i += LANES;
        }
        if full < n {
            let m = tail_mask(n - full);
            unsafe {
                let av = _mm512_maskz_loadu_ps(m, pa.add(full));
                let wv = _mm512_maskz_loadu_ps(m, pw.add(full));
                let r = _mm512_fmadd_ps(av, uv, wv);
                _mm512_mask_storeu_ps(pw.add(full), m, r);
                let xv = _mm512_maskz_loadu_ps(m, px.add(full));
                acc = _mm512_mask3_fmadd_ps(r, xv, acc, m);
            }
        }
        reduce(lanes(acc))
    }

    /// [`axpy_dot`] on two rows at once (two independent chains).
    #[target_feature(enable = "avx512f")]
    pub fn axpy_dot2(
        w0: &mut [f32],
        w1: &mut [f32],
        a: &[f32],
        u: (f32, f32),
        x: &[f32],
    ) -> (f32, f32) {
        let n = w0.len().min(w1.len()).min(a.len()).min(x.len());
        let full = n / LANES * LANES;
        let (u0, u1) = (_mm512_set1_ps(u.0), _mm512_set1_ps(u.1));
        let (p0, p1, pa, px) = (w0.as_mut_ptr(), w1.as_mut_ptr(), a.as_ptr(), x.as_ptr());
        let (mut acc0, mut acc1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
        let mut i = 0;
        // SAFETY: as in `dot`.
        while i < full {
            unsafe {
                let av = _mm512_loadu_ps(pa.add(i));
                let xv = _mm512_loadu_ps(px.add(i));
                let r0 = _mm512_fmadd_ps(av, u0, _mm512_loadu_ps(p0.add(i)));
                let r1 = _mm512_fmadd_ps(av, u1, _mm512_loadu_ps(p1.add(i)));
                _mm512_storeu_ps(p0.add(i), r0);
                _mm512_storeu_ps(p1.add(i), r1);
                acc0 = _mm512_fmadd_ps(r0, xv, acc0);
                acc1 = _mm512_fmadd_ps(r1, xv, acc1);
            }
            i += LANES;
        }
        if full < n {
            let m = tail_mask(n - full);
            unsafe {
                let av = _mm512_maskz_loadu_ps(m, pa.add(full));
                let xv = _mm512_maskz_loadu_ps(m, px.add(full));
                let r0 = _mm512_fmadd_ps(av, u0, _mm512_maskz_loadu_ps(m, p0.add(full)));
                let r1 = _mm512_fmadd_ps(av, u1, _mm512_maskz_loadu_ps(m, p1.add(full)));
                _mm512_mask_storeu_ps(p0.add(full), m, r0);
                _mm512_mask_storeu_ps(p1.add(full), m, r1);
                acc0 = _mm512_mask3_fmadd_ps(r0, xv, acc0, m);
                acc1 = _mm512_mask3_fmadd_ps(r1, xv, acc1, m);
            }
        }
        (reduce(lanes(acc0)), reduce(lanes(acc1)))
    }

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

    #[target_feature(enable = "avx512f")]
    pub fn axpy_thr(w: &mut [f32], a: &[f32], u: f32, thr: f32) -> (u64, f64) {
        let n = w.len().min(a.len());
        let full = n / LANES * LANES;
        let uv = _mm512_set1_ps(u);
        let tv = _mm512_set1_ps(thr);
        let zero = _mm512_setzero_ps();
        let (pw, pa) = (w.as_mut_ptr(), a.as_ptr());
        let mut count = 0u64;
        let mut sum = _mm512_setzero_ps();
        // Full chunks add a zero to the unkept weights, the tail leaves them
        // alone: exactly what the portable body does.
        let mut step = |i: usize, m: __mmask16, tail: bool| {
            // SAFETY: the lanes in `m` lie within `i..n`.
            unsafe {
                let d = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, pa.add(i)), uv);
                let mag = _mm512_abs_ps(d);
                let keep = m
                    & _mm512_cmp_ps_mask::<_CMP_GE_OQ>(mag, tv)
                    & _mm512_cmp_ps_mask::<_CMP_GT_OQ>(mag, zero);
                let wv = _mm512_maskz_loadu_ps(m, pw.add(i));
                let store = if tail { keep } else { m };
                _mm512_mask_storeu_ps(
                    pw.add(i),
                    store,
                    _mm512_add_ps(wv, _mm512_maskz_mov_ps(keep, d)),
                );
                count += keep.count_ones() as u64;
                sum = _mm512_mask_add_ps(sum, keep, sum, mag);
            }
        };
        let mut i = 0;
        while i < full {
            step(i, 0xffff, false);
            i += LANES;
        }
        if full < n {
            step(full, tail_mask(n - full), true);
        }
        (count, lanes(sum).iter().map(|&s| s as f64).sum())
    }
}

#[inline]
fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
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
    if has_avx512() {
        // SAFETY: the CPU supports AVX-512F (checked at run time).
        return unsafe { avx512::dot(a, b) };
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 (checked at run time).
        return unsafe { avx2::dot(a, b) };
    }
    dot_body(a, b)
}

/// `w += u * a`.
#[inline]
pub fn axpy(w: &mut [f32], a: &[f32], u: f32) {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU supports AVX-512F (checked at run time).
        return unsafe { avx512::axpy(w, a, u) };
    }
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
    if has_avx512() {
        // SAFETY: the CPU supports AVX-512F (checked at run time).
        return unsafe { avx512::axpy_thr(w, a, u, thr) };
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 (checked at run time).
        return unsafe { avx2::axpy_thr(w, a, u, thr) };
    }
    axpy_thr_body(w, a, u, thr)
}

/// `w += u * a`, then `w · x` with the updated row; bit-identical to
/// [`axpy`] followed by [`dot`].
#[inline]
pub fn axpy_dot(w: &mut [f32], a: &[f32], u: f32, x: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU supports AVX-512F (checked at run time).
        return unsafe { avx512::axpy_dot(w, a, u, x) };
    }
    axpy(w, a, u);
    dot(w, x)
}

/// [`axpy_dot`] on two rows sharing `a` and `x`, with factors `u = (u0, u1)`.
#[inline]
pub fn axpy_dot2(
    w0: &mut [f32],
    w1: &mut [f32],
    a: &[f32],
    u: (f32, f32),
    x: &[f32],
) -> (f32, f32) {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU supports AVX-512F (checked at run time).
        return unsafe { avx512::axpy_dot2(w0, w1, a, u, x) };
    }
    (axpy_dot(w0, a, u.0, x), axpy_dot(w1, a, u.1, x))
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

    #[test]
    fn dot_variants_agree_bitwise() {
        let a: Vec<f32> = (0..101).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..101).map(|i| (i as f32 * 0.11).cos()).collect();
        let c: Vec<f32> = (0..101).map(|i| i as f32 * 0.01).collect();
        let d = dot(&a, &b);
        assert_eq!(d, dot_body(&a, &b));
        let (mut w1, mut w2) = (c.clone(), c.clone());
        assert_eq!(
            axpy_thr(&mut w1, &a, 0.3, 0.1),
            axpy_thr_body(&mut w2, &a, 0.3, 0.1)
        );
        assert_eq!(w1, w2);
        let e: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
        assert!((d as f64 - e).abs() < 1e-4);
    }

    #[test]
    fn every_kernel_matches_the_portable_bodies() {
        // Lengths around the 16-lane boundary exercise the masked tails.
        for n in [0usize, 1, 15, 16, 17, 31, 100, 785] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let x: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let w0: Vec<f32> = (0..n).map(|i| (i as f32 * 0.05).sin() * 0.1).collect();
            assert_eq!(
                dot(&a, &x).to_bits(),
                dot_body(&a, &x).to_bits(),
                "dot n={n}"
            );
            let (mut w1, mut w2) = (w0.clone(), w0.clone());
            axpy(&mut w1, &a, -0.3);
            axpy_body(&mut w2, &a, -0.3);
            assert_eq!(w1, w2, "axpy n={n}");
            let (mut w1, mut w2) = (w0.clone(), w0.clone());
            let r1 = axpy_thr(&mut w1, &a, 0.7, 0.2);
            let r2 = axpy_thr_body(&mut w2, &a, 0.7, 0.2);
            assert_eq!((w1, r1), (w2, r2), "axpy_thr n={n}");
            let (mut w1, mut w2) = (w0.clone(), w0.clone());
            let z = axpy_dot(&mut w1, &a, 0.3, &x);
            axpy_body(&mut w2, &a, 0.3);
            assert_eq!(
                (z.to_bits(), &w1),
                (dot_body(&w2, &x).to_bits(), &w2),
                "axpy_dot n={n}"
            );
            let (mut p, mut q) = (w0.clone(), a.clone());
            let (z0, z1) = axpy_dot2(&mut p, &mut q, &x, (0.3, -0.2), &a);
            let (mut p2, mut q2) = (w0.clone(), a.clone());
            axpy_body(&mut p2, &x, 0.3);
            axpy_body(&mut q2, &x, -0.2);
            assert_eq!((p, q), (p2.clone(), q2.clone()), "axpy_dot2 n={n}");
            assert_eq!(
                (z0.to_bits(), z1.to_bits()),
                (dot_body(&p2, &a).to_bits(), dot_body(&q2, &a).to_bits())
            );
        }
    }

    /// The AVX2 code is not dispatched on AVX-512 machines; check it directly.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_kernels_match_the_portable_bodies() {
        if !has_avx2() {
            return;
        }
        for n in [0usize, 1, 15, 16, 17, 100, 785] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let x: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            // SAFETY (all calls): the CPU supports AVX2 and FMA (checked above).
            let d = unsafe { avx2::dot(&a, &x) };
            assert_eq!(d.to_bits(), dot_body(&a, &x).to_bits(), "dot n={n}");
            let (mut w1, mut w2) = (x.clone(), x.clone());
            unsafe { avx2::axpy(&mut w1, &a, -0.3) };
            axpy_body(&mut w2, &a, -0.3);
            assert_eq!(w1, w2, "axpy n={n}");
            let (mut w1, mut w2) = (x.clone(), x.clone());
            let r1 = unsafe { avx2::axpy_thr(&mut w1, &a, 0.7, 0.2) };
            let r2 = axpy_thr_body(&mut w2, &a, 0.7, 0.2);
            assert_eq!((w1, r1), (w2, r2), "axpy_thr n={n}");
        }
        let (n_in, n_out, nb) = (37, 21, 13);
        let w: Vec<f32> = (0..n_out * (n_in + 1))
            .map(|q| (q as f32 * 0.13).sin())
            .collect();
        let x: Vec<f32> = (0..nb * n_in).map(|q| (q as f32 * 0.21).cos()).collect();
        let pk = Panels::pack(&w, n_in, n_out);
        let mut z = vec![0.0f32; nb * n_out];
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
