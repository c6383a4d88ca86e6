//! The weight update of one layer: the candidate changes `η δ_j a_i`
//! (masked to the plastic path), the top-fraction thresholds, and the
//! writes with their energy. Batch 1 uses the factorised rank-1 form
//! ([`rank1`]); larger batches materialise the update ([`batched`]).

mod batched;
mod rank1;
mod thresholds;

use super::network::{Mlp, Scratch};
use super::{Selection, SPLIT};
use rayon::prelude::*;

/// What the update of one layer reads.
pub(super) struct LayerUpdate<'a> {
    pub n_in: usize,
    pub n_out: usize,
    /// Row stride (`n_in + 1`, bias last).
    pub st: usize,
    /// Plastic presynaptic units (`None`: all; the bias always is).
    pub pre_mask: Option<&'a [bool]>,
    /// Plastic postsynaptic units (`None`: all).
    pub post_mask: Option<&'a [bool]>,
    /// `η / B`.
    pub eta: f32,
    /// Top fraction `p` of this layer.
    pub p: f64,
    pub selection: Selection,
    /// Presynaptic activities `(B, st)` and errors `(B, n_out)`.
    pub src: &'a [f32],
    pub delta: &'a [f32],
    /// Rows are updated in parallel.
    pub par: bool,
}

impl LayerUpdate<'_> {
    #[inline]
    pub fn pre_ok(&self, i: usize) -> bool {
        i == self.n_in || self.pre_mask.is_none_or(|m| m[i])
    }
    #[inline]
    pub fn post_ok(&self, j: usize) -> bool {
        self.post_mask.is_none_or(|m| m[j])
    }
}

/// A weight row and its `(writes, Σ|Δw|)` counter.
type RowOut<'a> = (&'a mut [f32], &'a mut (u64, f64));

/// Apply `row` to each `st`-wide weight row of `target` with its tally
/// `(writes, Σ|Δw|)`, in parallel when `par`. Rows are independent, so the
/// result is the same either way.
fn for_each_row<F>(par: bool, target: &mut [f32], st: usize, tallies: &mut [(u64, f64)], row: F)
where
    F: Fn((usize, RowOut<'_>)) + Sync + Send,
{
    if par {
        target
            .par_chunks_mut(st)
            .zip(tallies.par_iter_mut())
            .with_min_len(SPLIT.min_items(st))
            .enumerate()
            .for_each(row);
    } else {
        target
            .chunks_mut(st)
            .zip(tallies.iter_mut())
            .enumerate()
            .for_each(row);
    }
}

impl Mlp {
    /// Update layer `l` from the `nb` samples of this step and count its energy.
    pub(super) fn update_layer(&mut self, l: usize, nb: usize) {
        let nl = self.layers.len();
        let has_paths = !self.paths.is_empty();
        let layer = &mut self.layers[l];
        let sc: &mut Scratch = &mut self.scratch[l];
        let target: &mut Vec<f32> = if self.cfg.caching.is_some() {
            &mut layer.short
        } else {
            &mut layer.w
        };
        let upd = LayerUpdate {
            n_in: layer.n_in,
            n_out: layer.n_out,
            st: layer.n_in + 1,
            pre_mask: (l > 0 && has_paths).then(|| &self.paths[l - 1][..]),
            post_mask: (l + 1 < nl && has_paths).then(|| &self.paths[l][..]),
            eta: self.cfg.learning_rate / nb as f32,
            p: self.cfg.fractions[l],
            selection: self.cfg.selection,
            src: &self.act[l],
            delta: &self.delta[l],
            par: SPLIT.parallel(target.len()),
        };
        if nb == 1 {
            // The first layer also yields the next sample's products z0.
            let fused = (l == 0).then(|| {
                let next = self.fuse_next.then_some(&self.next_in[..]);
                (next, &mut self.z0[..])
            });
            rank1::update(&upd, sc, target, fused);
        } else {
            batched::update(&upd, nb, sc, target);
        }
        for &(c, s) in &sc.rows {
            layer.energy.writes += c;
            layer.energy.abs_change += s;
        }
    }
}
