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
    /// The view of `m`: a counting sort of its synapses by input, ranks
    /// counted per block of units and the view filled per block of inputs
    /// (in parallel when large: built once per epoch, it would otherwise be
    /// the longest serial part of a short one). Within an input the units
    /// stay ascending, whatever the blocks.
    pub(crate) fn new(m: &SynapseMatrix) -> Self {
        let (indptr, indices) = (m.indptr(), m.indices());
        let (d, n_post, nnz) = (m.n_pre(), m.n_post(), m.nnz());
        let blocks = if crate::parallel::DEFAULT.parallel(nnz) {
            rayon::current_num_threads().min(n_post).min(d).max(1)
        } else {
            1
        };
        let unit_bounds: Vec<usize> = (0..=blocks).map(|b| b * n_post / blocks).collect();
        let entries = |b: usize| indptr[unit_bounds[b]]..indptr[unit_bounds[b + 1]];
        // Synapses per input in each block of units.
        let mut next: Vec<Vec<usize>> = (0..blocks)
            .into_par_iter()
            .map(|b| {
                let mut c = vec![0usize; d];
                for &j in &indices[entries(b)] {
                    c[j as usize] += 1;
                }
                c
            })
            .collect();
        // Input j's synapses start at ptr[j], block after block.
        let mut ptr = vec![0usize; d + 1];
        for j in 0..d {
            let mut at = ptr[j];
            for c in next.iter_mut() {
                (c[j], at) = (at, at + c[j]);
            }
            ptr[j + 1] = at;
        }
        let mut pos = vec![0u32; nnz];
        let mut parts = Vec::with_capacity(blocks);
        let mut rest = &mut pos[..];
        for b in 0..blocks {
            let (head, tail) = rest.split_at_mut(entries(b).len());
            parts.push(head);
            rest = tail;
        }
        parts
            .into_par_iter()
            .zip(next.par_iter_mut())
            .enumerate()
            .for_each(|(b, (p, next))| {
                for (k, &j) in p.iter_mut().zip(&indices[entries(b)]) {
                    *k = next[j as usize] as u32;
                    next[j as usize] += 1;
                }
            });
        // Fill the view per block of inputs (a contiguous part of it).
        let wts = m.weights();
        let input_bounds: Vec<usize> = (0..=blocks).map(|b| b * d / blocks).collect();
        let mut post = vec![0u32; nnz];
        let mut w = vec![0.0f32; nnz];
        let mut parts = Vec::with_capacity(blocks);
        let (mut rest_p, mut rest_w) = (&mut post[..], &mut w[..]);
        for b in 0..blocks {
            let len = ptr[input_bounds[b + 1]] - ptr[input_bounds[b]];
            let (hp, tp) = rest_p.split_at_mut(len);
            let (hw, tw) = rest_w.split_at_mut(len);
            parts.push((hp, hw));
            (rest_p, rest_w) = (tp, tw);
        }
        parts
            .into_par_iter()
            .enumerate()
            .for_each(|(b, (post, w))| {
                let (j0, j1) = (input_bounds[b] as u32, input_bounds[b + 1] as u32);
                let k0 = ptr[input_bounds[b]];
                for i in 0..n_post {
                    let row = &indices[indptr[i]..indptr[i + 1]];
                    let (lo, hi) = (
                        row.partition_point(|&j| j < j0),
                        row.partition_point(|&j| j < j1),
                    );
                    for e in indptr[i] + lo..indptr[i] + hi {
                        let k = pos[e] as usize - k0;
                        post[k] = i as u32;
                        w[k] = wts.map_or(1.0, |v| v[e]);
                    }
                }
            });
        InputMajor { ptr, post, w, pos }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structural_classifier::{Config, StructuralNet};
    use crate::test_util::in_pool;

    #[test]
    fn input_major_view_is_the_transpose_with_any_thread_count() {
        // Enough synapses (700 x 200) for the view to be built in parallel.
        let cfg = Config {
            n_in: 784,
            n_hidden: 700,
            n_classes: 2,
            init_per_unit: 200,
            init_weights: (0.01, 0.1),
            direct: false,
        };
        let net = StructuralNet::new(&cfg, 5).unwrap();
        let m = &net.hidden;
        let t = crate::math::CsrTranspose::new(m.indptr(), m.indices(), m.n_pre(), true);
        let w = m.weights().unwrap();
        let wt: Vec<f32> = t.perm.iter().map(|&e| w[e as usize]).collect();
        for threads in [1, 2, 3] {
            let v = in_pool(threads, || InputMajor::new(m));
            assert_eq!(v.ptr, t.indptr);
            assert_eq!(v.post, t.rows);
            assert_eq!(v.w, wt);
            for (k, &e) in t.perm.iter().enumerate() {
                assert_eq!(v.pos[e as usize] as usize, k);
            }
        }
    }
}
