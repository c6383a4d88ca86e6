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

/// One synapse of gradient descent, branch-free so that a loop of them
/// vectorises: the arithmetic of [`Opt::step`]; returns `|Δw|` when the
/// weight changed, else 0.
#[inline(always)]
fn descend_one(opt: &Opt, w: &mut f32, g: &mut Tr, scale: f64, sign: i8) -> f64 {
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
    if d > 0.0 {
        d
    } else {
        0.0
    }
}

/// Gradient descent on a row of synapses; returns (writes, Σ|Δw|) (adding
/// `|Δw| = 0` leaves the sum as it is).
fn descend(opt: &Opt, w: &mut [f32], grad: &mut [Tr], scale: f64, sign: i8) -> (u64, f64) {
    let (mut n, mut sum) = (0u64, 0.0f64);
    for (w, g) in w.iter_mut().zip(grad.iter_mut()) {
        let d = descend_one(opt, w, g, scale, sign);
        n += (d > 0.0) as u64;
        sum += d;
    }
    (n, sum)
}

/// Adam (or the plain step) on weights `w` with gradients `grad` and
/// moments `m1`, `m2`, `nsteps` (empty unless Adam); `each(s, |Δw|)` for
/// every synapse.
#[allow(clippy::too_many_arguments)]
fn step_each(
    opt: &Opt,
    w: &mut [f32],
    grad: &mut [Tr],
    (m1, m2, nsteps): (&mut [f32], &mut [f32], &mut [u32]),
    scale: f64,
    sign: i8,
    mut each: impl FnMut(usize, f64),
) {
    let adam = matches!(opt.kind, Optimizer::Adam { .. });
    for s in 0..w.len() {
        let st = if adam {
            Some((&mut m1[s], &mut m2[s], &mut nsteps[s]))
        } else {
            None
        };
        let d = opt.step(&mut w[s], &mut grad[s], st, scale, sign);
        each(s, d);
    }
}

/// Apply the optimizer to every synapse of a row; returns (writes, Σ|Δw|) for
/// the input/recurrent synapses and for the readout synapses.
pub(super) fn optimize_row(opt: &Opt, row: &mut Row<'_>, scale: f64, sign: i8) -> [(u64, f64); 2] {
    let adam = matches!(opt.kind, Optimizer::Adam { .. });
    if !adam {
        return [
            descend(opt, row.w, row.grad, scale, sign),
            optimize_readout(opt, row, scale),
        ];
    }
    let mut c = (0u64, 0.0f64);
    let moments = (&mut *row.m1, &mut *row.m2, &mut *row.nsteps);
    step_each(opt, row.w, row.grad, moments, scale, sign, |_, d| {
        if d > 0.0 {
            c.0 += 1;
            c.1 += d;
        }
    });
    [c, optimize_readout(opt, row, scale)]
}

/// [`optimize_row`]'s readout synapses alone: (writes, Σ|Δw|).
pub(super) fn optimize_readout(opt: &Opt, row: &mut Row<'_>, scale: f64) -> (u64, f64) {
    if !matches!(opt.kind, Optimizer::Adam { .. }) {
        return descend(opt, row.w_out, row.grad_out, scale, 0);
    }
    let mut c = (0u64, 0.0f64);
    let moments = (&mut *row.m1_out, &mut *row.m2_out, &mut *row.nsteps_out);
    step_each(opt, row.w_out, row.grad_out, moments, scale, 0, |_, d| {
        if d > 0.0 {
            c.0 += 1;
            c.1 += d;
        }
    });
    c
}

/// [`optimize_row`]'s input/recurrent synapses of a run of a row's
/// synapses, each synapse's `|Δw|` (0 when unchanged) into `d`: [`tally`]
/// of the row's `d`, whatever its runs, is [`optimize_row`]'s first count.
pub(super) fn optimize_deltas(opt: &Opt, row: &mut Row<'_>, scale: f64, sign: i8, d: &mut [f64]) {
    if !matches!(opt.kind, Optimizer::Adam { .. }) {
        for ((w, g), d) in row.w.iter_mut().zip(row.grad.iter_mut()).zip(d) {
            *d = descend_one(opt, w, g, scale, sign);
        }
        return;
    }
    let moments = (&mut *row.m1, &mut *row.m2, &mut *row.nsteps);
    step_each(opt, row.w, row.grad, moments, scale, sign, |s, x| {
        d[s] = if x > 0.0 { x } else { 0.0 };
    });
}

/// (writes, Σ|Δw|) of the changes `d` from [`optimize_deltas`], summed in
/// order as [`optimize_row`] sums them.
pub(super) fn tally(d: &[f64]) -> (u64, f64) {
    let (mut n, mut sum) = (0u64, 0.0f64);
    for &x in d {
        n += (x > 0.0) as u64;
        sum += x;
    }
    (n, sum)
}
