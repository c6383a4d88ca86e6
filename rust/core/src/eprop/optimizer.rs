//! Weight updates from the accumulated gradients: gradient descent or Adam
//! (one step counter per synapse), clamped to `[w_min, w_max]` and to the
//! Dale sign of the presynaptic neuron.

use super::config::{Config, Optimizer};
use super::traces::{Row, Tr};

/// Optimizer parameters shared by all synapses.
#[derive(Clone, Copy)]
pub(super) struct Opt {
    kind: Optimizer,
    eta: f64,
    w_min: f64,
    w_max: f64,
}

impl Opt {
    pub fn of(cfg: &Config) -> Self {
        Opt {
            kind: cfg.optimizer(),
            eta: cfg.eta,
            w_min: cfg.w_min,
            w_max: cfg.w_max,
        }
    }

    /// Apply the optimizer to one synapse; returns `|Δw|` (0 when unchanged).
    #[inline]
    fn step(
        &self,
        w: &mut f32,
        g: &mut Tr,
        m1: Option<(&mut f32, &mut f32, &mut u32)>,
        scale: f64,
        sign: i8,
    ) -> f64 {
        let grad = *g * scale;
        *g = 0.0;
        let old = *w as f64;
        let mut new = match (self.kind, m1) {
            (
                Optimizer::Adam {
                    beta1,
                    beta2,
                    epsilon,
                },
                Some((m, v, t)),
            ) => {
                *t = t.saturating_add(1);
                let mm = beta1 * *m as f64 + (1.0 - beta1) * grad;
                let vv = beta2 * *v as f64 + (1.0 - beta2) * grad * grad;
                *m = mm as f32;
                *v = vv as f32;
                let tt = (*t).min(i32::MAX as u32) as i32;
                let mhat = mm / (1.0 - beta1.powi(tt));
                let vhat = vv / (1.0 - beta2.powi(tt));
                old - self.eta * mhat / (vhat.sqrt() + epsilon)
            }
            _ => old - self.eta * grad,
        };
        new = new.clamp(self.w_min, self.w_max);
        if sign > 0 {
            new = new.max(0.0);
        } else if sign < 0 {
            new = new.min(0.0);
        }
        let nf = new as f32;
        let d = (nf as f64 - *w as f64).abs();
        *w = nf;
        d
    }
}

/// Gradient descent on a row of synapses, branch-free so that it vectorises:
/// the arithmetic of [`Opt::step`] (adding `|Δw| = 0` leaves the sum as
/// it is). Returns (writes, Σ|Δw|).
fn descend(opt: &Opt, w: &mut [f32], grad: &mut [Tr], scale: f64, sign: i8) -> (u64, f64) {
    let (mut n, mut sum) = (0u64, 0.0f64);
    for (w, g) in w.iter_mut().zip(grad.iter_mut()) {
        let old = *w as f64;
        let mut new = (old - opt.eta * (*g * scale)).clamp(opt.w_min, opt.w_max);
        if sign > 0 {
            new = new.max(0.0);
        } else if sign < 0 {
            new = new.min(0.0);
        }
        *g = 0.0;
        let nf = new as f32;
        let d = (nf as f64 - old).abs();
        *w = nf;
        let changed = d > 0.0;
        n += changed as u64;
        sum += if changed { d } else { 0.0 };
    }
    (n, sum)
}

/// Apply the optimizer to every synapse of a row; returns (writes, Σ|Δw|) for
/// the input/recurrent synapses and for the readout synapses.
pub(super) fn optimize_row(opt: &Opt, row: &mut Row<'_>, scale: f64, sign: i8) -> [(u64, f64); 2] {
    let adam = matches!(opt.kind, Optimizer::Adam { .. });
    let mut c = [(0u64, 0.0f64); 2];
    if !adam {
        c[0] = descend(opt, row.w, row.grad, scale, sign);
        c[1] = descend(opt, row.w_out, row.grad_out, scale, 0);
        return c;
    }
    for s in 0..row.w.len() {
        let st = if adam {
            Some((&mut row.m1[s], &mut row.m2[s], &mut row.nsteps[s]))
        } else {
            None
        };
        let d = opt.step(&mut row.w[s], &mut row.grad[s], st, scale, sign);
        if d > 0.0 {
            c[0].0 += 1;
            c[0].1 += d;
        }
    }
    for k in 0..row.w_out.len() {
        let st = if adam {
            Some((
                &mut row.m1_out[k],
                &mut row.m2_out[k],
                &mut row.nsteps_out[k],
            ))
        } else {
            None
        };
        let d = opt.step(&mut row.w_out[k], &mut row.grad_out[k], st, scale, 0);
        if d > 0.0 {
            c[1].0 += 1;
            c[1].1 += d;
        }
    }
    c
}
