//! Products of sparse synapses with dense activity, parallel with rayon.
//!
//! Each output element is accumulated in storage order of the synapses, a
//! fixed order, so all code paths and thread counts give identical bits.

use super::SynapseMatrix;
use crate::error::{check_len, Result};
use rayon::prelude::*;

/// Samples processed together: the transposed activity tile of a block is
/// `n_pre × BLOCK`, and the inner loop is a `BLOCK`-wide axpy the compiler
/// vectorises.
const BLOCK: usize = 16;

/// Row chunks of the small-batch transposed product. Fixed (not the thread
/// count) so the summation order never depends on the machine.
const BACKWARD_CHUNKS: usize = 8;

/// Below this batch size the transposed product splits rows, not samples.
const SMALL_BATCH: usize = 4 * BLOCK;

/// `out[j·B + b] = x[b·cols + j]` for the `nb` samples of a block (rest 0).
fn transpose_block(x: &[f32], cols: usize, b0: usize, nb: usize, out: &mut [f32]) {
    out.fill(0.0);
    for b in 0..nb {
        let src = &x[(b0 + b) * cols..(b0 + b + 1) * cols];
        for (j, &v) in src.iter().enumerate() {
            out[j * BLOCK + b] = v;
        }
    }
}

#[inline]
fn axpy_block(acc: &mut [f32; BLOCK], w: f32, x: &[f32]) {
    let x: &[f32; BLOCK] = x.try_into().expect("tile rows are BLOCK wide");
    for b in 0..BLOCK {
        acc[b] += w * x[b];
    }
}

impl SynapseMatrix {
    #[inline]
    fn weight_at(&self, e: usize) -> f32 {
        self.weights.as_ref().map_or(1.0, |w| w[e])
    }

    /// Dendritic input of every postsynaptic neuron: `y = x Wᵀ` for a batch
    /// `x` of shape `(batch, n_pre)`, giving `(batch, n_post)`.
    pub fn forward(&self, x: &[f32], batch: usize) -> Result<Vec<f32>> {
        let (n_post, n_pre) = (self.n_post, self.n_pre);
        check_len("presynaptic activity", x.len(), batch, n_pre)?;
        let mut y = vec![0.0f32; batch * n_post];
        if batch == 0 || n_post == 0 {
            return Ok(y);
        }
        let n_blocks = batch.div_ceil(BLOCK);
        if n_blocks >= 2 * rayon::current_num_threads() {
            // Parallel over sample blocks; each block owns its output rows.
            y.par_chunks_mut(BLOCK * n_post).enumerate().for_each_init(
                || vec![0.0f32; n_pre * BLOCK],
                |tile, (blk, yb)| {
                    let b0 = blk * BLOCK;
                    let nb = (batch - b0).min(BLOCK);
                    transpose_block(x, n_pre, b0, nb, tile);
                    for i in 0..n_post {
                        let mut acc = [0.0f32; BLOCK];
                        for e in self.indptr[i]..self.indptr[i + 1] {
                            let j = self.indices[e] as usize;
                            axpy_block(
                                &mut acc,
                                self.weight_at(e),
                                &tile[j * BLOCK..(j + 1) * BLOCK],
                            );
                        }
                        for b in 0..nb {
                            yb[b * n_post + i] = acc[b];
                        }
                    }
                },
            );
        } else {
            // Few samples: parallel over postsynaptic neurons (gather per row).
            let mut yt = vec![0.0f32; n_post * batch];
            yt.par_chunks_mut(batch).enumerate().for_each(|(i, out)| {
                for e in self.indptr[i]..self.indptr[i + 1] {
                    let j = self.indices[e] as usize;
                    let w = self.weight_at(e);
                    for (b, o) in out.iter_mut().enumerate() {
                        *o += w * x[b * n_pre + j];
                    }
                }
            });
            for b in 0..batch {
                for i in 0..n_post {
                    y[b * n_post + i] = yt[i * batch + b];
                }
            }
        }
        Ok(y)
    }

    /// Transposed product, e.g. for backpropagated errors or feedback:
    /// `x = g W` for `g` of shape `(batch, n_post)`, giving `(batch, n_pre)`.
    pub fn backward(&self, g: &[f32], batch: usize) -> Result<Vec<f32>> {
        let (n_post, n_pre) = (self.n_post, self.n_pre);
        check_len("postsynaptic signal", g.len(), batch, n_post)?;
        let mut out = vec![0.0f32; batch * n_pre];
        if batch == 0 || n_pre == 0 || n_post == 0 {
            return Ok(out);
        }
        if batch >= SMALL_BATCH {
            out.par_chunks_mut(BLOCK * n_pre).enumerate().for_each_init(
                || (vec![0.0f32; n_post * BLOCK], vec![0.0f32; n_pre * BLOCK]),
                |(gt, acc), (blk, ob)| {
                    let b0 = blk * BLOCK;
                    let nb = (batch - b0).min(BLOCK);
                    transpose_block(g, n_post, b0, nb, gt);
                    acc.fill(0.0);
                    for i in 0..n_post {
                        let gi: &[f32; BLOCK] = gt[i * BLOCK..(i + 1) * BLOCK]
                            .try_into()
                            .expect("tile rows are BLOCK wide");
                        if gi.iter().all(|&v| v == 0.0) {
                            continue;
                        }
                        for e in self.indptr[i]..self.indptr[i + 1] {
                            let j = self.indices[e] as usize;
                            let w = self.weight_at(e);
                            let a = &mut acc[j * BLOCK..(j + 1) * BLOCK];
                            for b in 0..BLOCK {
                                a[b] += w * gi[b];
                            }
                        }
                    }
                    for b in 0..nb {
                        for j in 0..n_pre {
                            ob[b * n_pre + j] = acc[j * BLOCK + b];
                        }
                    }
                },
            );
        } else {
            // Few samples: split the rows into a fixed number of chunks,
            // accumulate each into its own partial sum, add partials in order.
            let chunk = n_post.div_ceil(BACKWARD_CHUNKS);
            let partials: Vec<Vec<f32>> = (0..n_post.div_ceil(chunk))
                .into_par_iter()
                .map(|c| {
                    let mut part = vec![0.0f32; batch * n_pre];
                    for i in c * chunk..((c + 1) * chunk).min(n_post) {
                        for e in self.indptr[i]..self.indptr[i + 1] {
                            let j = self.indices[e] as usize;
                            let w = self.weight_at(e);
                            for b in 0..batch {
                                part[b * n_pre + j] += w * g[b * n_post + i];
                            }
                        }
                    }
                    part
                })
                .collect();
            for part in partials {
                for (o, p) in out.iter_mut().zip(part) {
                    *o += p;
                }
            }
        }
        Ok(out)
    }

    /// Sum of the weights onto each postsynaptic neuron.
    pub fn row_sums(&self) -> Vec<f32> {
        (0..self.n_post)
            .into_par_iter()
            .map(|i| {
                (self.indptr[i]..self.indptr[i + 1])
                    .map(|e| self.weight_at(e))
                    .sum()
            })
            .collect()
    }

    /// Number of synapses onto each postsynaptic neuron (in-degree).
    pub fn row_counts(&self) -> Vec<usize> {
        self.indptr.windows(2).map(|w| w[1] - w[0]).collect()
    }
}
