//! One training step: forward pass, output error, backpropagation, the
//! error-chosen paths, then the weight updates of every layer.

use super::caching::cache_step;
use super::network::Mlp;
use super::{OutputKind, PathMode};
use crate::error::{Error, Result};
use crate::math::{dot, softmax};
use crate::winners::kwta_into;
use rayon::prelude::*;

impl Mlp {
    /// One update from the `nb` samples in `act[0]` with labels `label(b)`.
    pub(super) fn step(&mut self, nb: usize, label: impl Fn(usize) -> usize) -> Result<()> {
        self.forward_pass(nb);
        self.output_error(nb, label)?;
        self.backpropagate(nb);
        if self.cfg.plastic_units.is_some() && self.cfg.path_mode == PathMode::Error {
            self.choose_paths(nb);
        }
        self.z0_ready = false;
        for l in 0..self.layers.len() {
            self.update_layer(l, nb);
        }
        self.z0_ready = self.fuse_next && nb == 1;
        if let Some(c) = self.cfg.caching {
            for layer in &mut self.layers {
                cache_step(layer, c);
            }
        }
        Ok(())
    }

    /// Activities of every layer (the first layer's products may be ready
    /// from the fused update of the previous step).
    fn forward_pass(&mut self, nb: usize) {
        let nl = self.layers.len();
        let act_fn = self.cfg.nonlinearity();
        for l in 0..nl {
            let last = l + 1 == nl;
            let (lo, hi) = self.act.split_at_mut(l + 1);
            let (src, dst) = (&lo[l], &mut hi[0]);
            let layer = &self.layers[l];
            let (st, n_out) = (layer.stride(), layer.n_out);
            let dst_st = if last { n_out } else { n_out + 1 };
            for b in 0..nb {
                let a = &src[b * st..(b + 1) * st];
                let out = &mut dst[b * dst_st..(b + 1) * dst_st];
                let f = |(j, o): (usize, &mut f32)| {
                    let z = dot(&layer.w[j * st..(j + 1) * st], a);
                    *o = if last { z } else { act_fn.f(z) };
                };
                if l == 0 && self.z0_ready {
                    for (o, &z) in out[..n_out].iter_mut().zip(&self.z0) {
                        *o = act_fn.f(z);
                    }
                } else if layer.big() {
                    let split = super::SPLIT.min_items(st);
                    out[..n_out]
                        .par_iter_mut()
                        .with_min_len(split)
                        .enumerate()
                        .for_each(f);
                } else {
                    out[..n_out].iter_mut().enumerate().for_each(f);
                }
                if !last {
                    out[n_out] = 1.0;
                }
            }
        }
    }

    /// `δ = onehot − y` at the outputs, clipped; an error if training diverged.
    fn output_error(&mut self, nb: usize, label: impl Fn(usize) -> usize) -> Result<()> {
        let nl = self.layers.len();
        let n_out = self.cfg.sizes[nl];
        let clip = self.cfg.error_clip;
        for b in 0..nb {
            let y = &mut self.act[nl][b * n_out..(b + 1) * n_out];
            if self.cfg.output == OutputKind::SoftmaxXent {
                softmax(y);
            }
            if y.iter().any(|v| !v.is_finite()) {
                return Err(Error::Value(format!(
                    "training diverged (non-finite output after {} samples); lower learning_rate",
                    self.samples_seen
                )));
            }
            let t = label(b);
            let d = &mut self.delta[nl - 1][b * n_out..(b + 1) * n_out];
            for (k, (dk, yk)) in d.iter_mut().zip(y.iter()).enumerate() {
                let e = if k == t { 1.0 } else { 0.0 } - yk;
                *dk = e.clamp(-clip, clip);
            }
        }
        Ok(())
    }

    /// Hidden errors from the weights before this step's update.
    fn backpropagate(&mut self, nb: usize) {
        let act_fn = self.cfg.nonlinearity();
        let clip = self.cfg.error_clip;
        for l in (1..self.layers.len()).rev() {
            let layer = &self.layers[l];
            let (st, n_h, n_o) = (layer.stride(), layer.n_in, layer.n_out);
            let (lo, hi) = self.delta.split_at_mut(l);
            let (dprev, dcur) = (&mut lo[l - 1], &hi[0]);
            for b in 0..nb {
                let acc = &mut dprev[b * n_h..(b + 1) * n_h];
                acc.fill(0.0);
                for k in 0..n_o {
                    let e = dcur[b * n_o + k];
                    if e != 0.0 {
                        crate::math::axpy(acc, &layer.w[k * st..k * st + n_h], e);
                    }
                }
                let y = &self.act[l][b * (n_h + 1)..b * (n_h + 1) + n_h];
                for (d, &yj) in acc.iter_mut().zip(y) {
                    *d = (*d * act_fn.df(yj)).clamp(-clip, clip);
                }
            }
        }
    }

    /// The plastic units of every hidden layer: the `plastic_units` largest
    /// `Σ_b |δ|` (ties: lower index).
    fn choose_paths(&mut self, nb: usize) {
        let k = self.cfg.plastic_units.unwrap_or(0);
        for h in 1..self.layers.len() {
            let n = self.cfg.sizes[h];
            let score = &mut self.score[..n];
            score.fill(0.0);
            for b in 0..nb {
                for (s, d) in score.iter_mut().zip(&self.delta[h - 1][b * n..(b + 1) * n]) {
                    *s += d.abs();
                }
            }
            let winners = kwta_into(&self.score[..n], k, &mut self.idx[..n]);
            let mask = &mut self.paths[h - 1];
            mask.fill(false);
            for &i in winners {
                mask[i as usize] = true;
            }
        }
    }
}
