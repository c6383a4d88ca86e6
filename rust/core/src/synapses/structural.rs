//! Structural plasticity: pruning silent synapses and growing new ones at
//! potential (candidate) positions (Knoblauch et al. 2014, "potential
//! synapses"). Every operation validates its whole input before touching the
//! matrix, so a failed call leaves it unchanged.

use super::{check_indices, SynapseMatrix};
use crate::error::{Error, Result};
use crate::rng::stream_rng;
use rand::Rng;
use rayon::prelude::*;

/// Initial weight of newly grown synapses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GrowInit {
    /// Every new synapse starts at this weight.
    Constant(f32),
    /// Uniform in `[low, high)`, drawn from the row's seeded stream.
    Uniform(f32, f32),
}

impl GrowInit {
    fn validate(&self) -> Result<()> {
        match *self {
            GrowInit::Constant(w) if !w.is_finite() => {
                Err(Error::Value(format!("initial weight {w} is not finite")))
            }
            GrowInit::Uniform(lo, hi) if !(lo.is_finite() && hi.is_finite() && lo <= hi) => {
                Err(Error::Value(format!(
                    "initial weight range [{lo}, {hi}) is not a finite interval"
                )))
            }
            // rand draws `lo + u·(hi − lo)` and panics when the width overflows f32.
            GrowInit::Uniform(lo, hi) if !(hi - lo).is_finite() => Err(Error::Value(format!(
                "initial weight range [{lo}, {hi}) is wider than float32 can represent"
            ))),
            _ => Ok(()),
        }
    }
    fn draw<R: Rng>(&self, rng: &mut R) -> f32 {
        match *self {
            GrowInit::Constant(w) => w,
            GrowInit::Uniform(lo, hi) if lo == hi => lo,
            GrowInit::Uniform(lo, hi) => rng.random_range(lo..hi),
        }
    }
}

impl SynapseMatrix {
    /// Keep the synapses for which `keep(post, pre, weight)` is true
    /// (binary synapses are passed weight 1). Returns the number removed.
    pub fn retain<F: FnMut(usize, u32, f32) -> bool>(&mut self, mut keep: F) -> usize {
        let before = self.nnz();
        let mut out = 0usize;
        let mut start = 0usize;
        for i in 0..self.n_post {
            let end = self.indptr[i + 1];
            for e in start..end {
                let w = self.weights.as_ref().map_or(1.0, |w| w[e]);
                if keep(i, self.indices[e], w) {
                    self.indices[out] = self.indices[e];
                    if let Some(ws) = self.weights.as_mut() {
                        ws[out] = ws[e];
                    }
                    out += 1;
                }
            }
            start = end;
            self.indptr[i + 1] = out;
        }
        if out != before {
            self.structure_changed();
        }
        self.indices.truncate(out);
        if let Some(ws) = self.weights.as_mut() {
            ws.truncate(out);
        }
        self.shrink();
        let removed = before - out;
        self.counters.pruned += removed as u64;
        removed
    }

    /// Prune synapses whose `|w|` is below `threshold` (silent synapses).
    pub fn prune_below(&mut self, threshold: f32) -> Result<usize> {
        if threshold.is_nan() {
            return Err(Error::Value("pruning threshold is NaN".into()));
        }
        Ok(self.retain(|_, _, w| w.abs() >= threshold))
    }

    /// Prune, in every row, the `floor(fraction · row_nnz)` synapses of
    /// smallest `|w|` (ties: the lower presynaptic index goes first), as in
    /// sparse evolutionary training.
    pub fn prune_weakest(&mut self, fraction: f64) -> Result<usize> {
        if !(0.0..=1.0).contains(&fraction) {
            return Err(Error::Value(format!(
                "fraction to prune must be in [0, 1], got {fraction}"
            )));
        }
        let mut mask = vec![false; self.nnz()];
        let spans: Vec<(usize, usize)> = (0..self.n_post)
            .map(|i| (self.indptr[i], self.indptr[i + 1]))
            .collect();
        let weights = self.weights.as_deref();
        let mut chunks: Vec<&mut [bool]> = Vec::with_capacity(self.n_post);
        let mut rest: &mut [bool] = &mut mask;
        for &(a, b) in &spans {
            let (head, tail) = rest.split_at_mut(b - a);
            chunks.push(head);
            rest = tail;
        }
        let row_work = self.nnz() / self.n_post.max(1) + 1;
        chunks
            .into_par_iter()
            .zip(spans.par_iter())
            .with_min_len(crate::parallel::DEFAULT.min_items(row_work))
            .for_each(|(m, &(a, b))| {
                let len = b - a;
                let n_remove = (fraction * len as f64).floor() as usize;
                if n_remove == 0 {
                    return;
                }
                let mag = |k: usize| weights.map_or(1.0, |w| w[a + k].abs());
                let mut order: Vec<usize> = (0..len).collect();
                if n_remove < len {
                    order.select_nth_unstable_by(n_remove - 1, |&x, &y| {
                        mag(x).total_cmp(&mag(y)).then(x.cmp(&y))
                    });
                }
                for &k in &order[..n_remove] {
                    m[k] = true;
                }
            });
        self.prune_mask(&mask)
    }

    /// Prune the synapses flagged `true` in `mask` (one flag per synapse, in
    /// storage order).
    pub fn prune_mask(&mut self, mask: &[bool]) -> Result<usize> {
        if mask.len() != self.nnz() {
            return Err(Error::Shape(format!(
                "prune mask has {} entries for {} synapses",
                mask.len(),
                self.nnz()
            )));
        }
        let mut e = 0usize;
        Ok(self.retain(|_, _, _| {
            let keep = !mask[e];
            e += 1;
            keep
        }))
    }

    /// Grow synapses at the given `(post, pre)` candidate positions. Positions
    /// that already hold a synapse, and repeated candidates after the first,
    /// are skipped. `weights` gives one initial weight per candidate; without
    /// it `init` is used. Returns the number of synapses grown.
    pub fn grow(
        &mut self,
        post: &[u32],
        pre: &[u32],
        weights: Option<&[f32]>,
        init: GrowInit,
        seed: u64,
    ) -> Result<usize> {
        if post.len() != pre.len() {
            return Err(Error::Shape(format!(
                "{} postsynaptic but {} presynaptic candidate indices",
                post.len(),
                pre.len()
            )));
        }
        if let Some(w) = weights {
            if w.len() != post.len() {
                return Err(Error::Shape(format!(
                    "{} initial weights for {} candidates",
                    w.len(),
                    post.len()
                )));
            }
            if w.iter().any(|x| !x.is_finite()) {
                return Err(Error::Value("initial weights must be finite".into()));
            }
        }
        init.validate()?;
        check_indices(post, self.n_post, "postsynaptic candidate")?;
        check_indices(pre, self.n_pre, "presynaptic candidate")?;
        // Candidates per row, first occurrence of a position wins.
        let mut order: Vec<usize> = (0..post.len()).collect();
        order.sort_by_key(|&c| (post[c], pre[c], c));
        order.dedup_by_key(|c| (post[*c], pre[*c]));
        let mut per_row: Vec<Vec<(u32, Option<f32>)>> = vec![Vec::new(); self.n_post];
        for c in order {
            per_row[post[c] as usize].push((pre[c], weights.map(|w| w[c])));
        }
        let row_work = self.nnz() / self.n_post.max(1) + 1;
        let new_rows: Vec<Vec<(u32, f32)>> = per_row
            .into_par_iter()
            .with_min_len(crate::parallel::DEFAULT.min_items(row_work))
            .enumerate()
            .map(|(i, cands)| {
                let (idx, _) = self.row(i);
                let mut rng = stream_rng(seed, i as u64);
                cands
                    .into_iter()
                    .filter(|(j, _)| idx.binary_search(j).is_err())
                    .map(|(j, w)| (j, w.unwrap_or_else(|| init.draw(&mut rng))))
                    .collect()
            })
            .collect();
        Ok(self.merge_new(new_rows))
    }

    /// Grow up to `per_row` synapses in every row at positions drawn uniformly
    /// among that row's absent (potential) synapses, without replacement.
    /// Row `i` draws from stream `i` of `seed`, so the result does not depend
    /// on the number of threads.
    pub fn grow_random(&mut self, per_row: usize, init: GrowInit, seed: u64) -> Result<usize> {
        init.validate()?;
        let n_pre = self.n_pre;
        let most = self.n_post.saturating_mul(per_row.min(n_pre));
        crate::alloc::check_fits::<(u32, f32)>(
            most,
            &format!("growing {per_row} synapses per row"),
        )?;
        let row_work = self.nnz() / self.n_post.max(1) + per_row + 1;
        let new_rows: Vec<Vec<(u32, f32)>> = (0..self.n_post)
            .into_par_iter()
            .with_min_len(crate::parallel::DEFAULT.min_items(row_work))
            .map(|i| {
                let (idx, _) = self.row(i);
                let absent = n_pre - idx.len();
                let n = per_row.min(absent);
                if n == 0 {
                    return Vec::new();
                }
                let mut rng = stream_rng(seed, i as u64);
                let mut ranks = sample_distinct(&mut rng, absent, n);
                ranks.sort_unstable();
                // Map the r-th absent position to its presynaptic index by a
                // merge walk over the present (sorted) indices.
                let mut out = Vec::with_capacity(n);
                let mut p = 0usize;
                for r in ranks {
                    // index j is absent rank r when j - (#present < j) == r.
                    let mut j = r + p;
                    while p < idx.len() && (idx[p] as usize) <= j {
                        p += 1;
                        j = r + p;
                    }
                    out.push(j as u32);
                }
                out.into_iter().map(|j| (j, init.draw(&mut rng))).collect()
            })
            .collect();
        Ok(self.merge_new(new_rows))
    }

    /// Merge per-row lists of new synapses (sorted, absent, unique) into the
    /// storage. Returns the number added.
    fn merge_new(&mut self, mut new_rows: Vec<Vec<(u32, f32)>>) -> usize {
        for r in new_rows.iter_mut() {
            r.sort_unstable_by_key(|&(j, _)| j);
        }
        let added: usize = new_rows.iter().map(Vec::len).sum();
        if added == 0 {
            return 0;
        }
        let nnz = self.nnz() + added;
        let mut indptr = Vec::with_capacity(self.n_post + 1);
        let mut indices = Vec::with_capacity(nnz);
        let mut weights = self.weights.as_ref().map(|_| Vec::with_capacity(nnz));
        indptr.push(0);
        for (i, new) in new_rows.iter().enumerate() {
            let (idx, w) = self.row(i);
            let (mut p, mut q) = (0, 0);
            while p < idx.len() || q < new.len() {
                let take_old = q == new.len() || (p < idx.len() && idx[p] < new[q].0);
                let (j, wv) = if take_old {
                    p += 1;
                    (idx[p - 1], w.map_or(1.0, |w| w[p - 1]))
                } else {
                    q += 1;
                    new[q - 1]
                };
                indices.push(j);
                if let Some(ws) = weights.as_mut() {
                    ws.push(wv);
                }
            }
            indptr.push(indices.len());
        }
        self.structure_changed();
        self.indptr = indptr;
        self.indices = indices;
        self.weights = weights;
        self.counters.grown += added as u64;
        added
    }
}

/// `n` distinct integers from `0..range` (Floyd's algorithm; `n <= range`).
fn sample_distinct<R: Rng>(rng: &mut R, range: usize, n: usize) -> Vec<usize> {
    debug_assert!(n <= range);
    if n * 2 > range {
        // Dense case: partial Fisher-Yates over the whole range.
        let mut all: Vec<usize> = (0..range).collect();
        for k in 0..n {
            let s = rng.random_range(k..range);
            all.swap(k, s);
        }
        all.truncate(n);
        return all;
    }
    let mut chosen = std::collections::HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    for j in (range - n)..range {
        let t = rng.random_range(0..=j);
        let pick = if chosen.insert(t) { t } else { j };
        if pick == j {
            chosen.insert(j);
        }
        out.push(pick);
    }
    out
}
