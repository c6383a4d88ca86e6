//! Thresholds of the top fraction of `|Δw|` without sorting the updates.
//!
//! The threshold is the value the reference code uses: with `n` candidate
//! updates and fraction `p`, `k = round_half_even((1 − p)(n − 1))` and the
//! threshold is the `k`-th smallest `|Δw|` (0-based); updates `>=` it are
//! kept, so about `p·n` (at least one) survive, ties all together.
//!
//! * A batch-1 update is a rank-1 outer product `|Δw_ji| = fl(|u_j|·|a_i|)`,
//!   monotone in both factors ([`layer_threshold`]). Its `k`-th smallest
//!   product is found exactly from the sorted factors, without touching all
//!   `n_pre · n_post` products: a count of the products `>= t` is one
//!   two-pointer sweep (`O(n_pre + n_post)`). First a lower bound `L` from
//!   one partial selection (`r` factors `a >= a_(r)` times `m` factors
//!   `b >= b_(m)` give `r·m` products `>= L`) discards every factor whose
//!   products all stay below `L`, so only the survivors are sorted (radix
//!   sort of the bit patterns). The search starts from the best such
//!   rectangle of the sorted factors (`rectangle_bound`). Then the
//!   threshold's bracket is narrowed on the bit pattern of positive floats
//!   (interpolating the counts, with a bisection fallback) until it holds
//!   at most [`CANDIDATES`] products,
//!   which are listed and the threshold selected among them.
//! * Per postsynaptic neuron the `k`-th smallest of `fl(|u_j| |a_i|)` over `i`
//!   is `fl(|u_j| · a_(k))` (monotonicity), so one selection
//!   (`select_nth_unstable`, nth_element) of the presynaptic factors serves
//!   every neuron.
//! * A materialised update matrix (batch > 1) uses `select_nth_unstable`
//!   on a scratch copy of the magnitudes.

/// Index of the threshold in ascending order for `n` candidates and fraction `p`.
pub fn kth_index(n: usize, p: f64) -> usize {
    if n == 0 {
        return 0;
    }
    let k = ((1.0 - p) * (n - 1) as f64).round_ties_even();
    (k.max(0.0) as usize).min(n - 1)
}

/// Most products listed explicitly once the bisection has narrowed the
/// threshold to a bracket that holds no more of them.
pub const CANDIDATES: usize = 2048;

/// Below this length a comparison sort is faster than the radix sort.
const RADIX_MIN: usize = 96;

/// Sort `v` ascending, every value non-negative (sign bit clear): the bit
/// patterns of such floats order like their values, so a least-significant
/// digit first radix sort of the bit patterns (`sort_distinct`) gives
/// the order of a comparison sort. `tmp` holds at least `v.len()` values.
pub fn sort_magnitudes(v: &mut [f32], tmp: &mut [f32]) {
    let n = v.len();
    if n >= RADIX_MIN {
        // A value repeated over a large part of `v` (the background of an
        // image) is set aside and only the rest sorted: equal values have
        // equal bits here (no -0, no NaN), so the result is the same.
        let v0 = v[0].to_bits();
        let c0 = v.iter().filter(|x| x.to_bits() == v0).count();
        if c0 >= n / 4 {
            let mut m = 0;
            for i in 0..n {
                if v[i].to_bits() != v0 {
                    v.swap(m, i);
                    m += 1;
                }
            }
            sort_distinct(&mut v[..m], tmp);
            let p = v[..m].partition_point(|x| x.to_bits() < v0);
            v.copy_within(p..m, p + c0);
            v[p..p + c0].fill(f32::from_bits(v0));
            return;
        }
    }
    sort_distinct(v, tmp);
}

/// Widest digit of the radix sort.
const DIGIT_BITS: u32 = 9;

/// [`sort_magnitudes`] without looking for a repeated value. The radix
/// sort orders the bit patterns less their minimum, so only the bits in
/// which the values differ are sorted, in as few passes of at most
/// [`DIGIT_BITS`] as cover them.
fn sort_distinct(v: &mut [f32], tmp: &mut [f32]) {
    let n = v.len();
    if n < RADIX_MIN || tmp.len() < n || u32::try_from(n).is_err() {
        v.sort_unstable_by(|x, y| x.total_cmp(y));
        return;
    }
    let (lo, hi) = v.iter().fold((u32::MAX, 0), |(lo, hi), x| {
        (lo.min(x.to_bits()), hi.max(x.to_bits()))
    });
    let bits = 32 - (hi - lo).leading_zeros();
    if bits == 0 {
        return;
    }
    let passes = bits.div_ceil(DIGIT_BITS) as usize;
    let width = bits.div_ceil(passes as u32) as usize;
    let mask = (1usize << width) - 1;
    let digit = |x: f32, d: usize| ((x.to_bits() - lo) as usize >> (width * d)) & mask;
    let mut hist = [[0u32; 1 << DIGIT_BITS]; 32usize.div_ceil(DIGIT_BITS as usize)];
    for &x in v.iter() {
        for (d, h) in hist[..passes].iter_mut().enumerate() {
            h[digit(x, d)] += 1;
        }
    }
    let tmp = &mut tmp[..n];
    let mut in_v = true;
    for (d, h) in hist[..passes].iter_mut().enumerate() {
        let mut start = 0;
        for c in h[..=mask].iter_mut() {
            (*c, start) = (start, start + *c);
        }
        let (src, dst) = if in_v {
            (&*v, &mut *tmp)
        } else {
            (&*tmp, &mut *v)
        };
        for &x in src {
            let k = digit(x, d);
            dst[h[k] as usize] = x;
            h[k] += 1;
        }
        in_v = !in_v;
    }
    if !in_v {
        v.copy_from_slice(tmp);
    }
}

/// The first index `>= s` of `a` (ascending) with `fl(a_i bj) >= t`
/// (rounding is monotone, so the products below `t` come first): galloping
/// from `s`, so that a long run of equal factors (an image's background)
/// is crossed in a few steps instead of one by one.
#[inline]
fn first_reaching(a: &[f32], s: usize, bj: f32, t: f32) -> usize {
    let n = a.len();
    if s >= n || a[s] * bj >= t {
        return s;
    }
    // Invariant: every product before `lo` is below `t`.
    let (mut lo, mut step) = (s + 1, 1usize);
    loop {
        let probe = lo + step - 1;
        if probe >= n {
            return lo + a[lo..].partition_point(|&x| x * bj < t);
        }
        if a[probe] * bj < t {
            lo = probe + 1;
            step *= 2;
        } else {
            return lo + a[lo..probe].partition_point(|&x| x * bj < t);
        }
    }
}

/// Number of products `fl(a_i b_j) >= t`, `a` ascending, `b` descending.
fn count_ge(a: &[f32], b: &[f32], t: f32) -> u64 {
    let mut s = 0usize;
    let mut count = 0u64;
    for &bj in b {
        s = first_reaching(a, s, bj, t);
        if s == a.len() {
            break;
        }
        count += (a.len() - s) as u64;
    }
    count
}

/// The products `fl(a_i b_j)` in `[lo, hi)` written to `out`; their number.
/// Rounding is monotone, so for each `b_j` they are one run of `a`.
fn products_between(a: &[f32], b: &[f32], lo: f32, hi: f32, out: &mut [f32]) -> usize {
    let (mut s, mut e, mut m) = (0usize, 0usize, 0usize);
    for &bj in b {
        s = first_reaching(a, s, bj, lo);
        if s == a.len() {
            break;
        }
        e = first_reaching(a, e.max(s), bj, hi);
        for &ai in &a[s..e] {
            out[m] = ai * bj;
            m += 1;
        }
    }
    m
}

/// The `k`-th smallest (0-based) of all products `fl(a_i b_j)`, `a` sorted
/// ascending and `b` sorted descending, all non-negative and not NaN.
/// `cand` is scratch: the longer, the fewer counting sweeps (any length is
/// correct).
pub fn kth_product(a: &[f32], b: &[f32], k: usize, cand: &mut [f32]) -> f32 {
    let n = a.len() as u64 * b.len() as u64;
    if n == 0 {
        return 0.0;
    }
    kth_largest_product(a, b, n - (k as u64).min(n - 1), 0.0, cand)
}

/// The `want`-th largest (1-based, `1 <= want <= a.len() · b.len()`) of the
/// products `fl(a_i b_j)`: the largest `t` with at least `want` products
/// `>= t`. Factors as in [`kth_product`]; `floor` is a lower bound of the
/// answer (0 when none is known) where the search starts.
fn kth_largest_product(a: &[f32], b: &[f32], want: u64, floor: f32, cand: &mut [f32]) -> f32 {
    let top = a[a.len() - 1] * b[0];
    let c_top = count_ge(a, b, top);
    if c_top >= want {
        return top;
    }
    // Invariant: c_lo = count_ge(lo) >= want > c_hi = count_ge(hi).
    let (mut lo, mut hi) = ((a[0] * b[b.len() - 1]).to_bits(), top.to_bits());
    let (mut c_lo, mut c_hi) = (a.len() as u64 * b.len() as u64, c_top);
    if floor.to_bits() > lo && floor.to_bits() < hi {
        let c = count_ge(a, b, floor);
        if c >= want {
            (lo, c_lo) = (floor.to_bits(), c);
        }
    }
    let limit = cand.len() as u64;
    let mut step = 0u32;
    while hi - lo > 1 && c_lo - c_hi > limit {
        let mid = next_probe(lo, hi, c_lo, c_hi, want, limit, step);
        step += 1;
        let c = count_ge(a, b, f32::from_bits(mid));
        if c >= want {
            (lo, c_lo) = (mid, c);
        } else {
            (hi, c_hi) = (mid, c);
        }
    }
    if hi - lo <= 1 {
        // Every product in [lo, hi) equals lo.
        return f32::from_bits(lo);
    }
    // The answer is the (want - c_hi)-th largest of the products in [lo, hi).
    let m = products_between(a, b, f32::from_bits(lo), f32::from_bits(hi), cand);
    let r = (want - c_hi) as usize;
    kth_smallest(&mut cand[..m], m - r)
}

/// The next bit pattern to count in the bracket `(lo, hi)`: the counts are
/// interpolated linearly (bit patterns are nearly logarithmic) to aim a
/// little beyond `want` on alternating sides, so that both ends close in;
/// every third step bisects, which bounds the worst case.
fn next_probe(lo: u32, hi: u32, c_lo: u64, c_hi: u64, want: u64, limit: u64, step: u32) -> u32 {
    let width = (hi - lo) as u64;
    if step % 3 == 2 {
        return lo + (width / 2) as u32;
    }
    let aim = if step.is_multiple_of(3) {
        want.saturating_sub(limit / 3).max(c_hi)
    } else {
        (want + limit / 3).min(c_lo)
    };
    let frac = (c_lo - aim) as f64 / (c_lo - c_hi) as f64;
    let off = (frac * width as f64) as u64;
    lo + off.clamp((width / 32).max(1), width - (width / 32).max(1)) as u32
}

/// Threshold of the `k`-th smallest (0-based) product `fl(a_i b_j)` of the
/// magnitudes `a` and `b` (non-negative, not NaN, reordered in place), for a
/// layer's rank-1 update (see the module notes). `tmp` holds at least
/// `max(a.len(), b.len())` values.
pub fn layer_threshold(
    a: &mut [f32],
    b: &mut [f32],
    k: usize,
    tmp: &mut [f32],
    cand: &mut [f32],
) -> f32 {
    let (na, nb) = (a.len(), b.len());
    let n = na as u64 * nb as u64;
    if n == 0 {
        return 0.0;
    }
    let want = n - (k as u64).min(n - 1);
    sort_magnitudes(b, tmp);
    b.reverse();
    // Lower bound: the r largest a times the m largest b are r·m >= want
    // products, each >= fl(a_(r) b_(m)) (m about half of b); a_(r) is
    // bounded below by the floor of the highest binade that r values of
    // `a` reach (a histogram of the exponent bits, not a selection).
    let m = (nb / 2).max(want.div_ceil(na as u64) as usize).clamp(1, nb);
    let r = (want.div_ceil(m as u64) as usize).min(na);
    let mut binades = [0usize; 256];
    let mut a_max = 0u32;
    for &x in a.iter() {
        // Bit patterns of non-negative floats order like their values.
        binades[(x.to_bits() >> 23) as usize & 0xff] += 1;
        a_max = a_max.max(x.to_bits());
    }
    let a_max = f32::from_bits(a_max);
    let mut above = 0;
    let e = (0..256).rev().find(|&e| {
        above += binades[e];
        above >= r
    });
    let floor = f32::from_bits((e.unwrap_or(0) as u32) << 23);
    let bound = floor * b[m - 1];
    // Factors whose largest product stays below the bound never count.
    let bound = if bound >= 0.0 { bound } else { 0.0 };
    let b_max = b[0];
    let mut na_kept = 0;
    for i in 0..na {
        if a[i] * b_max >= bound {
            a.swap(na_kept, i);
            na_kept += 1;
        }
    }
    let mut nb_kept = b.partition_point(|&bj| a_max * bj >= bound);
    if na_kept == 0 || nb_kept == 0 {
        // Not reachable for finite factors; keep everything rather than fail.
        (na_kept, nb_kept) = (na, nb);
    }
    let (a, b) = (&mut a[..na_kept], &b[..nb_kept]);
    sort_magnitudes(a, tmp);
    let floor = bound.max(rectangle_bound(a, b, want));
    kth_largest_product(a, b, want, floor, cand)
}

/// The largest `fl(a_(r) b_(m))` over `m` with `r = ⌈want / m⌉` (the `r`-th
/// largest of `a` ascending, the `m`-th largest of `b` descending): the
/// `r·m >= want` products of those factors all reach it, so it is a lower
/// bound of the `want`-th largest product, much closer than the binades'.
fn rectangle_bound(a: &[f32], b: &[f32], want: u64) -> f32 {
    let mut best = 0.0f32;
    for (m, &bm) in b.iter().enumerate() {
        let r = want.div_ceil(m as u64 + 1);
        if r <= a.len() as u64 {
            best = best.max(a[a.len() - r as usize] * bm);
        }
    }
    best
}

/// The `k`-th smallest (0-based) of `v` (reordered in place), by selection.
pub fn kth_smallest(v: &mut [f32], k: usize) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    let k = k.min(v.len() - 1);
    let (_, x, _) = v.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
    *x
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// `v` in ascending `total_cmp` order: the reference for every sort.
    fn sorted(v: &[f32]) -> Vec<f32> {
        let mut s = v.to_vec();
        s.sort_by(|x, y| x.total_cmp(y));
        s
    }

    /// Every product `a_i b_j`, ascending: what a threshold is chosen from.
    fn sorted_products(a: &[f32], b: &[f32]) -> Vec<f32> {
        sorted(
            &a.iter()
                .flat_map(|x| b.iter().map(move |y| x * y))
                .collect::<Vec<_>>(),
        )
    }

    /// `layer_threshold` of `a` and `b` (with `cand_len` candidates) for
    /// each fraction of `fractions` is the `kth_index` of the sorted
    /// products, bit for bit.
    fn assert_thresholds(a: &[f32], b: &[f32], fractions: &[f64], cand_len: usize, what: &str) {
        let all = sorted_products(a, b);
        let mut tmp = vec![0.0; a.len().max(b.len())];
        let mut cand = vec![0.0; cand_len];
        for &p in fractions {
            let k = kth_index(all.len(), p);
            let (mut a2, mut b2) = (a.to_vec(), b.to_vec());
            let t = layer_threshold(&mut a2, &mut b2, k, &mut tmp, &mut cand);
            assert_eq!(t.to_bits(), all[k].to_bits(), "{what} p={p}");
        }
    }

    #[test]
    fn kth_index_matches_reference_rounding() {
        assert_eq!(kth_index(78500, 0.1), 70649);
        assert_eq!(kth_index(1000, 0.1), 899);
        assert_eq!(kth_index(1000, 1.0), 0);
        assert_eq!(kth_index(5, 0.5), 2);
        assert_eq!(kth_index(1, 0.3), 0);
    }

    #[test]
    fn kth_product_equals_sorting_all_products() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for trial in 0..40 {
            let na = 1 + trial % 13;
            let nb = 1 + (trial * 7) % 11;
            let mut a: Vec<f32> = (0..na)
                .map(|_| {
                    if rng.random::<f32>() < 0.2 {
                        0.0
                    } else {
                        rng.random::<f32>() * 3.0
                    }
                })
                .collect();
            let mut b: Vec<f32> = (0..nb).map(|_| rng.random::<f32>()).collect();
            if trial % 5 == 0 {
                b[0] = a.first().copied().unwrap_or(1.0); // ties
            }
            a.sort_by(|x, y| x.total_cmp(y));
            b.sort_by(|x, y| y.total_cmp(x));
            let all = sorted_products(&a, &b);
            for cand_len in [0, 1, 7, CANDIDATES] {
                let mut cand = vec![0.0; cand_len];
                for k in 0..all.len() {
                    assert_eq!(kth_product(&a, &b, k, &mut cand), all[k], "k={k}");
                }
            }
        }
    }

    #[test]
    fn kth_product_of_large_factors_equals_sorting() {
        // Enough products that the bisection runs before listing candidates,
        // with ties, zeros, subnormal and overflowing products.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for trial in 0..6 {
            let (na, nb) = (300 + 37 * trial, 20 + 9 * trial);
            let mut a: Vec<f32> = (0..na)
                .map(|i| match i % 11 {
                    0 => 0.0,
                    1 => 0.25,
                    2 => 1e-40,
                    3 if trial == 5 => 3e38,
                    _ => rng.random::<f32>() * 2.0f32.powi(rng.random_range(-20..4)),
                })
                .collect();
            let mut b: Vec<f32> = (0..nb).map(|_| rng.random::<f32>() * 4.0).collect();
            let mut tmp = vec![0.0; na.max(nb)];
            sort_magnitudes(&mut a, &mut tmp);
            sort_magnitudes(&mut b, &mut tmp);
            b.reverse();
            let all = sorted_products(&a, &b);
            let mut cand = vec![0.0; CANDIDATES];
            for k in (0..all.len()).step_by(97).chain([0, all.len() - 1]) {
                assert_eq!(kth_product(&a, &b, k, &mut cand), all[k], "k={k}");
            }
        }
    }

    #[test]
    fn layer_threshold_equals_sorting_all_products() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for trial in 0..8 {
            let (na, nb) = (1 + 97 * trial, 1 + 23 * (trial % 5));
            // A cluster of near-equal values (like background pixels) plus a spread.
            let a: Vec<f32> = (0..na)
                .map(|i| match i % 5 {
                    0..=2 => 0.134 + rng.random::<f32>() * 1e-3,
                    3 if trial % 3 == 0 => 0.0,
                    _ => rng.random::<f32>() * 2.0f32.powi(rng.random_range(-12..2)),
                })
                .collect();
            let b: Vec<f32> = (0..nb)
                .map(|_| rng.random::<f32>() * 2.0f32.powi(rng.random_range(-10..0)))
                .collect();
            let fractions = [1e-4, 0.001, 0.01, 0.1, 0.5, 0.9, 1.0];
            assert_thresholds(&a, &b, &fractions, CANDIDATES, &format!("trial {trial}"));
        }
    }

    #[test]
    fn sort_magnitudes_orders_like_a_comparison_sort() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        for n in [0, 1, 50, 95, 96, 97, 500, 2000] {
            let v: Vec<f32> = (0..n)
                .map(|i| match i % 7 {
                    0 => 0.0,
                    1 => 1.0,
                    2 => f32::INFINITY,
                    3 => 1e-42,
                    _ => rng.random::<f32>() * 2.0f32.powi(rng.random_range(-30..30)),
                })
                .collect();
            let mut got = v.clone();
            sort_magnitudes(&mut got, &mut vec![0.0; n]);
            assert_eq!(got, sorted(&v), "n={n}");
            // All values with the same high bytes: the skipped passes.
            let mut same: Vec<f32> = (0..n).map(|i| 1.0 + (i % 5) as f32 / 8.0).collect();
            let want = sorted(&same);
            sort_magnitudes(&mut same, &mut vec![0.0; n]);
            assert_eq!(same, want);
        }
    }

    #[test]
    fn a_repeated_background_value_changes_nothing() {
        // Most inputs equal (an image's background): set aside by the sort
        // and crossed by galloping in the counts; same results as sorting.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for n in [96, 200, 785] {
            let a: Vec<f32> = (0..n)
                .map(|i| match i % 5 {
                    3 => rng.random::<f32>() * 3.0,
                    4 if i % 2 == 0 => 0.0,
                    _ => 0.4242,
                })
                .collect();
            let mut got = a.clone();
            sort_magnitudes(&mut got, &mut vec![0.0; n]);
            assert_eq!(got, sorted(&a), "n={n}");
            let b: Vec<f32> = (0..37).map(|_| rng.random::<f32>()).collect();
            for cand_len in [16, CANDIDATES] {
                let fractions = [1e-3, 0.01, 0.1, 0.3, 0.5, 0.9];
                assert_thresholds(
                    &a,
                    &b,
                    &fractions,
                    cand_len,
                    &format!("n={n} cand={cand_len}"),
                );
            }
        }
    }

    #[test]
    fn radix_sort_of_any_bit_span_orders_like_a_comparison_sort() {
        // Spans of 1 to 31 differing bits (1 to 4 passes of DIGIT_BITS),
        // ties, and a jittered cluster like MNIST's background.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
        for span in [1u32, 2, 8, 9, 10, 17, 18, 19, 26, 27, 28, 31] {
            for n in [RADIX_MIN, 785] {
                let base = 0x3e00_0000u32.min(u32::MAX >> 1 >> span << span);
                let v: Vec<f32> = (0..n)
                    .map(|i| match i % 4 {
                        0 => f32::from_bits(base),
                        1 => 0.134 + rng.random::<f32>() * 1e-3,
                        // Up to infinity, never NaN.
                        _ => f32::from_bits(
                            (base + (rng.random::<u32>() >> (32 - span))).min(0x7f80_0000),
                        ),
                    })
                    .map(|x| {
                        if x.to_bits() < base {
                            f32::from_bits(base)
                        } else {
                            x
                        }
                    })
                    .collect();
                let mut got = v.clone();
                sort_distinct(&mut got, &mut vec![0.0; n]);
                assert_eq!(got, sorted(&v), "span {span} n {n}");
            }
        }
    }

    #[test]
    fn layer_threshold_of_jittered_and_tied_factors_equals_sorting() {
        // MNIST-like input (a jittered background, exact ties, zeros and a
        // spread foreground) against errors spread over decades.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
        for trial in 0..6 {
            let a: Vec<f32> = (0..785)
                .map(|i| match (i + trial) % 9 {
                    0..=4 => 0.13 + rng.random::<f32>() * 4e-3,
                    5 => 0.25,
                    6 if trial % 2 == 0 => 0.0,
                    _ => rng.random::<f32>() * 0.87,
                })
                .collect();
            let b: Vec<f32> = (0..100)
                .map(|j| match j % 7 {
                    0 => 1e-3,
                    _ => rng.random::<f32>() * 2.0f32.powi(rng.random_range(-14..-4)),
                })
                .collect();
            let fractions = [1e-3, 0.01, 0.05, 0.1, 0.2, 0.5];
            assert_thresholds(&a, &b, &fractions, CANDIDATES, &format!("trial {trial}"));
        }
    }

    #[test]
    fn kth_smallest_selects() {
        let mut v = vec![5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(kth_smallest(&mut v, 1), 2.0);
        assert_eq!(kth_smallest(&mut v, 9), 5.0);
    }
}
