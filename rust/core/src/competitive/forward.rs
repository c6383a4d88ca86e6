//! Inference: batched forward passes, accuracy and the input checks.

use super::kernels::Panels;
use super::network::Mlp;
use super::{OutputKind, FORWARD_BLOCK};
use crate::error::{Error, Result};
use crate::math::{argmax, softmax};
use rayon::prelude::*;

impl Mlp {
    /// The number of samples in `x`, which must be finite and hold whole rows.
    pub(super) fn check_x(&self, x: &[f32], what: &str) -> Result<usize> {
        let n_in = self.cfg.sizes[0];
        if !x.len().is_multiple_of(n_in) {
            return Err(Error::Shape(format!(
                "{what} has {} values, not a multiple of {n_in} features",
                x.len()
            )));
        }
        // Exponent bits all set <=> NaN or infinity; integer ops on chunks
        // without early exit so the scan vectorises.
        // A training set is scanned at every call: in parallel when large.
        const EXP: u32 = 0x7f80_0000;
        let bad = |c: &[f32]| {
            c.iter()
                .fold(0u32, |m, v| m | ((v.to_bits() & EXP) == EXP) as u32)
                != 0
        };
        let found = if super::SPLIT.parallel(x.len()) {
            x.par_chunks(1024)
                .with_min_len(super::SPLIT.min_items(1024))
                .any(bad)
        } else {
            x.chunks(1024).any(bad)
        };
        if found {
            return Err(Error::Value(format!("{what} contains NaN or infinity")));
        }
        Ok(x.len() / n_in)
    }

    /// `n` labels, each an output index.
    pub(super) fn check_y(&self, y: &[u32], n: usize, what: &str) -> Result<()> {
        if y.len() != n {
            return Err(Error::Shape(format!(
                "{what} has {} labels for {n} samples",
                y.len()
            )));
        }
        let n_out = *self.cfg.sizes.last().unwrap_or(&0);
        if let Some(&bad) = y.iter().find(|&&c| c as usize >= n_out) {
            return Err(Error::Index(format!(
                "{what} holds class {bad}, the network has {n_out} outputs"
            )));
        }
        Ok(())
    }

    /// Network outputs (`n × n_out`; softmax probabilities for cross-entropy,
    /// linear outputs otherwise): one GEMM per layer and block of samples,
    /// blocks in parallel.
    pub fn forward(&self, x: &[f32]) -> Result<Vec<f32>> {
        let n = self.check_x(x, "X")?;
        Ok(self.forward_unchecked(x, n))
    }

    pub(super) fn forward_unchecked(&self, x: &[f32], n: usize) -> Vec<f32> {
        let sizes = &self.cfg.sizes;
        let n_out = *sizes.last().unwrap_or(&0);
        let mut out = vec![0.0f32; n * n_out];
        if n == 0 || n_out == 0 {
            return out;
        }
        let packed: Vec<Panels> = self
            .layers
            .iter()
            .map(|l| Panels::pack(&l.w, l.n_in, l.n_out))
            .collect();
        // Inputs are read in place; the buffers hold hidden activities only.
        let widest = sizes[1..].iter().copied().max().unwrap_or(0);
        // Fixed blocks of samples, each a GEMM per layer: a sample's outputs
        // do not depend on the block it is in, so neither on the thread count.
        let block_work = FORWARD_BLOCK * self.layers.iter().map(|l| l.w.len()).sum::<usize>();
        out.par_chunks_mut(FORWARD_BLOCK * n_out)
            .with_min_len(super::SPLIT.min_items(block_work))
            .enumerate()
            .for_each_init(
                || {
                    (
                        vec![0.0f32; FORWARD_BLOCK * widest],
                        vec![0.0f32; FORWARD_BLOCK * widest],
                    )
                },
                |buffers, (blk, o)| self.forward_block(&packed, x, blk, o, buffers),
            );
        out
    }

    /// Outputs `o` of block `blk` of samples of `x`.
    fn forward_block(
        &self,
        packed: &[Panels],
        x: &[f32],
        blk: usize,
        o: &mut [f32],
        (cur, next): &mut (Vec<f32>, Vec<f32>),
    ) {
        let (n_in, n_out) = (self.cfg.sizes[0], *self.cfg.sizes.last().unwrap_or(&0));
        let nb = o.len() / n_out;
        let s0 = blk * FORWARD_BLOCK;
        let act = self.cfg.nonlinearity();
        let mut src: &[f32] = &x[s0 * n_in..(s0 + nb) * n_in];
        for (l, layer) in packed.iter().enumerate() {
            let last = l + 1 == packed.len();
            let z = if last {
                &mut o[..]
            } else {
                &mut next[..nb * layer.n_out]
            };
            layer.affine(src, nb, z);
            if last {
                break;
            }
            act.apply(z);
            std::mem::swap(cur, next);
            src = &cur[..nb * layer.n_out];
        }
        if self.cfg.output == OutputKind::SoftmaxXent {
            o.chunks_mut(n_out).for_each(softmax);
        }
    }

    /// Fraction of samples whose largest output is the label (first maximum wins).
    pub fn accuracy(&self, x: &[f32], y: &[u32]) -> Result<f64> {
        let n = self.check_x(x, "X")?;
        self.check_y(y, n, "y")?;
        Ok(self.accuracy_unchecked(x, y, n))
    }

    pub(super) fn accuracy_unchecked(&self, x: &[f32], y: &[u32], n: usize) -> f64 {
        if n == 0 {
            return 0.0;
        }
        let n_out = *self.cfg.sizes.last().unwrap_or(&1);
        let out = self.forward_unchecked(x, n);
        let correct = out
            .chunks(n_out)
            .zip(y)
            .filter(|(o, &t)| argmax(o) == t as usize)
            .count();
        correct as f64 / n as f64
    }
}
