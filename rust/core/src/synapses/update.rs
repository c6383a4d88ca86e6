//! Weight updates of existing synapses with energy accounting. Structural
//! changes (which synapses exist) are in `structural.rs`.

use super::SynapseMatrix;
use crate::energy::tally;
use crate::error::{check_len, Error, Result};
use rayon::prelude::*;

/// Bounds a weight may take after an update (e.g. `[0, ∞)` for excitatory
/// synapses).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clamp {
    pub min: f32,
    pub max: f32,
}

impl Default for Clamp {
    fn default() -> Self {
        Clamp {
            min: f32::NEG_INFINITY,
            max: f32::INFINITY,
        }
    }
}

impl Clamp {
    pub fn validate(&self) -> Result<()> {
        if self.min.is_nan() || self.max.is_nan() || self.min > self.max {
            return Err(Error::Value(format!(
                "weight bounds [{}, {}] are not an interval",
                self.min, self.max
            )));
        }
        Ok(())
    }
}

/// Write `w + d` clamped; returns the effective absolute change (0 if none).
/// A sum beyond float32 saturates at its largest finite value: a stored
/// `inf` would turn later products and changes into `inf`/NaN.
#[inline]
fn write(w: &mut f32, d: f32, clamp: Clamp) -> f32 {
    let new = (*w + d)
        .clamp(clamp.min, clamp.max)
        .clamp(f32::MIN, f32::MAX);
    let change = (new - *w).abs();
    *w = new;
    change
}

/// Weight changes must be finite (an infinite one would store `inf`).
fn check_finite_delta(delta: &[f32]) -> Result<()> {
    match delta.iter().position(|d| !d.is_finite()) {
        Some(e) => Err(Error::Value(format!(
            "delta must be finite, delta[{e}] is {}",
            delta[e]
        ))),
        None => Ok(()),
    }
}

/// Sum per-row `(writes, Σ|Δw|)` in row order (deterministic).
fn total(per_row: Vec<(u64, f64)>) -> (u64, f64) {
    per_row
        .into_iter()
        .fold((0, 0.0), |(n, s), (a, b)| (n + a, s + b))
}

impl SynapseMatrix {
    fn weights_or_err(&self) -> Result<()> {
        if self.is_binary() {
            return Err(Error::Type(
                "binary synapses have no weights to update".into(),
            ));
        }
        Ok(())
    }

    /// Add `delta` (one value per synapse, storage order) to the weights,
    /// clamped. Only synapses whose weight actually changes count as writes.
    pub fn apply_delta(&mut self, delta: &[f32], clamp: Clamp) -> Result<(u64, f64)> {
        self.weights_or_err()?;
        clamp.validate()?;
        if delta.len() != self.nnz() {
            return Err(Error::Shape(format!(
                "{} weight changes for {} synapses",
                delta.len(),
                self.nnz()
            )));
        }
        check_finite_delta(delta)?;
        let w = self.weights.as_mut().expect("checked above");
        let per_chunk: Vec<(u64, f64)> = w
            .par_chunks_mut(4096)
            .zip(delta.par_chunks(4096))
            .with_min_len(crate::parallel::DEFAULT.min_items(4096))
            .map(|(w, d)| {
                let mut acc = (0u64, 0.0f64);
                for (w, &d) in w.iter_mut().zip(d) {
                    tally(&mut acc, write(w, d, clamp));
                }
                acc
            })
            .collect();
        let (n, s) = total(per_chunk);
        self.counters.record(n, s);
        Ok((n, s))
    }

    /// [`Self::apply_delta`] on the rows `rows` only (ascending, distinct):
    /// `delta` holds the changes of their synapses, row after row; all other
    /// synapses are untouched. For updates that reach a few rows (the
    /// winners of a competition) without a pass over every synapse.
    pub fn apply_delta_rows(
        &mut self,
        rows: &[u32],
        delta: &[f32],
        clamp: Clamp,
    ) -> Result<(u64, f64)> {
        self.weights_or_err()?;
        clamp.validate()?;
        if rows.windows(2).any(|r| r[0] >= r[1])
            || rows.last().is_some_and(|&r| r as usize >= self.n_post())
        {
            return Err(Error::Value(format!(
                "rows must be ascending, distinct and below {}",
                self.n_post()
            )));
        }
        let len: usize = rows
            .iter()
            .map(|&r| self.indptr[r as usize + 1] - self.indptr[r as usize])
            .sum();
        if delta.len() != len {
            return Err(Error::Shape(format!(
                "{} weight changes for {len} synapses of {} rows",
                delta.len(),
                rows.len()
            )));
        }
        check_finite_delta(delta)?;
        let w = self.weights.as_mut().expect("checked above");
        let mut acc = (0u64, 0.0f64);
        let mut d = delta.iter();
        for &r in rows {
            let (a, b) = (self.indptr[r as usize], self.indptr[r as usize + 1]);
            for (w, &dv) in w[a..b].iter_mut().zip(&mut d) {
                tally(&mut acc, write(w, dv, clamp));
            }
        }
        self.counters.record(acc.0, acc.1);
        Ok(acc)
    }

    /// Hebbian update of the existing synapses,
    /// `Δw_ij = rate · Σ_b post[b, i] · pre[b, j]`, clamped.
    /// `post` is `(batch, n_post)`, `pre` is `(batch, n_pre)`.
    pub fn hebbian_update(
        &mut self,
        post: &[f32],
        pre: &[f32],
        batch: usize,
        rate: f32,
        clamp: Clamp,
    ) -> Result<(u64, f64)> {
        self.weights_or_err()?;
        clamp.validate()?;
        if !rate.is_finite() {
            return Err(Error::Value(format!("learning rate {rate} is not finite")));
        }
        let (n_post, n_pre) = (self.n_post, self.n_pre);
        check_len("postsynaptic activity", post.len(), batch, n_post)?;
        check_len("presynaptic activity", pre.len(), batch, n_pre)?;
        // Sample-major → unit-major, so each synapse reads two contiguous rows.
        let transpose = |a: &[f32], cols: usize| {
            let mut t = vec![0.0f32; a.len()];
            for b in 0..batch {
                for j in 0..cols {
                    t[j * batch + b] = a[b * cols + j];
                }
            }
            t
        };
        let post_t = transpose(post, n_post);
        let pre_t = transpose(pre, n_pre);
        let row_work = (self.nnz() / n_post.max(1) + 1) * batch;
        let rows = self.rows_mut().expect("checked above");
        let per_row: Vec<(u64, f64)> = rows
            .into_par_iter()
            .with_min_len(crate::parallel::DEFAULT.min_items(row_work))
            .enumerate()
            .map(|(i, (idx, w))| {
                let yi = &post_t[i * batch..(i + 1) * batch];
                let mut acc = (0u64, 0.0f64);
                if yi.iter().all(|&v| v == 0.0) {
                    return acc;
                }
                for (k, &j) in idx.iter().enumerate() {
                    let xj = &pre_t[j as usize * batch..(j as usize + 1) * batch];
                    let corr: f32 = yi.iter().zip(xj).map(|(a, b)| a * b).sum();
                    tally(&mut acc, write(&mut w[k], rate * corr, clamp));
                }
                acc
            })
            .collect();
        let (n, s) = total(per_row);
        self.counters.record(n, s);
        Ok((n, s))
    }
}
