//! Input-sparse products of the hidden synapses.
//!
//! Pixel-like inputs are mostly zero (about 80 % of MNIST's pixels), and
//! after pruning each input feeds only a few hidden units. Scattering the
//! non-zero inputs of one sample along their outgoing synapses,
//! `s_i += w_ij x_j` for the synapses `(i, j)` of every active input `j` in
//! ascending `j`, costs `density(x) · nnz` per sample instead of `nnz` plus
//! the per-sample work on all `n_hidden` outputs of the blocked dense kernel.
//! Each `s_i` is accumulated in ascending `j`, the storage order of unit
//! `i`'s synapses, with the same operations as `SynapseMatrix::forward`, so
//! both kernels give bit-identical results (zero inputs add `+0`) and the
//! choice between them never changes what the network learns.

use crate::synapses::SynapseMatrix;
use rayon::prelude::*;

/// Samples per parallel task.
const SAMPLES_PER_TASK: usize = 16;

/// Input-major copy of the hidden synapses: input `j` feeds the units
/// `post[ptr[j]..ptr[j + 1]]` (ascending) with weights `w[..]`.
pub(crate) struct InputMajor {
    ptr: Vec<usize>,
    post: Vec<u32>,
    w: Vec<f32>,
    /// Input-major position of every synapse in storage order.
    pos: Vec<u32>,
}

impl InputMajor {
    pub(crate) fn new(m: &SynapseMatrix) -> Self {
        let t = crate::math::CsrTranspose::new(m.indptr(), m.indices(), m.n_pre(), true);
        let wts = m.weights();
        let mut pos = vec![0u32; m.nnz()];
        let w = t
            .perm
            .iter()
            .enumerate()
            .map(|(k, &e)| {
                pos[e as usize] = k as u32;
                wts.map_or(1.0, |v| v[e as usize])
            })
            .collect();
        InputMajor {
            ptr: t.indptr,
            post: t.rows,
            w,
            pos,
        }
    }

    /// Copy the current weights of unit `i` of `m` (same structure as when
    /// built) into this view.
    pub(crate) fn refresh_row(&mut self, m: &SynapseMatrix, i: usize) {
        let (a, b) = (m.indptr()[i], m.indptr()[i + 1]);
        if let Some(w) = m.weights() {
            for e in a..b {
                self.w[self.pos[e] as usize] = w[e];
            }
        }
    }

    /// `x Wᵀ` for a batch, `(batch, n_post)`.
    pub(crate) fn forward(&self, x: &[f32], batch: usize, n_post: usize) -> Vec<f32> {
        let d = self.ptr.len() - 1;
        let mut out = vec![0.0f32; batch * n_post];
        if d == 0 || n_post == 0 {
            return out;
        }
        out.par_chunks_mut(n_post * SAMPLES_PER_TASK)
            .zip(x.par_chunks(d * SAMPLES_PER_TASK))
            .with_min_len(crate::parallel::DEFAULT.min_items(SAMPLES_PER_TASK * self.w.len() / 2))
            .for_each(|(o, xs)| {
                for (ob, xb) in o.chunks_mut(n_post).zip(xs.chunks(d)) {
                    self.scatter(xb, ob);
                }
            });
        out
    }

    /// `out = W x` for one sample (`out` is overwritten).
    #[inline]
    pub(crate) fn scatter(&self, x: &[f32], out: &mut [f32]) {
        out.fill(0.0);
        for (j, &xj) in x.iter().enumerate() {
            if xj != 0.0 {
                for e in self.ptr[j]..self.ptr[j + 1] {
                    out[self.post[e] as usize] += self.w[e] * xj;
                }
            }
        }
    }
}

/// Whether the scattering kernel is expected to beat the blocked one.
pub(crate) fn prefer_scatter(x: &[f32]) -> bool {
    let nz = x.iter().filter(|&&v| v != 0.0).count();
    nz * 2 <= x.len()
}

/// `x Wᵀ` for a batch, `(batch, n_post)`, by whichever kernel suits `x`.
pub(crate) fn forward(m: &SynapseMatrix, x: &[f32], batch: usize) -> crate::Result<Vec<f32>> {
    crate::error::check_len("input", x.len(), batch, m.n_pre())?;
    if !prefer_scatter(x) || m.n_post() == 0 || m.n_pre() == 0 {
        return m.forward(x, batch);
    }
    Ok(InputMajor::new(m).forward(x, batch, m.n_post()))
}
