//! k-winners-take-all over dense activity.
//!
//! Ties are broken towards the lower unit index, so the winners are a pure
//! function of the input (no dependence on sort stability or threads).

use crate::error::{check_len, Error, Result};
use rayon::prelude::*;
use std::cmp::Ordering;

#[inline]
fn rank(x: &[f32], a: u32, b: u32) -> Ordering {
    // Larger value first; equal values: lower index first.
    x[b as usize]
        .total_cmp(&x[a as usize])
        .then_with(|| a.cmp(&b))
}

/// The `k` winners of `x` in `idx[..k]`, in no particular order, without
/// allocating: `idx` has room for `x.len()` entries.
pub fn kwta_into<'a>(x: &[f32], k: usize, idx: &'a mut [u32]) -> &'a [u32] {
    let n = x.len();
    let k = k.min(n);
    let idx = &mut idx[..n];
    for (i, v) in idx.iter_mut().enumerate() {
        *v = i as u32;
    }
    if k > 0 && k < n {
        // Selection, not a full sort: O(n) per row.
        idx.select_nth_unstable_by(k - 1, |&a, &b| rank(x, a, b));
    }
    &idx[..k]
}

/// The `k` winners of one row, in ascending unit order.
pub fn kwta_row(x: &[f32], k: usize) -> Vec<u32> {
    let mut idx = vec![0u32; x.len()];
    let mut w = kwta_into(x, k, &mut idx).to_vec();
    w.sort_unstable();
    w
}

/// Up to this many winners [`top_k`] scans once, keeping a sorted list of
/// the best; beyond it, it selects with [`kwta_into`].
const SCAN_WINNERS: usize = 16;

/// `f32::total_cmp` as a signed integer order: the key of `a` is below
/// that of `b` exactly when `a.total_cmp(&b)` is `Less`.
#[inline(always)]
fn total_key(v: f32) -> i32 {
    let b = v.to_bits() as i32;
    b ^ ((((b >> 31) as u32) >> 1) as i32)
}

#[inline(always)]
fn max_key_body(score: &[f32]) -> i32 {
    // Lanes keep the maximum exactly, so their order does not matter.
    const W: usize = 16;
    let mut acc = [i32::MIN; W];
    let chunks = score.chunks_exact(W);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..W {
            acc[l] = acc[l].max(total_key(c[l]));
        }
    }
    let mut m = acc.into_iter().max().unwrap_or(i32::MIN);
    for &v in tail {
        m = m.max(total_key(v));
    }
    m
}

crate::math::simd::multiversion! {
    /// The largest [`total_key`] of `score` (`i32::MIN` when empty).
    pub fn max_key(score: &[f32]) -> i32 = max_key_body;
}

/// The winner of `k = 1`: the first index of the largest score in
/// `total_cmp` order, found by a vectorised maximum and one search.
fn argmax_total(score: &[f32]) -> u32 {
    let m = max_key(score);
    score.iter().position(|&v| total_key(v) == m).unwrap_or(0) as u32
}

/// The same set as [`kwta_row`] (ascending unit order, ties to the lower
/// index), found in one pass over `score` for small `k`.
pub fn top_k(score: &[f32], k: usize) -> Vec<u32> {
    let k = k.min(score.len());
    if k > SCAN_WINNERS {
        return kwta_row(score, k);
    }
    if k == 0 {
        return Vec::new();
    }
    if k == 1 {
        return vec![argmax_total(score)];
    }
    top_k_scan(score, k)
}

/// [`top_k_scan`]: blocks of this many scores are skipped at once when none
/// beats the `k`-th best so far (after the first few blocks, almost all).
const SCAN_BLOCK: usize = 64;

#[inline(always)]
fn top_k_scan_body(score: &[f32], k: usize) -> Vec<u32> {
    // best[0] is the strongest; an equal later score never displaces an
    // earlier (lower-index) one.
    let mut best: Vec<(f32, u32)> = Vec::with_capacity(k + 1);
    for (blk, block) in score.chunks(SCAN_BLOCK).enumerate() {
        if best.len() == k {
            let bar = total_key(best[k - 1].0);
            // (a fold without early exit, which the compiler vectorises)
            if !block.iter().fold(false, |a, &s| a | (total_key(s) > bar)) {
                continue;
            }
        }
        for (o, &s) in block.iter().enumerate() {
            if best.len() == k {
                if s.total_cmp(&best[k - 1].0) != Ordering::Greater {
                    continue;
                }
                best.pop();
            }
            let pos = best
                .iter()
                .position(|&(v, _)| s.total_cmp(&v) == Ordering::Greater)
                .unwrap_or(best.len());
            best.insert(pos, (s, (blk * SCAN_BLOCK + o) as u32));
        }
    }
    let mut idx: Vec<u32> = best.into_iter().map(|(_, i)| i).collect();
    idx.sort_unstable();
    idx
}

crate::math::simd::multiversion! {
    /// The `2 ≤ k ≤` [`SCAN_WINNERS`] winners of [`top_k`], in one pass
    /// that keeps the best so far in order and skips whole blocks that
    /// cannot enter it.
    pub fn top_k_scan(score: &[f32], k: usize) -> Vec<u32> = top_k_scan_body;
}

/// Winner mask (1 = winner) of each row of a `rows × cols` matrix.
pub fn kwta_mask(x: &[f32], rows: usize, cols: usize, k: usize) -> Result<Vec<u8>> {
    check_len("activity", x.len(), rows, cols)?;
    if k > cols {
        return Err(Error::Value(format!(
            "k = {k} winners requested from {cols} units"
        )));
    }
    let mut mask = vec![0u8; rows * cols];
    if cols == 0 {
        return Ok(mask);
    }
    mask.par_chunks_mut(cols)
        .zip(x.par_chunks(cols))
        .with_min_len(crate::parallel::DEFAULT.min_items(cols))
        .for_each(|(m, row)| {
            for j in kwta_row(row, k) {
                m[j as usize] = 1;
            }
        });
    Ok(mask)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream_rng;
    use rand::Rng;

    #[test]
    fn ties_go_to_lower_index() {
        assert_eq!(kwta_row(&[1.0, 3.0, 3.0, 3.0], 2), vec![1, 2]);
        assert_eq!(kwta_row(&[0.0; 5], 3), vec![0, 1, 2]);
    }

    #[test]
    fn k_larger_than_row_is_rejected() {
        assert!(kwta_mask(&[1.0, 2.0], 1, 2, 3).is_err());
        assert_eq!(kwta_mask(&[1.0, 2.0], 1, 2, 2).unwrap(), vec![1, 1]);
    }

    #[test]
    fn top_k_equals_kwta_row_with_ties() {
        let mut rng = stream_rng(11, 0);
        for trial in 0..200 {
            let n = 1 + trial % 37;
            // few distinct values, so ties are common
            let score: Vec<f32> = (0..n)
                .map(|_| (rng.random::<f32>() * 5.0).floor() - 2.0)
                .collect();
            for k in [1, 2, 3, 5, 16, 17, 40] {
                assert_eq!(top_k(&score, k), kwta_row(&score, k), "{score:?} k={k}");
            }
        }
    }

    /// Scores where the total order matters: signed zeros, infinities, NaN,
    /// a tiny positive value, and ties among them.
    const SPECIALS: [f32; 8] = [
        -0.0,
        0.0,
        f32::NEG_INFINITY,
        -1.5,
        2.0,
        f32::INFINITY,
        1e-30,
        f32::NAN,
    ];

    #[test]
    fn few_winners_over_long_rows_skip_blocks_and_keep_total_order() {
        // Rows over several skipped blocks, with ties, signed zeros,
        // infinities and NaN anywhere, including the last partial block.
        let pool = SPECIALS;
        let mut rng = stream_rng(13, 0);
        for trial in 0..300 {
            let n = 1 + (trial * 7) % 450;
            let score: Vec<f32> = (0..n)
                .map(|_| {
                    if rng.random::<f32>() < 0.05 {
                        pool[rng.random_range(0..pool.len())]
                    } else {
                        rng.random::<f32>()
                    }
                })
                .collect();
            for k in [2, 4, 16] {
                assert_eq!(top_k(&score, k), kwta_row(&score, k), "n={n} k={k}");
            }
        }
    }

    #[test]
    fn single_winner_follows_total_order_over_long_rows() {
        // Signed zeros, infinities, NaN and ties across the vector lanes and tail.
        let pool = SPECIALS;
        let mut rng = stream_rng(12, 0);
        for trial in 0..300 {
            let n = 1 + trial % 83;
            let score: Vec<f32> = (0..n)
                .map(|_| {
                    pool[rng.random_range(0..pool.len())].min(if trial % 3 == 0 {
                        0.0
                    } else {
                        f32::INFINITY
                    })
                })
                .collect();
            let expect = kwta_row(&score, 1);
            assert_eq!(top_k(&score, 1), expect, "{score:?}");
            assert_eq!(vec![argmax_total(&score)], expect);
        }
    }
}
