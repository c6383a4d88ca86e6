//! Sparse synapse storage.
//!
//! A [`SynapseMatrix`] holds the synapses onto `n_post` postsynaptic neurons
//! from `n_pre` presynaptic neurons as compressed rows: for each postsynaptic
//! neuron a sorted list of unique presynaptic indices (`u32`) and, unless the
//! synapses are binary (clipped Hebbian / Willshaw), one `f32` weight each.
//! Memory and compute scale with the synapses that exist, not with
//! `n_post × n_pre`. Absent synapses are *potential* synapses with weight 0.
//!
//! Invariants, checked by [`SynapseMatrix::check_invariants`] and kept by
//! every operation: `indptr` has `n_post + 1` non-decreasing entries starting
//! at 0 and ending at `nnz`; each row's indices are strictly increasing and
//! below `n_pre`; `weights`, when present, has `nnz` entries.

mod products;
mod state;
mod structural;
mod update;

pub use state::SynapseState;
pub use structural::GrowInit;
pub use update::Clamp;

use crate::alloc::filled;
use crate::energy::{EnergyCounters, MinimalEnergy};
use crate::error::{check_len, Error, Result};
use std::sync::OnceLock;

/// Largest supported neuron count per side (indices are stored as `u32`).
pub const MAX_NEURONS: usize = u32::MAX as usize;

#[derive(Debug)]
pub struct SynapseMatrix {
    n_post: usize,
    n_pre: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    /// `None` for binary synapses (every existing synapse has weight 1).
    weights: Option<Vec<f32>>,
    counters: EnergyCounters,
    /// Presynaptic-major index for `backward`, built on demand; it depends
    /// only on which synapses exist, so weight updates keep it valid and
    /// structural changes drop it.
    transposed: OnceLock<products::Transposed>,
}

/// The synapses copied across threads when large
/// ([`crate::parallel::copy_of`]): a copy of a large network was otherwise
/// a serial part of a short kernel call.
impl Clone for SynapseMatrix {
    fn clone(&self) -> Self {
        use crate::parallel::copy_of;
        SynapseMatrix {
            n_post: self.n_post,
            n_pre: self.n_pre,
            indptr: copy_of(&self.indptr),
            indices: copy_of(&self.indices),
            weights: self.weights.as_deref().map(copy_of),
            counters: self.counters,
            transposed: self.transposed.clone(),
        }
    }
}

/// Equal synapses and counters (the cached index is not part of the value).
impl PartialEq for SynapseMatrix {
    fn eq(&self, other: &Self) -> bool {
        self.n_post == other.n_post
            && self.n_pre == other.n_pre
            && self.indptr == other.indptr
            && self.indices == other.indices
            && self.weights == other.weights
            && self.counters == other.counters
    }
}

fn check_dims(n_post: usize, n_pre: usize) -> Result<()> {
    if n_post > MAX_NEURONS || n_pre > MAX_NEURONS {
        return Err(Error::Value(format!(
            "at most {MAX_NEURONS} neurons per side are supported, got {n_post} x {n_pre}"
        )));
    }
    Ok(())
}

/// NaN or infinite weights poison every product they enter.
fn check_finite_weights(w: &[f32]) -> Result<()> {
    match w.iter().position(|v| !v.is_finite()) {
        Some(e) => Err(Error::Value(format!(
            "weights must be finite, weight {e} is {}",
            w[e]
        ))),
        None => Ok(()),
    }
}

impl SynapseMatrix {
    /// A matrix with no synapses.
    pub fn empty(n_post: usize, n_pre: usize, binary: bool) -> Result<Self> {
        check_dims(n_post, n_pre)?;
        Ok(SynapseMatrix {
            n_post,
            n_pre,
            indptr: filled(n_post + 1, 0, "the row pointers of the synapse matrix")?,
            indices: Vec::new(),
            weights: if binary { None } else { Some(Vec::new()) },
            counters: EnergyCounters::default(),
            transposed: OnceLock::new(),
        })
    }

    /// Keep the non-zero entries of a dense row-major `n_post × n_pre` array.
    /// For binary storage every non-zero entry becomes a synapse of weight 1.
    pub fn from_dense(dense: &[f32], n_post: usize, n_pre: usize, binary: bool) -> Result<Self> {
        check_dims(n_post, n_pre)?;
        check_len("dense weights", dense.len(), n_post, n_pre)?;
        check_finite_weights(dense)?;
        let mut m = Self::empty(n_post, n_pre, binary)?;
        for i in 0..n_post {
            let row = &dense[i * n_pre..(i + 1) * n_pre];
            for (j, &w) in row.iter().enumerate() {
                if w != 0.0 {
                    m.indices.push(j as u32);
                    if let Some(ws) = m.weights.as_mut() {
                        ws.push(w);
                    }
                }
            }
            m.indptr[i + 1] = m.indices.len();
        }
        m.shrink();
        Ok(m)
    }

    /// Build from coordinate triplets. Duplicate positions are summed
    /// (weighted) or merged (binary), as `scipy.sparse` does.
    pub fn from_coo(
        n_post: usize,
        n_pre: usize,
        post: &[u32],
        pre: &[u32],
        weights: Option<&[f32]>,
        binary: bool,
    ) -> Result<Self> {
        check_dims(n_post, n_pre)?;
        if post.len() != pre.len() {
            return Err(Error::Shape(format!(
                "{} postsynaptic but {} presynaptic indices",
                post.len(),
                pre.len()
            )));
        }
        if let Some(w) = weights {
            if w.len() != post.len() {
                return Err(Error::Shape(format!(
                    "{} weights for {} synapses",
                    w.len(),
                    post.len()
                )));
            }
            check_finite_weights(w)?;
        }
        check_indices(post, n_post, "postsynaptic")?;
        check_indices(pre, n_pre, "presynaptic")?;
        let mut order: Vec<usize> = (0..post.len()).collect();
        order.sort_by_key(|&e| (post[e], pre[e]));
        let mut m = Self::empty(n_post, n_pre, binary)?;
        let mut counts = vec![0usize; n_post];
        let mut last: Option<(u32, u32)> = None;
        for e in order {
            let key = (post[e], pre[e]);
            let w = weights.map_or(1.0, |w| w[e]);
            if last == Some(key) {
                if let Some(ws) = m.weights.as_mut() {
                    *ws.last_mut().expect("a previous synapse exists") += w;
                }
                continue;
            }
            last = Some(key);
            m.indices.push(key.1);
            if let Some(ws) = m.weights.as_mut() {
                ws.push(w);
            }
            counts[key.0 as usize] += 1;
        }
        for i in 0..n_post {
            m.indptr[i + 1] = m.indptr[i] + counts[i];
        }
        m.shrink();
        Ok(m)
    }

    /// Build from compressed rows. Rows may be unsorted; duplicates are
    /// summed (weighted) or merged (binary).
    pub fn from_csr(
        n_post: usize,
        n_pre: usize,
        indptr: &[usize],
        indices: &[u32],
        weights: Option<&[f32]>,
        binary: bool,
    ) -> Result<Self> {
        check_dims(n_post, n_pre)?;
        if indptr.len() != n_post + 1 {
            return Err(Error::Shape(format!(
                "indptr has {} entries, expected n_post + 1 = {}",
                indptr.len(),
                n_post + 1
            )));
        }
        if indptr[0] != 0
            || indptr.windows(2).any(|w| w[0] > w[1])
            || indptr[n_post] != indices.len()
        {
            return Err(Error::Value(
                "indptr must start at 0, never decrease and end at the number of indices".into(),
            ));
        }
        let post: Vec<u32> = (0..n_post)
            .flat_map(|i| std::iter::repeat_n(i as u32, indptr[i + 1] - indptr[i]))
            .collect();
        Self::from_coo(n_post, n_pre, &post, indices, weights, binary)
    }

    /// Called by every operation that changes which synapses exist.
    pub(crate) fn structure_changed(&mut self) {
        self.transposed = OnceLock::new();
    }

    pub(crate) fn shrink(&mut self) {
        self.indices.shrink_to_fit();
        if let Some(w) = self.weights.as_mut() {
            w.shrink_to_fit();
        }
    }

    /// Number of postsynaptic neurons (rows).
    pub fn n_post(&self) -> usize {
        self.n_post
    }
    /// Number of presynaptic neurons (columns).
    pub fn n_pre(&self) -> usize {
        self.n_pre
    }
    /// Number of compressed rows, whatever they stand for: postsynaptic
    /// neurons in the default orientation, presynaptic ones where a model
    /// stores synapses by presynaptic neuron (e-prop's outgoing synapses).
    pub fn n_rows(&self) -> usize {
        self.n_post
    }
    /// Number of columns (the other side of [`Self::n_rows`]).
    pub fn n_cols(&self) -> usize {
        self.n_pre
    }
    /// Number of existing synapses.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }
    /// Whether the synapses are binary (no stored weights).
    pub fn is_binary(&self) -> bool {
        self.weights.is_none()
    }
    /// Fraction of potential synapses that exist.
    pub fn density(&self) -> f64 {
        let total = self.n_post as f64 * self.n_pre as f64;
        if total == 0.0 {
            0.0
        } else {
            self.nnz() as f64 / total
        }
    }
    /// Heap and inline bytes actually held by this matrix.
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.indptr.capacity() * std::mem::size_of::<usize>()
            + self.indices.capacity() * std::mem::size_of::<u32>()
            + self
                .weights
                .as_ref()
                .map_or(0, |w| w.capacity() * std::mem::size_of::<f32>())
            + self.transposed.get().map_or(0, |t| t.memory_bytes())
    }
    pub fn indptr(&self) -> &[usize] {
        &self.indptr
    }
    pub fn indices(&self) -> &[u32] {
        &self.indices
    }
    pub fn weights(&self) -> Option<&[f32]> {
        self.weights.as_deref()
    }
    /// Presynaptic indices and weights (if any) of postsynaptic neuron `i`.
    pub fn row(&self, i: usize) -> (&[u32], Option<&[f32]>) {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[a..b], self.weights.as_ref().map(|w| &w[a..b]))
    }
    /// Weight of synapse `(post, pre)`, 0 when absent.
    pub fn get(&self, post: usize, pre: usize) -> f32 {
        if post >= self.n_post || pre >= self.n_pre {
            return 0.0;
        }
        let (idx, w) = self.row(post);
        match idx.binary_search(&(pre as u32)) {
            Ok(k) => w.map_or(1.0, |w| w[k]),
            Err(_) => 0.0,
        }
    }
    pub fn counters(&self) -> &EnergyCounters {
        &self.counters
    }
    pub fn counters_mut(&mut self) -> &mut EnergyCounters {
        &mut self.counters
    }
    pub fn reset_counters(&mut self) {
        self.counters = EnergyCounters::default();
    }

    /// Dense row-major `n_post × n_pre` copy (absent synapses are 0).
    pub fn to_dense(&self) -> Result<Vec<f32>> {
        let n = crate::error::size_mul(self.n_post, self.n_pre, "the dense matrix")?;
        let mut d = filled(n, 0.0f32, "the dense matrix")?;
        for i in 0..self.n_post {
            let (idx, w) = self.row(i);
            for (k, &j) in idx.iter().enumerate() {
                d[i * self.n_pre + j as usize] = w.map_or(1.0, |w| w[k]);
            }
        }
        Ok(d)
    }

    /// Verify the storage invariants (see the module documentation).
    pub fn check_invariants(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::Value(format!("corrupt synapse matrix: {msg}")));
        if self.indptr.len() != self.n_post + 1 || self.indptr[0] != 0 {
            return bad("indptr length or start".into());
        }
        if self.indptr[self.n_post] != self.indices.len() {
            return bad("indptr end differs from nnz".into());
        }
        if let Some(w) = &self.weights {
            if w.len() != self.indices.len() {
                return bad("weights and indices differ in length".into());
            }
        }
        for i in 0..self.n_post {
            if self.indptr[i] > self.indptr[i + 1] {
                return bad(format!("indptr decreases at row {i}"));
            }
            let (idx, _) = self.row(i);
            if idx.windows(2).any(|p| p[0] >= p[1]) {
                return bad(format!("row {i} is not sorted and unique"));
            }
            if idx.last().is_some_and(|&j| j as usize >= self.n_pre) {
                return bad(format!("row {i} has an index >= n_pre"));
            }
        }
        Ok(())
    }

    /// The minimal energy to reach this matrix from `initial` (same shape):
    /// absent synapses count as weight 0, so grown and pruned synapses count
    /// when their weight is non-zero.
    pub fn minimal_energy_from(&self, initial: &SynapseMatrix) -> Result<MinimalEnergy> {
        if initial.n_post != self.n_post || initial.n_pre != self.n_pre {
            return Err(Error::Shape(format!(
                "initial synapses are {} x {}, these are {} x {}",
                initial.n_post, initial.n_pre, self.n_post, self.n_pre
            )));
        }
        let mut m = MinimalEnergy::default();
        let mut add = |a: f32, b: f32| {
            if a != b {
                m.writes += 1;
                m.abs_change += (b as f64 - a as f64).abs();
            }
        };
        for i in 0..self.n_post {
            let (ia, wa) = initial.row(i);
            let (ib, wb) = self.row(i);
            let wa = |k: usize| wa.map_or(1.0, |w| w[k]);
            let wb = |k: usize| wb.map_or(1.0, |w| w[k]);
            let (mut p, mut q) = (0, 0);
            while p < ia.len() || q < ib.len() {
                match (ia.get(p), ib.get(q)) {
                    (Some(a), Some(b)) if a == b => {
                        add(wa(p), wb(q));
                        p += 1;
                        q += 1;
                    }
                    (Some(a), Some(b)) if a < b => {
                        add(wa(p), 0.0);
                        p += 1;
                    }
                    (Some(_), None) => {
                        add(wa(p), 0.0);
                        p += 1;
                    }
                    _ => {
                        add(0.0, wb(q));
                        q += 1;
                    }
                }
            }
        }
        Ok(m)
    }

    /// Replace all weights (e.g. when restoring a saved state). Not counted
    /// as plasticity.
    pub fn set_weights(&mut self, weights: &[f32]) -> Result<()> {
        let nnz = self.nnz();
        match self.weights.as_mut() {
            None => Err(Error::Type("binary synapses have no weights to set".into())),
            Some(_) if weights.len() != nnz => Err(Error::Shape(format!(
                "{} weights for {nnz} synapses",
                weights.len()
            ))),
            Some(_) => check_finite_weights(weights),
        }?;
        match self.weights.as_mut() {
            None => Ok(()),
            Some(w) => {
                w.copy_from_slice(weights);
                Ok(())
            }
        }
    }

    /// Restore counters (e.g. when unpickling).
    pub fn set_counters(&mut self, counters: EnergyCounters) {
        self.counters = counters;
    }

    /// `indptr`, indices and mutable weights at once (row views without
    /// allocating).
    pub(crate) fn parts_mut(&mut self) -> (&[usize], &[u32], Option<&mut [f32]>) {
        (&self.indptr, &self.indices, self.weights.as_deref_mut())
    }

    /// Rows as disjoint mutable weight slices, for row-parallel updates.
    pub(crate) fn rows_mut(&mut self) -> Option<Vec<(&[u32], &mut [f32])>> {
        let w = self.weights.as_mut()?;
        let mut out = Vec::with_capacity(self.n_post);
        let mut rest: &mut [f32] = w;
        for i in 0..self.n_post {
            let len = self.indptr[i + 1] - self.indptr[i];
            let (head, tail) = rest.split_at_mut(len);
            out.push((&self.indices[self.indptr[i]..self.indptr[i + 1]], head));
            rest = tail;
        }
        Some(out)
    }
}

pub(crate) fn check_indices(idx: &[u32], bound: usize, what: &str) -> Result<()> {
    if let Some((e, &j)) = idx.iter().enumerate().find(|(_, &j)| j as usize >= bound) {
        return Err(Error::Index(format!(
            "{what} index {j} at position {e} is not below {bound}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
