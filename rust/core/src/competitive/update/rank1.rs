//! Batch 1: the rank-1 update `Δw_ji = u_j a_i` with `u_j = η δ_j`, written
//! row by row from its two factors (never materialised). The first layer's
//! rows are fused with the next sample's forward product.

use super::super::network::Scratch;
use super::{for_each_row, thresholds, LayerUpdate, RowOut};
use crate::math::{axpy, axpy_dot, axpy_dot2, axpy_thr, axpy_thr_dot, axpy_thr_dot2, dot, dot2};
use rayon::prelude::*;

/// Factors below this can give products that underflow to zero, which the
/// factorised write count would miss.
const TINY_FACTOR: f32 = 1.0 / (1u64 << 60) as f32;

/// `(non-zeros, Σ|v|, any non-zero |v| < TINY_FACTOR)` of a factor vector;
/// eight partial sums in a fixed order (vectorisable, thread-independent).
fn factor_stats(v: &[f32]) -> (u64, f64, bool) {
    let mut nnz = 0u64;
    let mut tiny = false;
    let mut acc = [0.0f64; 8];
    let chunks = v.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            let m = c[k].abs();
            acc[k] += m as f64;
            nnz += (m != 0.0) as u64;
            tiny |= m != 0.0 && m < TINY_FACTOR;
        }
    }
    for (k, &x) in rest.iter().enumerate() {
        let m = x.abs();
        acc[k] += m as f64;
        nnz += (m != 0.0) as u64;
        tiny |= m != 0.0 && m < TINY_FACTOR;
    }
    (nnz, acc.iter().sum(), tiny)
}

/// Update `target` (`n_out` rows); for the first layer `fused` holds the
/// next sample's input (if any) and the buffer for its products.
pub(super) fn update(
    upd: &LayerUpdate<'_>,
    sc: &mut Scratch,
    target: &mut [f32],
    fused: Option<(Option<&[f32]>, &mut [f32])>,
) {
    factors(upd, sc);
    thresholds::rank1(upd, sc);
    let Scratch {
        a, u, thr, rows, ..
    } = sc;
    let rule = RowRule::new(upd.p, a, u, thr);
    match fused {
        Some((next, z)) => first_layer(&rule, upd, target, rows, next, z),
        None => for_each_row(upd.par, target, upd.st, rows, |(j, (w, r))| {
            *r = rule.update(j, w)
        }),
    }
}

/// The masked presynaptic activity `a` and the scaled masked errors `u`.
fn factors(upd: &LayerUpdate<'_>, sc: &mut Scratch) {
    let src = &upd.src[..upd.st];
    if upd.pre_mask.is_none() {
        sc.a.copy_from_slice(src);
    } else {
        for i in 0..upd.st {
            sc.a[i] = if upd.pre_ok(i) { src[i] } else { 0.0 };
        }
    }
    for j in 0..upd.n_out {
        sc.u[j] = if upd.post_ok(j) {
            upd.eta * upd.delta[j]
        } else {
            0.0
        };
    }
}

/// How one row `j` is written: all products (`plain`, with exact
/// factorised counting when no product can underflow to zero) or those
/// reaching the row's threshold.
struct RowRule<'a> {
    a: &'a [f32],
    u: &'a [f32],
    thr: &'a [f32],
    plain: bool,
    a_nnz: u64,
    a_abs: f64,
    a_max: f32,
}

impl<'a> RowRule<'a> {
    fn new(p: f64, a: &'a [f32], u: &'a [f32], thr: &'a [f32]) -> Self {
        let (a_nnz, a_abs, a_tiny) = if p >= 1.0 {
            factor_stats(a)
        } else {
            (0, 0.0, true)
        };
        let plain = p >= 1.0 && !a_tiny && u.iter().all(|&v| v == 0.0 || v.abs() >= TINY_FACTOR);
        let a_max = if p < 1.0 {
            a.iter().fold(0.0f32, |m, v| m.max(v.abs()))
        } else {
            0.0
        };
        RowRule {
            a,
            u,
            thr,
            plain,
            a_nnz,
            a_abs,
            a_max,
        }
    }

    /// `(writes, Σ|Δw|)` of a plain row update with factor `uj`.
    fn tally(&self, uj: f32) -> (u64, f64) {
        if uj == 0.0 {
            (0, 0.0)
        } else {
            (self.a_nnz, self.a_abs * uj.abs() as f64)
        }
    }

    /// Whether a thresholded row `j` can have a change to write: rounding
    /// is monotone, so none reaches the threshold if the largest does not.
    fn writes_some(&self, j: usize) -> bool {
        let uj = self.u[j];
        uj != 0.0 && self.a_max * uj.abs() >= self.thr[j]
    }

    /// Update row `j`; returns its `(writes, Σ|Δw|)`.
    fn update(&self, j: usize, w: &mut [f32]) -> (u64, f64) {
        let uj = self.u[j];
        if uj == 0.0 {
            (0, 0.0)
        } else if self.plain {
            axpy(w, self.a, uj);
            self.tally(uj)
        } else if !self.writes_some(j) {
            (0, 0.0)
        } else {
            axpy_thr(w, self.a, uj, self.thr[j])
        }
    }

    /// Update row `j` and, given the next input `next`, its product `z`.
    fn update_and_forward(&self, j: usize, (w, r): RowOut<'_>, z: &mut f32, next: Option<&[f32]>) {
        match next {
            Some(x) if self.plain => {
                *z = axpy_dot(w, self.a, self.u[j], x);
                *r = self.tally(self.u[j]);
            }
            Some(x) if self.writes_some(j) => {
                let (c, m, zj) = axpy_thr_dot(w, self.a, self.u[j], self.thr[j], x);
                (*r, *z) = ((c, m), zj);
            }
            _ => {
                *r = self.update(j, w);
                if let Some(x) = next {
                    *z = dot(w, x);
                }
            }
        }
    }
}

/// Rows of the first layer, two at a time (rows are independent: the same
/// result in any grouping or thread count), each fused with the next
/// sample's product when there is one.
fn first_layer(
    rule: &RowRule<'_>,
    upd: &LayerUpdate<'_>,
    target: &mut [f32],
    rows: &mut [(u64, f64)],
    next: Option<&[f32]>,
    z: &mut [f32],
) {
    let st = upd.st;
    type Pair<'a> = ((&'a mut [f32], &'a mut [(u64, f64)]), &'a mut [f32]);
    let pair = |(c, ((w, r), z)): (usize, Pair<'_>)| {
        let j = 2 * c;
        if let (Some(x), true) = (next, w.len() == 2 * st) {
            let (w0, w1) = w.split_at_mut(st);
            if rule.plain {
                let (u0, u1) = (rule.u[j], rule.u[j + 1]);
                (z[0], z[1]) = axpy_dot2(w0, w1, rule.a, (u0, u1), x);
                (r[0], r[1]) = (rule.tally(u0), rule.tally(u1));
                return;
            }
            match (rule.writes_some(j), rule.writes_some(j + 1)) {
                (false, false) => {
                    // A top fraction leaves most rows unchanged: their
                    // products only, two chains at a time as in the plain step.
                    (z[0], z[1]) = dot2(w0, w1, x);
                    (r[0], r[1]) = ((0, 0.0), (0, 0.0));
                    return;
                }
                (true, true) => {
                    // Both rows change: updated and multiplied together, as
                    // the plain step's pairs (a row that writes nothing
                    // keeps the single-row path, which leaves its bits alone).
                    let (u, t) = ((rule.u[j], rule.u[j + 1]), (rule.thr[j], rule.thr[j + 1]));
                    let [(c0, m0, z0), (c1, m1, z1)] = axpy_thr_dot2(w0, w1, rule.a, u, t, x);
                    (r[0], r[1], z[0], z[1]) = ((c0, m0), (c1, m1), z0, z1);
                    return;
                }
                _ => {}
            }
        }
        for (k, (wk, (rk, zk))) in w
            .chunks_mut(st)
            .zip(r.iter_mut().zip(z.iter_mut()))
            .enumerate()
        {
            rule.update_and_forward(j + k, (wk, rk), zk, next);
        }
    };
    if upd.par {
        // One contiguous run of pairs per thread, the same runs every step:
        // with the first half joined on the calling worker and the second
        // stolen by the other, each thread keeps updating the rows it holds
        // in its own cache (rows handed out in small stolen pieces moved
        // between cores every step).
        let n_pairs = rows.len().div_ceil(2);
        let per = n_pairs
            .div_ceil(rayon::current_num_threads().max(1))
            .max(super::super::SPLIT.min_items(2 * st));
        target
            .par_chunks_mut(2 * st * per)
            .zip(rows.par_chunks_mut(2 * per))
            .zip(z.par_chunks_mut(2 * per))
            .enumerate()
            .for_each(|(part, ((t, r), zz))| {
                t.chunks_mut(2 * st)
                    .zip(r.chunks_mut(2))
                    .zip(zz.chunks_mut(2))
                    .enumerate()
                    .for_each(|(c, p)| pair((part * per + c, p)));
            });
    } else {
        target
            .chunks_mut(2 * st)
            .zip(rows.chunks_mut(2))
            .zip(z.chunks_mut(2))
            .enumerate()
            .for_each(pair);
    }
}
