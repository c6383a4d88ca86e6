//! Dense float kernels of the MLP: dot products and rank-1 row updates.
//!
//! Every reduction uses 16 independent lanes summed in a fixed order at the
//! end, so LLVM vectorises it without reassociating and the result is the
//! same bits for the portable and the AVX2 build of the same source (no FMA
//! contraction is used). The AVX2 versions are chosen at run time.

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
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let ca = a.chunks_exact(LANES);
    let cb = b.chunks_exact(LANES);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..LANES {
            acc[k] += x[k] * y[k];
        }
    }
    for (k, (x, y)) in ra.iter().zip(rb).enumerate() {
        acc[k] += x * y;
    }
    reduce(acc)
}

/// Dots of one weight row `w` with four inputs at once (the row is read once).
#[inline(always)]
fn dot4_body(w: &[f32], x: [&[f32]; 4]) -> [f32; 4] {
    let n = x.iter().fold(w.len(), |m, v| m.min(v.len()));
    let w = &w[..n];
    let (x0, x1, x2, x3) = (&x[0][..n], &x[1][..n], &x[2][..n], &x[3][..n]);
    let mut acc = [[0.0f32; LANES]; 4];
    let full = n / LANES * LANES;
    let mut i = 0;
    while i < full {
        let wv = &w[i..i + LANES];
        let (v0, v1, v2, v3) = (
            &x0[i..i + LANES],
            &x1[i..i + LANES],
            &x2[i..i + LANES],
            &x3[i..i + LANES],
        );
        for k in 0..LANES {
            acc[0][k] += wv[k] * v0[k];
            acc[1][k] += wv[k] * v1[k];
            acc[2][k] += wv[k] * v2[k];
            acc[3][k] += wv[k] * v3[k];
        }
        i += LANES;
    }
    for (k, j) in (full..n).enumerate() {
        acc[0][k] += w[j] * x0[j];
        acc[1][k] += w[j] * x1[j];
        acc[2][k] += w[j] * x2[j];
        acc[3][k] += w[j] * x3[j];
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
    for (wi, ai) in w.iter_mut().zip(a) {
        *wi += ai * u;
    }
}

/// `w[i] += a[i] * u` where `|a[i] * u| >= thr`; returns `(writes, Σ|Δw|)`
/// of the kept non-zero changes.
#[inline(always)]
fn axpy_thr_body(w: &mut [f32], a: &[f32], u: f32, thr: f32) -> (u64, f64) {
    let n = w.len().min(a.len());
    let (w, a) = (&mut w[..n], &a[..n]);
    let mut cnt = [0u32; LANES];
    let mut sum = [0.0f32; LANES];
    let full = n / LANES * LANES;
    let mut i = 0;
    while i < full {
        let wv = &mut w[i..i + LANES];
        let av = &a[i..i + LANES];
        for k in 0..LANES {
            let d = av[k] * u;
            let m = d.abs();
            let keep = m >= thr && m > 0.0;
            let d = if keep { d } else { 0.0 };
            wv[k] += d;
            cnt[k] += keep as u32;
            sum[k] += d.abs();
        }
        i += LANES;
    }
    for (k, j) in (full..n).enumerate() {
        let d = a[j] * u;
        let m = d.abs();
        if m >= thr && m > 0.0 {
            w[j] += d;
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
    #[target_feature(enable = "avx2")]
    pub fn dot(a: &[f32], b: &[f32]) -> f32 {
        super::dot_body(a, b)
    }
    #[target_feature(enable = "avx2")]
    pub fn dot4(w: &[f32], x: [&[f32]; 4]) -> [f32; 4] {
        super::dot4_body(w, x)
    }
    #[target_feature(enable = "avx2")]
    pub fn axpy(w: &mut [f32], a: &[f32], u: f32) {
        super::axpy_body(w, a, u)
    }
    #[target_feature(enable = "avx2")]
    pub fn axpy_thr(w: &mut [f32], a: &[f32], u: f32, thr: f32) -> (u64, f64) {
        super::axpy_thr_body(w, a, u, thr)
    }
}

#[inline]
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
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
        let e: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
        assert!((d as f64 - e).abs() < 1e-4);
        let four = dot4(&a, [&b, &c, &a, &b]);
        assert_eq!(four, [dot(&a, &b), dot(&a, &c), dot(&a, &a), dot(&a, &b)]);
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
