//! Event-driven e-prop (Bellec et al. 2020; Korcsak-Gorzo et al. 2025).
//!
//! A recurrent network of (adaptive) leaky integrate-and-fire neurons with
//! leaky readouts learns online with eligibility propagation. Input and
//! recurrent synapses live in one [`SynapseMatrix`] whose rows are the
//! **presynaptic** neurons (inputs `0..n_in`, then recurrent neurons), so that
//! all outgoing synapses of a neuron are contiguous — the layout the
//! event-driven scheme needs.
//!
//! ## Time-stepping (step `g`, global across sequences)
//! 1. presynaptic spikes *arriving* at `g` (inputs `x(g)`, recurrent `z(g−1)`)
//!    trigger their synapses: event-driven, each synapse integrates its traces
//!    over the postsynaptic archive entries since the previous spike (up to a
//!    cutoff), then (NEST mode) the optimizer is applied to the gradient;
//! 2. readouts `y(g) = κ_out y + W_out z(g−1)`, error `err(g)`, learning signal
//!    `L(g−1) = B err(g)` written into the archive of step `g − 1`;
//! 3. time-driven: every synapse integrates entry `g − 1`; event-driven:
//!    synapses whose cutoff window just closed integrate it now (flush);
//! 4. recurrent neurons integrate the arriving spikes and archive `ψ(g)` and
//!    the firing-rate regularisation term of step `g`.
//!
//! The archive is a ring buffer per neuron that only holds the steps some
//! synapse still needs (it grows when a window is longer than the ring).
//! Both schemes run the same per-entry arithmetic, so the event-driven and the
//! time-driven scheme give the same weights up to floating-point rounding of
//! the analytic decay `κ^n` over skipped steps.

mod config;
#[cfg(test)]
mod tests;

pub use config::{Config, Loss, Optimizer, Surrogate};

use crate::energy::EnergyCounters;
use crate::error::{Error, Result};
use crate::rng::stream_rng;
use crate::synapses::SynapseMatrix;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

const NONE: i64 = i64::MIN / 4;
const CHUNK: usize = 256;

/// Storage type of per-synapse traces and gradients.
type Tr = f64;

/// Per-presynaptic-neuron state of the event-driven scheme.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Pre {
    /// Step of the last spike arrival (`NONE`: none yet).
    last: i64,
    /// Step of the arrival before `last`.
    before: i64,
    /// Traces of the outgoing synapses are integrated up to (excluding) this entry.
    trace_at: i64,
    /// Presynaptic trace `z̄` after entry `trace_at − 1` (recurrent filter).
    zbar: f64,
    /// Presynaptic trace for the readout filter.
    zbar_out: f64,
}

impl Pre {
    fn reset(at: i64) -> Self {
        Pre {
            last: NONE,
            before: NONE,
            trace_at: at,
            zbar: 0.0,
            zbar_out: 0.0,
        }
    }
}

/// Counts of what a run did (for energy reports and benchmarks).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stats {
    /// Synaptic transmission events (one per synapse per arriving spike).
    pub events: u64,
    /// Synapse-entry trace integrations.
    pub trace_updates: u64,
    /// Optimizer applications (synapse weight updates attempted).
    pub optimizer_calls: u64,
    /// Recurrent spikes.
    pub spikes: u64,
    /// Simulated steps.
    pub steps: u64,
    /// Largest archive length (steps held per neuron).
    pub peak_archive_steps: u64,
}

/// What a run returns.
#[derive(Debug, Clone, Default)]
pub struct RunOutput {
    /// Loss of each sequence.
    pub loss: Vec<f64>,
    /// Readout traces `(sequences, steps, n_out)` when requested.
    pub y: Vec<f32>,
    /// Recurrent spikes `(sequences, steps, n_rec)` when requested.
    pub raster: Vec<u8>,
}

/// Sequences to run: dense input spikes, targets and the learning window.
pub struct Batch<'a> {
    pub n_seq: usize,
    pub n_steps: usize,
    /// `(n_seq, n_steps, n_in)` 0/1 spikes arriving at each step.
    pub x: &'a [u8],
    /// `(n_seq, n_steps, n_out)` targets (one-hot for cross-entropy).
    pub target: &'a [f32],
    /// `(n_seq, n_steps)` learning window (error multiplier).
    pub mask: &'a [f32],
}

/// Mutable view of one presynaptic row: its synapses and their learning state.
struct Row<'a> {
    p: usize,
    post: &'a [u32],
    w: &'a mut [f32],
    ebar: &'a mut [Tr],
    ebar_reg: &'a mut [Tr],
    eps: &'a mut [Tr],
    grad: &'a mut [Tr],
    m1: &'a mut [f32],
    m2: &'a mut [f32],
    nsteps: &'a mut [u32],
    /// Readout synapses of a recurrent presynaptic neuron (`n_out`, else empty).
    w_out: &'a mut [f32],
    grad_out: &'a mut [Tr],
    m1_out: &'a mut [f32],
    m2_out: &'a mut [f32],
    nsteps_out: &'a mut [u32],
    pre: &'a mut Pre,
}

/// Read-only context of trace integration.
struct Ctx<'a> {
    alpha: f64,
    c_z: f64,
    kappa: f64,
    c_e: f64,
    kappa_reg: f64,
    rho: f64,
    beta: f64,
    kout: f64,
    adaptive: bool,
    cutoff: i64,
    n_in: usize,
    n_out: usize,
    width: usize,
    psi: &'a [f32],
    lsig: &'a [f32],
    reg: &'a [f32],
    err: &'a [f32],
}

#[inline]
fn slot(m: i64, width: usize) -> usize {
    m.rem_euclid(width as i64) as usize
}

/// Integrate the traces of one presynaptic row over the archive entries
/// `[trace_at, upto)`; entries beyond the cutoff only decay. Returns the
/// number of synapse-entry integrations.
fn integrate(ctx: &Ctx<'_>, row: &mut Row<'_>, upto: i64, zbuf: &mut Vec<f64>) -> u64 {
    let pre = &mut *row.pre;
    let a = pre.trace_at;
    if upto <= a {
        return 0;
    }
    if pre.last == NONE {
        pre.trace_at = upto;
        return 0;
    }
    let b_inc = upto.min(pre.last.saturating_add(ctx.cutoff - 1)).max(a);
    let spike = |m: i64| m == pre.last || m == pre.before;
    zbuf.clear();
    let mut z = pre.zbar;
    let mut zo = pre.zbar_out;
    let mut zo_buf_start = zbuf.len();
    for m in a..b_inc {
        z = ctx.alpha * z + if spike(m) { ctx.c_z } else { 0.0 };
        zbuf.push(z);
    }
    let recurrent = row.p >= ctx.n_in;
    if recurrent {
        zo_buf_start = zbuf.len();
        for m in a..b_inc {
            zo = ctx.kout * zo + if spike(m) { 1.0 } else { 0.0 };
            zbuf.push(zo);
        }
    }
    let tail = (upto - b_inc) as i32;
    for m in b_inc..upto {
        z = ctx.alpha * z + if spike(m) { ctx.c_z } else { 0.0 };
        zo = ctx.kout * zo + if spike(m) { 1.0 } else { 0.0 };
    }
    let n = (b_inc - a) as usize;
    let (dk, dr, da) = if tail > 0 {
        (
            ctx.kappa.powi(tail),
            ctx.kappa_reg.powi(tail),
            ctx.rho.powi(tail),
        )
    } else {
        (1.0, 1.0, 1.0)
    };
    let w = ctx.width;
    let reg_on = !row.ebar_reg.is_empty();
    // the window as (at most) two contiguous runs of ring slots
    let sl0 = if n > 0 { slot(a, w) } else { 0 };
    let first = n.min(w - sl0);
    let runs = [(sl0, 0usize, first), (0usize, first, n - first)];
    let (kappa, c_e, kreg) = (ctx.kappa, ctx.c_e, ctx.kappa_reg);
    let n_syn = row.post.len();
    // plain LIF without regularisation: four synapses at a time, so that their
    // independent recurrences overlap (same arithmetic per synapse)
    let quad = if !ctx.adaptive && n > 0 {
        n_syn / 4 * 4
    } else {
        0
    };
    for s0 in (0..quad).step_by(4) {
        let b: [usize; 4] = std::array::from_fn(|q| row.post[s0 + q] as usize * w);
        let mut eb: [f64; 4] = std::array::from_fn(|q| row.ebar[s0 + q]);
        let mut g: [f64; 4] = std::array::from_fn(|q| row.grad[s0 + q]);
        let mut er: [f64; 4] = if reg_on {
            std::array::from_fn(|q| row.ebar_reg[s0 + q])
        } else {
            [0.0; 4]
        };
        for &(sl, zoff, len) in &runs {
            let zb = &zbuf[zoff..zoff + len];
            let ps: [&[f32]; 4] = std::array::from_fn(|q| &ctx.psi[b[q] + sl..b[q] + sl + len]);
            let ls: [&[f32]; 4] = std::array::from_fn(|q| &ctx.lsig[b[q] + sl..b[q] + sl + len]);
            if reg_on {
                let rg: [&[f32]; 4] = std::array::from_fn(|q| &ctx.reg[b[q] + sl..b[q] + sl + len]);
                for i in 0..len {
                    let zv = zb[i];
                    for q in 0..4 {
                        let e = ps[q][i] as f64 * zv;
                        eb[q] = kappa * eb[q] + c_e * e;
                        er[q] = kreg * er[q] + (1.0 - kreg) * e;
                        g[q] += ls[q][i] as f64 * eb[q];
                        g[q] += rg[q][i] as f64 * er[q];
                    }
                }
            } else {
                for i in 0..len {
                    let zv = zb[i];
                    for q in 0..4 {
                        eb[q] = kappa * eb[q] + c_e * (ps[q][i] as f64 * zv);
                        g[q] += ls[q][i] as f64 * eb[q];
                    }
                }
            }
        }
        for q in 0..4 {
            row.ebar[s0 + q] = if tail > 0 { eb[q] * dk } else { eb[q] };
            row.grad[s0 + q] = g[q];
            if reg_on {
                row.ebar_reg[s0 + q] = if tail > 0 { er[q] * dr } else { er[q] };
            }
        }
    }
    for s in quad..n_syn {
        let base = row.post[s] as usize * w;
        let mut eb = row.ebar[s];
        let mut er = if reg_on { row.ebar_reg[s] } else { 0.0 };
        let mut ep = if ctx.adaptive { row.eps[s] } else { 0.0 };
        let mut g = row.grad[s];
        for &(sl, zoff, len) in &runs {
            if len == 0 {
                continue;
            }
            let ps = &ctx.psi[base + sl..base + sl + len];
            let ls = &ctx.lsig[base + sl..base + sl + len];
            let rg = &ctx.reg[base + sl..base + sl + len];
            let zb = &zbuf[zoff..zoff + len];
            if ctx.adaptive {
                for i in 0..len {
                    let e = ps[i] as f64 * (zb[i] - ctx.beta * ep);
                    ep = ctx.rho * ep + e;
                    eb = kappa * eb + c_e * e;
                    g += ls[i] as f64 * eb;
                    if reg_on {
                        er = kreg * er + (1.0 - kreg) * e;
                        g += rg[i] as f64 * er;
                    }
                }
            } else if reg_on {
                for (((&p, &l), &r), &zv) in ps.iter().zip(ls).zip(rg).zip(zb) {
                    let e = p as f64 * zv;
                    eb = kappa * eb + c_e * e;
                    er = kreg * er + (1.0 - kreg) * e;
                    g += l as f64 * eb;
                    g += r as f64 * er;
                }
            } else {
                for ((&p, &l), &zv) in ps.iter().zip(ls).zip(zb) {
                    eb = kappa * eb + c_e * (p as f64 * zv);
                    g += l as f64 * eb;
                }
            }
        }
        if tail > 0 {
            eb *= dk;
            er *= dr;
            ep *= da;
        }
        row.ebar[s] = eb;
        if reg_on {
            row.ebar_reg[s] = er;
        }
        if ctx.adaptive {
            row.eps[s] = ep;
        }
        row.grad[s] = g;
    }
    if recurrent {
        for k in 0..ctx.n_out {
            let base = k * w;
            let mut g = row.grad_out[k];
            for &(sl, zoff, len) in &runs {
                let es = &ctx.err[base + sl..base + sl + len];
                let zb = &zbuf[zo_buf_start + zoff..zo_buf_start + zoff + len];
                for (&e, &zv) in es.iter().zip(zb) {
                    g += e as f64 * zv;
                }
            }
            row.grad_out[k] = g;
        }
    }
    pre.zbar = z;
    pre.zbar_out = zo;
    pre.trace_at = upto;
    (n * (row.post.len() + if recurrent { ctx.n_out } else { 0 })) as u64
}

/// Optimizer parameters shared by all synapses.
#[derive(Clone, Copy)]
struct Opt {
    kind: Optimizer,
    eta: f64,
    w_min: f64,
    w_max: f64,
}

impl Opt {
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

/// Apply the optimizer to every synapse of a row; returns (writes, Σ|Δw|) for
/// the input/recurrent synapses and for the readout synapses.
fn optimize_row(opt: &Opt, row: &mut Row<'_>, scale: f64, sign: i8) -> [(u64, f64); 2] {
    let adam = matches!(opt.kind, Optimizer::Adam { .. });
    let mut c = [(0u64, 0.0f64); 2];
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

/// Split `v` into the segments `[bounds[p], bounds[p+1])` of the sorted rows
/// `sel` (an empty `v` gives empty segments). Cost: O(|sel|).
fn segments<'a, T>(v: &'a mut [T], bounds: &[usize], sel: &[usize]) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(sel.len());
    if v.is_empty() {
        out.resize_with(sel.len(), <&mut [T]>::default);
        return out;
    }
    let mut rest = v;
    let mut pos = 0usize;
    for &p in sel {
        let (lo, hi) = (bounds[p], bounds[p + 1]);
        let tmp = std::mem::take(&mut rest);
        let (_, tail) = tmp.split_at_mut(lo - pos);
        let (seg, tail) = tail.split_at_mut(hi - lo);
        rest = tail;
        pos = hi;
        out.push(seg);
    }
    out
}

/// A recurrent spiking network learning with e-prop.
#[derive(Debug, Clone)]
pub struct Network {
    cfg: Config,
    alpha: f64,
    rho: f64,
    kout: f64,
    c_in: f64,
    c_e: f64,
    /// Input + recurrent synapses, rows = presynaptic neurons, columns = recurrent neurons.
    syn: SynapseMatrix,
    /// Dale's law sign per presynaptic neuron (+1, −1, 0 = free).
    sign: Vec<i8>,
    ebar: Vec<Tr>,
    ebar_reg: Vec<Tr>,
    eps: Vec<Tr>,
    grad: Vec<Tr>,
    m1: Vec<f32>,
    m2: Vec<f32>,
    nsteps: Vec<u32>,
    /// Readout weights `(n_rec, n_out)`, row = recurrent neuron.
    w_out: Vec<f32>,
    grad_out: Vec<Tr>,
    m1_out: Vec<f32>,
    m2_out: Vec<f32>,
    nsteps_out: Vec<u32>,
    /// Feedback weights `(n_rec, n_out)` (unused when symmetric).
    feedback: Vec<f32>,
    pre: Vec<Pre>,
    v: Vec<f64>,
    a: Vec<f64>,
    z: Vec<u8>,
    refr: Vec<u32>,
    f_av: Vec<f64>,
    y: Vec<f64>,
    width: usize,
    psi: Vec<f32>,
    lsig: Vec<f32>,
    reg: Vec<f32>,
    err: Vec<f32>,
    g: i64,
    out_counters: EnergyCounters,
    stats: Stats,
    sequences_in_batch: usize,
}

/// Random sparse rows: row `p` holds each of `n_cols` columns with probability
/// `prob` (never column `skip(p)`), weights `N(0, 1) · scale`.
fn random_rows(
    n_rows: usize,
    n_cols: usize,
    prob: f64,
    scale: f64,
    seed: u64,
    stream0: u64,
    skip: impl Fn(usize) -> Option<usize> + Sync,
) -> Vec<(Vec<u32>, Vec<f32>)> {
    (0..n_rows)
        .into_par_iter()
        .map(|p| {
            let mut rng = stream_rng(seed, stream0 + p as u64);
            let mut idx = Vec::new();
            let mut w = Vec::new();
            if prob >= 1.0 {
                for j in 0..n_cols {
                    if Some(j) != skip(p) {
                        idx.push(j as u32);
                        let x: f64 = StandardNormal.sample(&mut rng);
                        w.push((x * scale) as f32);
                    }
                }
            } else if prob > 0.0 {
                // geometric skips: O(synapses) instead of O(columns)
                let ln_q = (1.0 - prob).ln();
                let mut j: f64 = -1.0;
                loop {
                    let u: f64 = rng.random::<f64>();
                    j += 1.0 + ((1.0 - u).ln() / ln_q).floor();
                    if j >= n_cols as f64 {
                        break;
                    }
                    let jj = j as usize;
                    if Some(jj) != skip(p) {
                        idx.push(jj as u32);
                        let x: f64 = StandardNormal.sample(&mut rng);
                        w.push((x * scale) as f32);
                    }
                }
            }
            (idx, w)
        })
        .collect()
}

impl Network {
    /// Build a network from its synapses.
    ///
    /// `syn` has `n_in + n_rec` rows (presynaptic neurons) and `n_rec`
    /// columns; `w_out` and `feedback` are `(n_rec, n_out)` row-major;
    /// `sign` is empty or has one Dale sign (−1, 0, +1) per presynaptic neuron.
    pub fn new(
        cfg: Config,
        syn: SynapseMatrix,
        w_out: Vec<f32>,
        feedback: Vec<f32>,
        sign: Vec<i8>,
    ) -> Result<Self> {
        cfg.validate()?;
        let (n_pre, n_rec, n_out) = (cfg.n_pre(), cfg.n_rec, cfg.n_out);
        if syn.n_post() != n_pre || syn.n_pre() != n_rec || syn.is_binary() {
            return Err(Error::Shape(format!(
                "synapses must be a weighted {} x {} matrix (presynaptic x recurrent), got {} x {}",
                n_pre,
                n_rec,
                syn.n_post(),
                syn.n_pre()
            )));
        }
        let n_ro = n_rec
            .checked_mul(n_out)
            .ok_or_else(|| Error::Value("n_rec * n_out overflows".into()))?;
        if w_out.len() != n_ro || feedback.len() != n_ro {
            return Err(Error::Shape(format!(
                "readout and feedback weights need {} values, got {} and {}",
                n_ro,
                w_out.len(),
                feedback.len()
            )));
        }
        if !sign.is_empty() && sign.len() != n_pre {
            return Err(Error::Shape(format!(
                "sign needs {} entries, got {}",
                n_pre,
                sign.len()
            )));
        }
        if sign.iter().any(|&s| !(-1..=1).contains(&s)) {
            return Err(Error::Value("sign entries must be -1, 0 or 1".into()));
        }
        let all_w = syn
            .weights()
            .unwrap_or(&[])
            .iter()
            .chain(&w_out)
            .chain(&feedback);
        if all_w.clone().any(|w| !w.is_finite()) {
            return Err(Error::Value("weights must be finite".into()));
        }
        let nnz = syn.nnz();
        let adam = matches!(cfg.optimizer, Optimizer::Adam { .. });
        let alpha = (-cfg.dt / cfg.tau_m).exp();
        let rho = (-cfg.dt / cfg.adapt_tau).exp();
        let kout = (-cfg.dt / cfg.tau_out).exp();
        let (c_in, c_e) = if cfg.nest_compatible {
            (1.0, 1.0)
        } else {
            (1.0 - alpha, 1.0 - cfg.kappa)
        };
        let sign = if sign.is_empty() {
            vec![0; n_pre]
        } else {
            sign
        };
        let width = 4;
        Ok(Network {
            alpha,
            rho,
            kout,
            c_in,
            c_e,
            sign,
            ebar: vec![0.0; nnz],
            ebar_reg: vec![0.0; if cfg.c_reg > 0.0 { nnz } else { 0 }],
            eps: vec![0.0; if cfg.adapt_beta > 0.0 { nnz } else { 0 }],
            grad: vec![0.0; nnz],
            m1: vec![0.0; if adam { nnz } else { 0 }],
            m2: vec![0.0; if adam { nnz } else { 0 }],
            nsteps: vec![0; if adam { nnz } else { 0 }],
            grad_out: vec![0.0; n_ro],
            m1_out: vec![0.0; if adam { n_ro } else { 0 }],
            m2_out: vec![0.0; if adam { n_ro } else { 0 }],
            nsteps_out: vec![0; if adam { n_ro } else { 0 }],
            w_out,
            feedback,
            pre: vec![Pre::reset(0); n_pre],
            v: vec![0.0; n_rec],
            a: vec![0.0; n_rec],
            z: vec![0; n_rec],
            refr: vec![0; n_rec],
            f_av: vec![0.0; n_rec],
            y: vec![0.0; n_out],
            width,
            psi: vec![0.0; n_rec * width],
            lsig: vec![0.0; n_rec * width],
            reg: vec![0.0; n_rec * width],
            err: vec![0.0; n_out * width],
            g: 0,
            out_counters: EnergyCounters::default(),
            stats: Stats::default(),
            sequences_in_batch: 0,
            syn,
            cfg,
        })
    }

    /// A network with random sparse connectivity: each input→recurrent synapse
    /// exists with probability `p_in`, each recurrent→recurrent one (no
    /// autapses) with `p_rec`; weights `N(0,1)·scale_*` (scales multiply
    /// `1/√(expected fan-in)`); readout and feedback `N(0,1)/√n_rec · scale`.
    /// A fraction `frac_exc` of presynaptic neurons is excitatory under Dale's
    /// law when `dale` is set (weights take the sign's absolute value).
    #[allow(clippy::too_many_arguments)]
    pub fn random(
        cfg: Config,
        p_in: f64,
        p_rec: f64,
        scales: [f64; 4],
        dale: Option<f64>,
        symmetric_init: bool,
        seed: u64,
    ) -> Result<Self> {
        cfg.validate()?;
        for (name, p) in [("p_in", p_in), ("p_rec", p_rec)] {
            if !(0.0..=1.0).contains(&p) {
                return Err(Error::Value(format!("{name} must lie in [0, 1], got {p}")));
            }
        }
        if scales.iter().any(|s| !s.is_finite()) {
            return Err(Error::Value("weight scales must be finite".into()));
        }
        let (n_in, n_rec, n_out) = (cfg.n_in, cfg.n_rec, cfg.n_out);
        let fan_in = |n: usize, p: f64| 1.0 / (n as f64 * p).max(1.0).sqrt();
        let mut rows = random_rows(
            n_in,
            n_rec,
            p_in,
            scales[0] * fan_in(n_in, p_in),
            seed,
            0,
            |_| None,
        );
        rows.extend(random_rows(
            n_rec,
            n_rec,
            p_rec,
            scales[1] * fan_in(n_rec, p_rec),
            seed,
            n_in as u64,
            Some,
        ));
        let n_pre = n_in + n_rec;
        let mut sign = Vec::new();
        if let Some(frac) = dale {
            if !(0.0..=1.0).contains(&frac) {
                return Err(Error::Value(format!(
                    "dale fraction must lie in [0, 1], got {frac}"
                )));
            }
            let mut rng = stream_rng(seed, u64::MAX - 2);
            sign = (0..n_pre)
                .map(|_| if rng.random::<f64>() < frac { 1 } else { -1 })
                .collect();
            for (p, (_, w)) in rows.iter_mut().enumerate() {
                for x in w.iter_mut() {
                    *x = x.abs() * sign[p] as f32;
                }
            }
        }
        let mut indptr = Vec::with_capacity(n_pre + 1);
        indptr.push(0usize);
        let nnz: usize = rows.iter().map(|r| r.0.len()).sum();
        let mut indices = Vec::with_capacity(nnz);
        let mut weights = Vec::with_capacity(nnz);
        for (idx, w) in rows {
            indices.extend_from_slice(&idx);
            weights.extend_from_slice(&w);
            indptr.push(indices.len());
        }
        let syn = SynapseMatrix::from_csr(n_pre, n_rec, &indptr, &indices, Some(&weights), false)?;
        drop((indices, weights));
        let mut rng = stream_rng(seed, u64::MAX - 1);
        let s = 1.0 / (n_rec as f64).sqrt();
        let mut draw = |scale: f64| -> Vec<f32> {
            (0..n_rec * n_out)
                .map(|_| {
                    let x: f64 = StandardNormal.sample(&mut rng);
                    (x * s * scale) as f32
                })
                .collect()
        };
        let w_out = draw(scales[2]);
        let feedback = if symmetric_init {
            w_out.clone()
        } else {
            draw(scales[3])
        };
        Network::new(cfg, syn, w_out, feedback, sign)
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }
    pub fn synapses(&self) -> &SynapseMatrix {
        &self.syn
    }
    pub fn w_out(&self) -> &[f32] {
        &self.w_out
    }
    pub fn feedback(&self) -> &[f32] {
        &self.feedback
    }
    pub fn sign(&self) -> &[i8] {
        &self.sign
    }
    pub fn stats(&self) -> Stats {
        self.stats
    }
    /// Energy counters of the input/recurrent synapses and of the readout synapses.
    pub fn counters(&self) -> (EnergyCounters, EnergyCounters) {
        (*self.syn.counters(), self.out_counters)
    }
    /// Set the energy counters (used when restoring a pickled model).
    pub fn set_counters(&mut self, syn: EnergyCounters, out: EnergyCounters, stats: Stats) {
        self.syn.set_counters(syn);
        self.out_counters = out;
        self.stats = stats;
    }
    /// Adam moments and step counts `(m1, m2, steps, m1_out, m2_out, steps_out)`.
    #[allow(clippy::type_complexity)]
    pub fn adam_state(&self) -> (&[f32], &[f32], &[u32], &[f32], &[f32], &[u32]) {
        (
            &self.m1,
            &self.m2,
            &self.nsteps,
            &self.m1_out,
            &self.m2_out,
            &self.nsteps_out,
        )
    }
    /// Restore Adam moments (lengths must match, or all be empty).
    pub fn set_adam_state(
        &mut self,
        m1: Vec<f32>,
        m2: Vec<f32>,
        steps: Vec<u32>,
        m1_out: Vec<f32>,
        m2_out: Vec<f32>,
        steps_out: Vec<u32>,
    ) -> Result<()> {
        let ok = m1.len() == self.m1.len()
            && m2.len() == self.m2.len()
            && steps.len() == self.nsteps.len()
            && m1_out.len() == self.m1_out.len()
            && m2_out.len() == self.m2_out.len()
            && steps_out.len() == self.nsteps_out.len();
        if !ok {
            return Err(Error::Shape("Adam state does not fit the network".into()));
        }
        self.m1 = m1;
        self.m2 = m2;
        self.nsteps = steps;
        self.m1_out = m1_out;
        self.m2_out = m2_out;
        self.nsteps_out = steps_out;
        Ok(())
    }

    /// Bytes held per synapse (weights, indices and learning state).
    pub fn synapse_state_bytes(&self) -> usize {
        let tr = std::mem::size_of::<Tr>();
        self.syn.memory_bytes()
            + tr * (self.ebar.capacity()
                + self.ebar_reg.capacity()
                + self.eps.capacity()
                + self.grad.capacity())
            + 4 * (self.m1.capacity() + self.m2.capacity() + self.nsteps.capacity())
    }
    /// Bytes of the per-neuron history archive (ring buffers) now.
    pub fn archive_bytes(&self) -> usize {
        4 * (self.psi.capacity() + self.lsig.capacity() + self.reg.capacity() + self.err.capacity())
    }
    /// Total bytes of the network state.
    pub fn memory_bytes(&self) -> usize {
        self.synapse_state_bytes()
            + self.archive_bytes()
            + 4 * (self.w_out.len() * 2 + self.grad_out.len() + self.m1_out.len() * 3)
            + std::mem::size_of::<Pre>() * self.pre.len()
            + 40 * self.cfg.n_rec
    }

    /// Forget all dynamic state (membranes, traces, archive), keep the weights.
    pub fn reset_state(&mut self) {
        let g = self.g;
        self.v.iter_mut().for_each(|x| *x = 0.0);
        self.a.iter_mut().for_each(|x| *x = 0.0);
        self.z.iter_mut().for_each(|x| *x = 0);
        self.refr.iter_mut().for_each(|x| *x = 0);
        self.f_av.iter_mut().for_each(|x| *x = 0.0);
        self.y.iter_mut().for_each(|x| *x = 0.0);
        self.pre.iter_mut().for_each(|p| *p = Pre::reset(g));
        self.ebar.par_iter_mut().for_each(|x| *x = 0.0);
        self.ebar_reg.par_iter_mut().for_each(|x| *x = 0.0);
        self.eps.par_iter_mut().for_each(|x| *x = 0.0);
    }

    /// Discard accumulated (not yet applied) gradients.
    fn clear_grad(&mut self) {
        self.grad.par_iter_mut().for_each(|x| *x = 0.0);
        self.grad_out.iter_mut().for_each(|x| *x = 0.0);
    }

    /// Oldest archive entry some open window still needs.
    fn oldest_needed(&self) -> i64 {
        let cutoff = self.cfg.cutoff.min(i64::MAX as usize / 4) as i64;
        self.pre
            .iter()
            .filter(|p| p.last != NONE && p.trace_at < p.last.saturating_add(cutoff - 1))
            .map(|p| p.trace_at)
            .min()
            .unwrap_or(self.g)
    }

    /// Make room in the ring for entry `self.g` (grow when a window needs more).
    fn ensure_width(&mut self) {
        let oldest = if self.cfg.event_driven {
            self.oldest_needed().min(self.g - 1)
        } else {
            self.g - 1
        };
        let need = (self.g - oldest + 1).max(2) as usize;
        if need > self.width {
            let old_w = self.width;
            let new_w = need.max(2 * old_w);
            let regrow = |v: &Vec<f32>, n: usize| -> Vec<f32> {
                let mut out = vec![0.0f32; n * new_w];
                for i in 0..n {
                    for m in oldest.max(self.g - old_w as i64)..self.g {
                        out[i * new_w + slot(m, new_w)] = v[i * old_w + slot(m, old_w)];
                    }
                }
                out
            };
            let n_rec = self.cfg.n_rec;
            self.psi = regrow(&self.psi, n_rec);
            self.lsig = regrow(&self.lsig, n_rec);
            self.reg = regrow(&self.reg, n_rec);
            self.err = regrow(&self.err, self.cfg.n_out);
            self.width = new_w;
        }
        self.stats.peak_archive_steps = self.stats.peak_archive_steps.max(need as u64);
    }

    /// Rows (all, or those with `take[p]`) as mutable views.
    fn rows(&mut self, take: &[bool]) -> Vec<Row<'_>> {
        let n_in = self.cfg.n_in;
        let n_out = self.cfg.n_out;
        let sel: Vec<usize> = (0..take.len()).filter(|&p| take[p]).collect();
        let indptr = self.syn.indptr().to_vec();
        let out_bounds = |p: usize| p.saturating_sub(n_in) * n_out;
        let ob: Vec<usize> = {
            let mut v = vec![0usize; take.len() + 1];
            for &p in &sel {
                v[p] = out_bounds(p);
                v[p + 1] = out_bounds(p + 1);
            }
            v
        };
        let ebar = segments(&mut self.ebar, &indptr, &sel);
        let ebar_reg = segments(&mut self.ebar_reg, &indptr, &sel);
        let eps = segments(&mut self.eps, &indptr, &sel);
        let grad = segments(&mut self.grad, &indptr, &sel);
        let m1 = segments(&mut self.m1, &indptr, &sel);
        let m2 = segments(&mut self.m2, &indptr, &sel);
        let nsteps = segments(&mut self.nsteps, &indptr, &sel);
        let w_out = segments(&mut self.w_out, &ob, &sel);
        let grad_out = segments(&mut self.grad_out, &ob, &sel);
        let m1_out = segments(&mut self.m1_out, &ob, &sel);
        let m2_out = segments(&mut self.m2_out, &ob, &sel);
        let nsteps_out = segments(&mut self.nsteps_out, &ob, &sel);
        let pb: Vec<usize> = (0..=take.len()).collect();
        let pre = segments(&mut self.pre, &pb, &sel);
        let syn_rows = self.syn.rows_mut().unwrap_or_default();
        let mut out = Vec::with_capacity(pre.len());
        let mut it = (
            ebar.into_iter(),
            ebar_reg.into_iter(),
            eps.into_iter(),
            grad.into_iter(),
            m1.into_iter(),
            m2.into_iter(),
            nsteps.into_iter(),
        );
        let mut it2 = (
            w_out.into_iter(),
            grad_out.into_iter(),
            m1_out.into_iter(),
            m2_out.into_iter(),
            nsteps_out.into_iter(),
            pre.into_iter(),
        );
        for (p, (post, w)) in syn_rows.into_iter().enumerate() {
            if !take[p] {
                continue;
            }
            let (Some(ebar), Some(ebar_reg), Some(eps), Some(grad), Some(m1), Some(m2)) = (
                it.0.next(),
                it.1.next(),
                it.2.next(),
                it.3.next(),
                it.4.next(),
                it.5.next(),
            ) else {
                break;
            };
            let (Some(nsteps), Some(w_out), Some(grad_out), Some(m1_out), Some(m2_out)) = (
                it.6.next(),
                it2.0.next(),
                it2.1.next(),
                it2.2.next(),
                it2.3.next(),
            ) else {
                break;
            };
            let (Some(nsteps_out), Some(pre)) = (it2.4.next(), it2.5.next()) else {
                break;
            };
            out.push(Row {
                p,
                post,
                w,
                ebar,
                ebar_reg,
                eps,
                grad,
                m1,
                m2,
                nsteps,
                w_out,
                grad_out,
                m1_out,
                m2_out,
                nsteps_out,
                pre: &mut pre[0],
            });
        }
        out
    }

    /// Integrate (to `upto`) and optionally optimize the selected rows in
    /// parallel; `upto_of(pre)` gives the row's target entry.
    fn process_rows(
        &mut self,
        take: &[bool],
        upto_of: &(dyn Fn(&Pre) -> i64 + Sync),
        optimize: Option<f64>,
        opt_only_if_prev: bool,
    ) {
        if !take.iter().any(|&t| t) {
            return;
        }
        let cfg = &self.cfg;
        let opt = Opt {
            kind: cfg.optimizer,
            eta: cfg.eta,
            w_min: cfg.w_min,
            w_max: cfg.w_max,
        };
        let cutoff = cfg.cutoff.min(i64::MAX as usize / 4) as i64;
        let (alpha, c_z) = (self.alpha, self.c_in);
        let (kappa, c_e, kappa_reg, rho) = (cfg.kappa, self.c_e, cfg.kappa_reg, self.rho);
        let (beta, kout, adaptive) = (cfg.adapt_beta, self.kout, cfg.adapt_beta > 0.0);
        let (n_in, n_out, width) = (cfg.n_in, cfg.n_out, self.width);
        let psi = std::mem::take(&mut self.psi);
        let lsig = std::mem::take(&mut self.lsig);
        let reg_a = std::mem::take(&mut self.reg);
        let err = std::mem::take(&mut self.err);
        let sign = std::mem::take(&mut self.sign);
        #[allow(clippy::type_complexity)]
        let results: Vec<(u64, [(u64, f64); 2], u64)> = {
            let ctx = Ctx {
                alpha,
                c_z,
                kappa,
                c_e,
                kappa_reg,
                rho,
                beta,
                kout,
                adaptive,
                cutoff,
                n_in,
                n_out,
                width,
                psi: &psi,
                lsig: &lsig,
                reg: &reg_a,
                err: &err,
            };
            let mut rows = self.rows(take);
            rows.par_chunks_mut(16)
                .map(|chunk| {
                    let mut zbuf = Vec::new();
                    let mut acc = (0u64, [(0u64, 0.0f64); 2], 0u64);
                    for row in chunk.iter_mut() {
                        let upto = upto_of(row.pre);
                        acc.0 += integrate(&ctx, row, upto, &mut zbuf);
                        if let Some(scale) = optimize {
                            if !opt_only_if_prev || row.pre.last != NONE {
                                let c = optimize_row(&opt, row, scale, sign[row.p]);
                                for q in 0..2 {
                                    acc.1[q].0 += c[q].0;
                                    acc.1[q].1 += c[q].1;
                                }
                                acc.2 += (row.w.len() + row.w_out.len()) as u64;
                            }
                        }
                    }
                    acc
                })
                .collect()
        };
        self.psi = psi;
        self.lsig = lsig;
        self.reg = reg_a;
        self.err = err;
        self.sign = sign;
        for (n, c, calls) in results {
            self.stats.trace_updates += n;
            self.stats.optimizer_calls += calls;
            self.syn.counters_mut().record(c[0].0, c[0].1);
            self.out_counters.record(c[1].0, c[1].1);
        }
    }

    /// Run sequences; learn when `learn` (optimizer every `batch_size`
    /// sequences unless it runs at every spike).
    pub fn run(
        &mut self,
        batch: &Batch<'_>,
        learn: bool,
        batch_size: usize,
        record_y: bool,
        record_raster: bool,
    ) -> Result<RunOutput> {
        let (n_in, n_rec, n_out) = (self.cfg.n_in, self.cfg.n_rec, self.cfg.n_out);
        let (s, t) = (batch.n_seq, batch.n_steps);
        let st = s
            .checked_mul(t)
            .ok_or_else(|| Error::Value("too many steps".into()))?;
        crate::error::check_len("x", batch.x.len(), st, n_in)?;
        crate::error::check_len("target", batch.target.len(), st, n_out)?;
        crate::error::check_len("mask", batch.mask.len(), s, t)?;
        if batch_size == 0 {
            return Err(Error::Value("batch_size must be >= 1".into()));
        }
        if batch.x.iter().any(|&v| v > 1) {
            return Err(Error::Value("x must hold 0/1 spikes".into()));
        }
        if batch
            .target
            .iter()
            .chain(batch.mask)
            .any(|v| !v.is_finite())
        {
            return Err(Error::Value("target and mask must be finite".into()));
        }
        let mut out = RunOutput {
            loss: Vec::with_capacity(s),
            y: if record_y {
                vec![0.0; st * n_out]
            } else {
                Vec::new()
            },
            raster: if record_raster {
                vec![0; st * n_rec]
            } else {
                Vec::new()
            },
        };
        let reset = self.cfg.reset_each_sequence;
        for q in 0..s {
            if reset {
                self.reset_state();
            }
            let mut loss = 0.0f64;
            for n in 0..t {
                let row = q * t + n;
                let x = &batch.x[row * n_in..(row + 1) * n_in];
                let target = &batch.target[row * n_out..(row + 1) * n_out];
                let mask = batch.mask[row] as f64;
                loss += self.step(x, target, mask, learn, reset && n == 0);
                if record_y {
                    for k in 0..n_out {
                        out.y[row * n_out + k] = self.y[k] as f32;
                    }
                }
                if record_raster {
                    out.raster[row * n_rec..(row + 1) * n_rec].copy_from_slice(&self.z);
                }
            }
            out.loss.push(loss);
            if learn {
                self.end_sequence(batch_size, q + 1 == s);
            }
        }
        Ok(out)
    }

    /// Close a sequence: integrate what is complete, apply the optimizer at
    /// batch ends.
    fn end_sequence(&mut self, batch_size: usize, last: bool) {
        self.sequences_in_batch += 1;
        let reset = self.cfg.reset_each_sequence;
        let at_spike = self.cfg.update_at_spike;
        let batch_end = self.sequences_in_batch >= batch_size || last;
        let all = vec![true; self.cfg.n_pre()];
        let g = self.g;
        if reset {
            // the last entry has L = 0 (no readout step follows): complete now
            self.process_rows(&all, &|_| g, None, false);
            if at_spike || batch_end {
                let scale = if at_spike {
                    1.0
                } else {
                    1.0 / self.sequences_in_batch as f64
                };
                self.process_rows(&all, &|_| g, Some(scale), false);
                self.sequences_in_batch = 0;
            }
        } else if !at_spike && batch_end {
            self.process_rows(&all, &|_| g - 1, None, false);
            let scale = 1.0 / self.sequences_in_batch as f64;
            self.process_rows(&all, &|_| g - 1, Some(scale), false);
            self.sequences_in_batch = 0;
        } else if at_spike {
            self.sequences_in_batch = 0;
        }
    }

    /// One time step; returns the loss contribution.
    fn step(&mut self, x: &[u8], target: &[f32], mask: f64, learn: bool, first: bool) -> f64 {
        let (n_in, n_rec, n_out) = (self.cfg.n_in, self.cfg.n_rec, self.cfg.n_out);
        let g = self.g;
        let cutoff = self.cfg.cutoff.min(i64::MAX as usize / 4) as i64;
        // 1. arrivals: inputs x(g) and recurrent z(g−1)
        let mut arriving = vec![false; n_in + n_rec];
        for i in 0..n_in {
            arriving[i] = x[i] != 0;
        }
        for j in 0..n_rec {
            arriving[n_in + j] = self.z[j] != 0;
        }
        if learn {
            let at_spike = self.cfg.update_at_spike;
            self.process_rows(
                &arriving,
                &|_| g - 1,
                if at_spike { Some(1.0) } else { None },
                true,
            );
            for p in 0..n_in + n_rec {
                if arriving[p] {
                    let pr = &mut self.pre[p];
                    if pr.last == NONE {
                        pr.trace_at = g - 1;
                    }
                    pr.before = pr.last;
                    pr.last = g;
                }
            }
            self.ensure_width();
        }
        // 2. readouts, error, learning signal of step g − 1
        for k in 0..n_out {
            self.y[k] *= self.kout;
        }
        for j in 0..n_rec {
            if self.z[j] != 0 {
                for k in 0..n_out {
                    self.y[k] += self.w_out[j * n_out + k] as f64;
                }
            }
        }
        let mut errv = vec![0.0f64; n_out];
        let mut loss = 0.0;
        match self.cfg.loss {
            Loss::MeanSquared => {
                for k in 0..n_out {
                    let e = self.y[k] - target[k] as f64;
                    errv[k] = e * mask;
                    loss += 0.5 * e * e * mask;
                }
            }
            Loss::CrossEntropy => {
                let mx = self.y.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let ex: Vec<f64> = self.y.iter().map(|&v| (v - mx).exp()).collect();
                let sum: f64 = ex.iter().sum();
                for k in 0..n_out {
                    let pk = ex[k] / sum;
                    errv[k] = (pk - target[k] as f64) * mask;
                    if target[k] > 0.0 {
                        loss -= target[k] as f64 * (pk.max(1e-30)).ln() * mask;
                    }
                }
            }
        }
        let w = self.width;
        if learn {
            let sg = slot(g, w);
            for k in 0..n_out {
                self.err[k * w + sg] = errv[k] as f32;
            }
            if !first && g >= 1 {
                let sp = slot(g - 1, w);
                let fb = if self.cfg.symmetric_feedback {
                    &self.w_out
                } else {
                    &self.feedback
                };
                let lsig = &mut self.lsig;
                lsig.par_chunks_mut(w)
                    .zip(fb.par_chunks(n_out))
                    .for_each(|(lj, bj)| {
                        let mut l = 0.0f64;
                        for k in 0..n_out {
                            l += bj[k] as f64 * errv[k];
                        }
                        lj[sp] = l as f32;
                    });
            }
            // 3. integrate entry g − 1 (time-driven) or close cutoff windows (event)
            if self.cfg.event_driven {
                let due: Vec<bool> = self
                    .pre
                    .iter()
                    .map(|p| {
                        p.last != NONE
                            && p.last.saturating_add(cutoff - 1) <= g
                            && p.trace_at < p.last.saturating_add(cutoff - 1)
                    })
                    .collect();
                self.process_rows(&due, &|_| g, None, false);
            } else {
                let all = vec![true; n_in + n_rec];
                self.process_rows(&all, &|_| g, None, false);
            }
        }
        // 4. recurrent neurons
        let mut input = vec![0.0f64; n_rec];
        {
            let indptr = self.syn.indptr();
            let idx = self.syn.indices();
            let ws = self.syn.weights().unwrap_or(&[]);
            let mut events = 0u64;
            for p in 0..n_in + n_rec {
                if arriving[p] {
                    for s in indptr[p]..indptr[p + 1] {
                        input[idx[s] as usize] += ws[s] as f64;
                    }
                    events += (indptr[p + 1] - indptr[p]) as u64;
                }
            }
            self.stats.events += events;
        }
        let cfg = &self.cfg;
        let (alpha, rho, c_in) = (self.alpha, self.rho, self.c_in);
        let nest = cfg.nest_compatible;
        let sg = slot(g, w);
        let chunks = n_rec.div_ceil(CHUNK);
        let zs = &mut self.z;
        let v = &mut self.v;
        let a = &mut self.a;
        let refr = &mut self.refr;
        let f_av = &mut self.f_av;
        let (psi_a, reg_a) = (&mut self.psi, &mut self.reg);
        let lsig_a = &mut self.lsig;
        let spikes: u64 = (0..chunks)
            .into_par_iter()
            .zip(zs.par_chunks_mut(CHUNK))
            .zip(v.par_chunks_mut(CHUNK))
            .zip(a.par_chunks_mut(CHUNK))
            .zip(refr.par_chunks_mut(CHUNK))
            .zip(f_av.par_chunks_mut(CHUNK))
            .zip(psi_a.par_chunks_mut(CHUNK * w))
            .zip(reg_a.par_chunks_mut(CHUNK * w))
            .zip(lsig_a.par_chunks_mut(CHUNK * w))
            .map(|((((((((c, z), v), a), r), f), ps), rg), ls)| {
                let mut count = 0u64;
                for i in 0..z.len() {
                    let j = c * CHUNK + i;
                    let zp = z[i] as f64;
                    if cfg.adapt_beta > 0.0 {
                        a[i] = rho * a[i] + zp;
                    }
                    let thr = cfg.v_th + cfg.adapt_beta * a[i];
                    // NEST resets in the step of the spike, the paper in the next one
                    let reset = if nest { 0.0 } else { cfg.v_th * zp };
                    let mut vv = alpha * v[i] + c_in * input[j] - reset;
                    vv = vv.max(cfg.v_min);
                    let psi = if r[i] > 0 {
                        0.0
                    } else {
                        cfg.surrogate
                            .eval(vv - thr, cfg.surrogate_height, cfg.surrogate_width)
                    };
                    let spike = vv >= thr && r[i] == 0;
                    if spike {
                        count += 1;
                        r[i] = cfg.t_ref as u32;
                    }
                    z[i] = spike as u8;
                    v[i] = if spike && nest {
                        (vv - cfg.v_th).max(cfg.v_min)
                    } else {
                        vv
                    };
                    if r[i] > 0 {
                        r[i] -= 1;
                    }
                    let zn = if spike { 1.0 } else { 0.0 };
                    f[i] = cfg.kappa_reg * f[i] + (1.0 - cfg.kappa_reg) * zn / cfg.dt;
                    if learn {
                        ps[i * w + sg] = psi as f32;
                        rg[i * w + sg] = (cfg.c_reg * (f[i] - cfg.f_target * cfg.dt)) as f32;
                        ls[i * w + sg] = 0.0;
                    }
                }
                count
            })
            .sum();
        self.stats.spikes += spikes;
        self.stats.steps += 1;
        self.g += 1;
        loss
    }

    /// Set all input/recurrent weights (same order as the synapse matrix).
    pub fn set_weights(&mut self, w: &[f32], w_out: &[f32]) -> Result<()> {
        if w_out.len() != self.w_out.len() {
            return Err(Error::Shape(format!(
                "w_out needs {} values, got {}",
                self.w_out.len(),
                w_out.len()
            )));
        }
        if w.iter().chain(w_out).any(|x| !x.is_finite()) {
            return Err(Error::Value("weights must be finite".into()));
        }
        self.syn.set_weights(w)?;
        self.w_out.copy_from_slice(w_out);
        self.clear_grad();
        Ok(())
    }
}
