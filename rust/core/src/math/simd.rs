//! Dense float kernels: dot products and rank-1 row updates.
//!
//! Each kernel is written once, portably, with 16 independent lanes summed
//! in a fixed pairwise order at the end and products accumulated with fused
//! multiply-add (`mul_add`). [`multiversion!`] compiles that one body for
//! AVX-512F, for AVX2+FMA and for the baseline, and picks the widest the CPU
//! has at run time. The compiler vectorises the lanes but never reorders
//! floating-point operations, so every version gives the same bits.
//!
//! The fused kernels [`axpy_dot`] and [`axpy_dot2`] update a weight row and
//! immediately take its product with the next sample, so the row is read
//! from cache once per training step; the pair version interleaves two
//! rows, whose two independent accumulation chains hide the latency of the
//! fused multiply-add.

/// Accumulator lanes of every reduction.
pub const LANES: usize = 16;

#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn has_avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}

#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// `pub fn $name(args) -> T` that runs the `#[inline(always)]` portable
/// `$body` compiled for the widest vector unit present (AVX-512F, AVX2+FMA,
/// baseline).
macro_rules! multiversion {
    ($(#[$meta:meta])* pub fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty = $body:ident;) => {
        $(#[$meta])*
        #[inline]
        pub fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn wide($($arg: $ty),*) -> $ret {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn narrow($($arg: $ty),*) -> $ret {
                    $body($($arg),*)
                }
                if $crate::math::simd::has_avx512() {
                    // SAFETY: the CPU supports AVX-512F (checked at run time).
                    return unsafe { wide($($arg),*) };
                }
                if $crate::math::simd::has_avx2() {
                    // SAFETY: the CPU supports AVX2 and FMA (checked at run time).
                    return unsafe { narrow($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}

pub(crate) use multiversion;

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

/// `acc[k] += a[i] b[i]` for the elements `i ≡ k` of a tail (< 16 values).
#[inline(always)]
fn dot_tail(a: &[f32], b: &[f32], acc: &mut [f32; LANES]) {
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        acc[k] = x.mul_add(*y, acc[k]);
    }
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
    dot_tail(ra, rb, &mut acc);
    reduce(acc)
}

/// [`dot_body`] of two rows with the same `x` (two independent chains).
#[inline(always)]
fn dot2_body(w0: &[f32], w1: &[f32], x: &[f32]) -> (f32, f32) {
    let n = w0.len().min(w1.len()).min(x.len());
    let full = n / LANES * LANES;
    let (mut acc0, mut acc1) = ([0.0f32; LANES], [0.0f32; LANES]);
    for ((c0, c1), xc) in w0[..full]
        .chunks_exact(LANES)
        .zip(w1[..full].chunks_exact(LANES))
        .zip(x[..full].chunks_exact(LANES))
    {
        for k in 0..LANES {
            acc0[k] = c0[k].mul_add(xc[k], acc0[k]);
            acc1[k] = c1[k].mul_add(xc[k], acc1[k]);
        }
    }
    dot_tail(&w0[full..n], &x[full..n], &mut acc0);
    dot_tail(&w1[full..n], &x[full..n], &mut acc1);
    (reduce(acc0), reduce(acc1))
}

/// `w[i] += a[i] * u` for every `i` (dense rank-1 row update).
#[inline(always)]
fn axpy_body(w: &mut [f32], a: &[f32], u: f32) {
    let n = w.len().min(a.len());
    for (wi, ai) in w[..n].iter_mut().zip(&a[..n]) {
        *wi = ai.mul_add(u, *wi);
    }
}

/// [`axpy_body`] then [`dot_body`] of the updated row with `x`, chunk by
/// chunk: the same operations on every element and lane, in one pass.
#[inline(always)]
fn axpy_dot_body(w: &mut [f32], a: &[f32], u: f32, x: &[f32]) -> f32 {
    let n = w.len().min(a.len()).min(x.len());
    let full = n / LANES * LANES;
    let (wf, wr) = w[..n].split_at_mut(full);
    let mut acc = [0.0f32; LANES];
    for ((wc, ac), xc) in wf
        .chunks_exact_mut(LANES)
        .zip(a[..full].chunks_exact(LANES))
        .zip(x[..full].chunks_exact(LANES))
    {
        for k in 0..LANES {
            wc[k] = ac[k].mul_add(u, wc[k]);
            acc[k] = wc[k].mul_add(xc[k], acc[k]);
        }
    }
    axpy_body(wr, &a[full..n], u);
    dot_tail(wr, &x[full..n], &mut acc);
    reduce(acc)
}

/// [`axpy_dot_body`] on two rows sharing `a` and `x` (two independent chains).
#[inline(always)]
fn axpy_dot2_body(
    w0: &mut [f32],
    w1: &mut [f32],
    a: &[f32],
    u: (f32, f32),
    x: &[f32],
) -> (f32, f32) {
    let n = w0.len().min(w1.len()).min(a.len()).min(x.len());
    let full = n / LANES * LANES;
    let (w0f, w0r) = w0[..n].split_at_mut(full);
    let (w1f, w1r) = w1[..n].split_at_mut(full);
    let (mut acc0, mut acc1) = ([0.0f32; LANES], [0.0f32; LANES]);
    for (((c0, c1), ac), xc) in w0f
        .chunks_exact_mut(LANES)
        .zip(w1f.chunks_exact_mut(LANES))
        .zip(a[..full].chunks_exact(LANES))
        .zip(x[..full].chunks_exact(LANES))
    {
        for k in 0..LANES {
            c0[k] = ac[k].mul_add(u.0, c0[k]);
            c1[k] = ac[k].mul_add(u.1, c1[k]);
            acc0[k] = c0[k].mul_add(xc[k], acc0[k]);
            acc1[k] = c1[k].mul_add(xc[k], acc1[k]);
        }
    }
    let (ar, xr) = (&a[full..n], &x[full..n]);
    axpy_body(w0r, ar, u.0);
    axpy_body(w1r, ar, u.1);
    dot_tail(w0r, xr, &mut acc0);
    dot_tail(w1r, xr, &mut acc1);
    (reduce(acc0), reduce(acc1))
}

/// One lane of the thresholded update: `w += a u` where `|a u| >= thr`
/// (and non-zero), counted into the lane's `(cnt, sum)`. Branch-free, so
/// the chunk loops vectorise: an unkept change adds 0.
#[inline(always)]
fn thr_lane(w: &mut f32, a: f32, u: f32, thr: f32, cnt: &mut u32, sum: &mut f32) {
    let d = a * u;
    let m = d.abs();
    let keep = m >= thr && m > 0.0;
    let d = if keep { d } else { 0.0 };
    *w += d;
    *cnt += keep as u32;
    *sum += d.abs();
}

/// The tail (< [`LANES`] elements) of the thresholded update: lane `k` =
/// element `k`; unkept weights are left alone.
#[inline(always)]
fn thr_tail(
    w: &mut [f32],
    a: &[f32],
    u: f32,
    thr: f32,
    cnt: &mut [u32; LANES],
    sum: &mut [f32; LANES],
) {
    for (k, (wi, ai)) in w.iter_mut().zip(a).enumerate() {
        let d = ai * u;
        let m = d.abs();
        if m >= thr && m > 0.0 {
            *wi += d;
            cnt[k] += 1;
            sum[k] += m;
        }
    }
}

/// `(writes, Σ|Δw|)` of the lanes' counts.
#[inline(always)]
fn thr_totals(cnt: &[u32; LANES], sum: &[f32; LANES]) -> (u64, f64) {
    (
        cnt.iter().map(|&c| c as u64).sum(),
        sum.iter().map(|&s| s as f64).sum(),
    )
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
            thr_lane(&mut wv[k], av[k], u, thr, &mut cnt[k], &mut sum[k]);
        }
    }
    thr_tail(rw, ra, u, thr, &mut cnt, &mut sum);
    thr_totals(&cnt, &sum)
}

/// [`axpy_thr_body`] then [`dot_body`] of the updated row with `x`, chunk
/// by chunk: the same operations on every element and lane, in one pass.
/// `(writes, Σ|Δw|, w · x)`.
#[inline(always)]
fn axpy_thr_dot_body(w: &mut [f32], a: &[f32], u: f32, thr: f32, x: &[f32]) -> (u64, f64, f32) {
    let n = w.len().min(a.len()).min(x.len());
    let full = n / LANES * LANES;
    let (w, rw) = w[..n].split_at_mut(full);
    let mut cnt = [0u32; LANES];
    let mut sum = [0.0f32; LANES];
    let mut acc = [0.0f32; LANES];
    for ((wv, av), xv) in w
        .chunks_exact_mut(LANES)
        .zip(a[..full].chunks_exact(LANES))
        .zip(x[..full].chunks_exact(LANES))
    {
        for k in 0..LANES {
            thr_lane(&mut wv[k], av[k], u, thr, &mut cnt[k], &mut sum[k]);
            acc[k] = wv[k].mul_add(xv[k], acc[k]);
        }
    }
    thr_tail(rw, &a[full..n], u, thr, &mut cnt, &mut sum);
    dot_tail(rw, &x[full..n], &mut acc);
    let (writes, change) = thr_totals(&cnt, &sum);
    (writes, change, reduce(acc))
}

/// [`axpy_thr_dot_body`] on two rows sharing `a` and `x`, with factors
/// `u = (u0, u1)` and thresholds `thr = (t0, t1)`: the same operations on
/// each row, whose two independent chains hide the latency (as
/// [`axpy_dot2_body`]).
#[inline(always)]
fn axpy_thr_dot2_body(
    w0: &mut [f32],
    w1: &mut [f32],
    a: &[f32],
    u: (f32, f32),
    thr: (f32, f32),
    x: &[f32],
) -> [(u64, f64, f32); 2] {
    let n = w0.len().min(w1.len()).min(a.len()).min(x.len());
    let full = n / LANES * LANES;
    let (w0f, w0r) = w0[..n].split_at_mut(full);
    let (w1f, w1r) = w1[..n].split_at_mut(full);
    let (mut cnt0, mut cnt1) = ([0u32; LANES], [0u32; LANES]);
    let (mut sum0, mut sum1) = ([0.0f32; LANES], [0.0f32; LANES]);
    let (mut acc0, mut acc1) = ([0.0f32; LANES], [0.0f32; LANES]);
    for (((c0, c1), av), xv) in w0f
        .chunks_exact_mut(LANES)
        .zip(w1f.chunks_exact_mut(LANES))
        .zip(a[..full].chunks_exact(LANES))
        .zip(x[..full].chunks_exact(LANES))
    {
        for k in 0..LANES {
            thr_lane(&mut c0[k], av[k], u.0, thr.0, &mut cnt0[k], &mut sum0[k]);
            thr_lane(&mut c1[k], av[k], u.1, thr.1, &mut cnt1[k], &mut sum1[k]);
            acc0[k] = c0[k].mul_add(xv[k], acc0[k]);
            acc1[k] = c1[k].mul_add(xv[k], acc1[k]);
        }
    }
    let (ar, xr) = (&a[full..n], &x[full..n]);
    thr_tail(w0r, ar, u.0, thr.0, &mut cnt0, &mut sum0);
    thr_tail(w1r, ar, u.1, thr.1, &mut cnt1, &mut sum1);
    dot_tail(w0r, xr, &mut acc0);
    dot_tail(w1r, xr, &mut acc1);
    let ((c0, m0), (c1, m1)) = (thr_totals(&cnt0, &sum0), thr_totals(&cnt1, &sum1));
    [(c0, m0, reduce(acc0)), (c1, m1, reduce(acc1))]
}

multiversion! {
    /// `Σ a[i] b[i]` over the common length.
    pub fn dot(a: &[f32], b: &[f32]) -> f32 = dot_body;
}

multiversion! {
    /// [`dot`] of two rows with the same `x`: `(w0 · x, w1 · x)`.
    pub fn dot2(w0: &[f32], w1: &[f32], x: &[f32]) -> (f32, f32) = dot2_body;
}

multiversion! {
    /// `w += u * a`.
    pub fn axpy(w: &mut [f32], a: &[f32], u: f32) -> () = axpy_body;
}

multiversion! {
    /// `w += u * a` restricted to `|u a_i| >= thr`; `(writes, Σ|Δw|)`.
    pub fn axpy_thr(w: &mut [f32], a: &[f32], u: f32, thr: f32) -> (u64, f64) = axpy_thr_body;
}

multiversion! {
    /// `w += u * a`, then `w · x` with the updated row; bit-identical to
    /// [`axpy`] followed by [`dot`].
    pub fn axpy_dot(w: &mut [f32], a: &[f32], u: f32, x: &[f32]) -> f32 = axpy_dot_body;
}

multiversion! {
    /// [`axpy_thr`], then `w · x` with the updated row; bit-identical to
    /// [`axpy_thr`] followed by [`dot`].
    pub fn axpy_thr_dot(w: &mut [f32], a: &[f32], u: f32, thr: f32, x: &[f32]) -> (u64, f64, f32) = axpy_thr_dot_body;
}

multiversion! {
    /// [`axpy_thr_dot`] on two rows sharing `a` and `x`, with factors
    /// `u = (u0, u1)` and thresholds `thr = (t0, t1)`; bit-identical to two
    /// calls of [`axpy_thr_dot`].
    pub fn axpy_thr_dot2(
        w0: &mut [f32],
        w1: &mut [f32],
        a: &[f32],
        u: (f32, f32),
        thr: (f32, f32),
        x: &[f32],
    ) -> [(u64, f64, f32); 2] = axpy_thr_dot2_body;
}

multiversion! {
    /// [`axpy_dot`] on two rows sharing `a` and `x`, with factors `u = (u0, u1)`.
    pub fn axpy_dot2(
        w0: &mut [f32],
        w1: &mut [f32],
        a: &[f32],
        u: (f32, f32),
        x: &[f32],
    ) -> (f32, f32) = axpy_dot2_body;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_is_close_to_the_double_precision_sum() {
        let a: Vec<f32> = (0..101).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..101).map(|i| (i as f32 * 0.11).cos()).collect();
        let e: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
        assert!((dot(&a, &b) as f64 - e).abs() < 1e-4);
    }

    #[test]
    fn every_kernel_matches_the_portable_bodies() {
        // Lengths around the 16-lane boundary exercise the tails.
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
            for thr in [0.0, 0.2, 0.6, 2.0] {
                let (mut w1, mut w2) = (w0.clone(), w0.clone());
                let (c, m, z) = axpy_thr_dot(&mut w1, &a, 0.7, thr, &x);
                let r2 = axpy_thr_body(&mut w2, &a, 0.7, thr);
                let z2 = dot_body(&w2, &x);
                assert_eq!((w1, (c, m), z.to_bits()), (w2, r2, z2.to_bits()), "n={n}");
            }
            // Two rows at a time: the bits of two single-row calls, with
            // negative zeros among the weights and a row that keeps nothing.
            let mut v1: Vec<f32> = w0.iter().map(|v| -v).collect();
            if n > 3 {
                (v1[1], v1[3]) = (-0.0, 0.0);
            }
            for (t0, t1) in [(0.0, 0.2), (0.2, 0.6), (2.0, 0.1), (0.6, 50.0)] {
                let (mut p, mut q) = (w0.clone(), v1.clone());
                let r = axpy_thr_dot2(&mut p, &mut q, &a, (0.7, -0.4), (t0, t1), &x);
                let (mut p2, mut q2) = (w0.clone(), v1.clone());
                let r0 = axpy_thr_dot_body(&mut p2, &a, 0.7, t0, &x);
                let r1 = axpy_thr_dot_body(&mut q2, &a, -0.4, t1, &x);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!((bits(&p), bits(&q)), (bits(&p2), bits(&q2)), "thr2 n={n}");
                assert_eq!(
                    r.map(|(c, m, z)| (c, m.to_bits(), z.to_bits())),
                    [r0, r1].map(|(c, m, z)| (c, m.to_bits(), z.to_bits())),
                    "thr2 n={n} thr=({t0}, {t1})"
                );
            }
            let (d0, d1) = dot2(&w0, &a, &x);
            assert_eq!(
                (d0.to_bits(), d1.to_bits()),
                (dot_body(&w0, &x).to_bits(), dot_body(&a, &x).to_bits()),
                "dot2 n={n}"
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

    /// The AVX2 version is not dispatched on AVX-512 machines; check it directly.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_versions_match_the_portable_bodies() {
        if !has_avx2() {
            return;
        }
        #[target_feature(enable = "avx2,fma")]
        fn run(a: &[f32], x: &[f32], w: &mut [f32]) -> (f32, (u64, f64), f32) {
            let d = dot_body(a, x);
            let (c, m, _) = axpy_thr_dot_body(w, a, 0.7, 0.2, x);
            (d, (c, m), axpy_dot_body(w, a, -0.3, x))
        }
        for n in [0usize, 1, 15, 16, 17, 100, 785] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let x: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let (mut w1, mut w2) = (x.clone(), x.clone());
            // SAFETY: the CPU supports AVX2 and FMA (checked above).
            let (d, t, z) = unsafe { run(&a, &x, &mut w1) };
            let t2 = axpy_thr_body(&mut w2, &a, 0.7, 0.2);
            let z2 = axpy_dot_body(&mut w2, &a, -0.3, &x);
            assert_eq!(d.to_bits(), dot_body(&a, &x).to_bits(), "dot n={n}");
            assert_eq!((w1, t, z.to_bits()), (w2, t2, z2.to_bits()), "n={n}");
            #[target_feature(enable = "avx2,fma")]
            fn pair(w0: &mut [f32], w1: &mut [f32], a: &[f32], x: &[f32]) -> [(u64, f64, f32); 2] {
                axpy_thr_dot2_body(w0, w1, a, (0.7, -0.4), (0.2, 0.3), x)
            }
            let (mut p, mut q, mut p2, mut q2) = (x.clone(), a.clone(), x.clone(), a.clone());
            // SAFETY: the CPU supports AVX2 and FMA (checked above).
            let r = unsafe { pair(&mut p, &mut q, &a, &x) };
            let r0 = axpy_thr_dot_body(&mut p2, &a, 0.7, 0.2, &x);
            let r1 = axpy_thr_dot_body(&mut q2, &a, -0.4, 0.3, &x);
            let key = |(c, m, z): (u64, f64, f32)| (c, m.to_bits(), z.to_bits());
            assert_eq!((p, q), (p2, q2), "thr2 n={n}");
            assert_eq!(r.map(key), [r0, r1].map(key), "thr2 n={n}");
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
