//! Thresholds of the top fraction of `|Δw|` without sorting the updates.
//!
//! The threshold is the value the reference code uses: with `n` candidate
//! updates and fraction `p`, `k = round_half_even((1 − p)(n − 1))` and the
//! threshold is the `k`-th smallest `|Δw|` (0-based); updates `>=` it are
//! kept, so about `p·n` (at least one) survive, ties all together.
//!
//! * A batch-1 update is a rank-1 outer product `|Δw_ji| = fl(|u_j|·|a_i|)`,
//!   monotone in both factors. The `k`-th smallest product is found exactly
//!   by bisection on the bit pattern of positive floats (31 steps), each step
//!   counting the products `>= t` with a two-pointer sweep over the sorted
//!   factors: `O((n_pre + n_post) log)` per sample instead of touching all
//!   `n_pre · n_post` products.
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

/// Number of products `fl(a_i b_j) >= t`, `a` ascending, `b` descending.
fn count_ge(a: &[f32], b: &[f32], t: f32) -> u64 {
    let mut s = 0usize;
    let mut count = 0u64;
    for &bj in b {
        while s < a.len() && a[s] * bj < t {
            s += 1;
        }
        if s == a.len() {
            break;
        }
        count += (a.len() - s) as u64;
    }
    count
}

/// The `k`-th smallest (0-based) of all products `fl(a_i b_j)`, `a` sorted
/// ascending and `b` sorted descending, all finite and non-negative.
pub fn kth_product(a: &[f32], b: &[f32], k: usize) -> f32 {
    let n = a.len() as u64 * b.len() as u64;
    if n == 0 {
        return 0.0;
    }
    // The k-th smallest is the K-th largest with K = n - k.
    let want = n - (k as u64).min(n - 1);
    let (mut lo, mut hi) = (0u32, f32::INFINITY.to_bits());
    // Invariant: count_ge(lo) >= want, count_ge(hi) < want (or hi = +inf).
    if count_ge(a, b, f32::INFINITY) >= want {
        return f32::INFINITY;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if count_ge(a, b, f32::from_bits(mid)) >= want {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    f32::from_bits(lo)
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
            let mut all: Vec<f32> = a
                .iter()
                .flat_map(|x| b.iter().map(move |y| x * y))
                .collect();
            all.sort_by(|x, y| x.total_cmp(y));
            for k in 0..all.len() {
                assert_eq!(kth_product(&a, &b, k), all[k], "k={k}");
            }
        }
    }

    #[test]
    fn kth_smallest_selects() {
        let mut v = vec![5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(kth_smallest(&mut v, 1), 2.0);
        assert_eq!(kth_smallest(&mut v, 9), 5.0);
    }
}
