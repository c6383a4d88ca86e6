//! Eligibility traces: each synapse integrates its traces over the archive
//! entries since its presynaptic neuron's previous spike (up to a cutoff),
//! accumulating the gradient `Σ_t L_j(t) ē_ji(t)` (plus the firing-rate
//! regularisation term); readout synapses accumulate `Σ_t err_k(t) z̄_j(t)`.

use super::archive::slot;
use super::lanes::{lif_blocks, Lif};
use super::network::Network;
use super::optimizer::{optimize_row, Opt};
use rayon::prelude::*;

/// "No spike yet".
pub(super) const NONE: i64 = i64::MIN / 4;

/// Storage type of per-synapse traces and gradients.
pub(super) type Tr = f64;

/// Per-presynaptic-neuron state of the event-driven scheme.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Pre {
    /// Step of the last spike arrival (`NONE`: none yet).
    pub last: i64,
    /// Step of the arrival before `last`.
    pub before: i64,
    /// Traces of the outgoing synapses are integrated up to (excluding) this entry.
    pub trace_at: i64,
    /// Presynaptic trace `z̄` after entry `trace_at − 1` (recurrent filter).
    pub zbar: f64,
    /// Presynaptic trace for the readout filter.
    pub zbar_out: f64,
}

impl Pre {
    pub fn reset(at: i64) -> Self {
        Pre {
            last: NONE,
            before: NONE,
            trace_at: at,
            zbar: 0.0,
            zbar_out: 0.0,
        }
    }
}

/// Mutable view of one presynaptic row: its synapses and their learning state.
pub(super) struct Row<'a> {
    pub p: usize,
    pub post: &'a [u32],
    pub w: &'a mut [f32],
    pub ebar: &'a mut [Tr],
    pub ebar_reg: &'a mut [Tr],
    pub eps: &'a mut [Tr],
    pub grad: &'a mut [Tr],
    pub m1: &'a mut [f32],
    pub m2: &'a mut [f32],
    pub nsteps: &'a mut [u32],
    /// Readout synapses of a recurrent presynaptic neuron (`n_out`, else empty).
    pub w_out: &'a mut [f32],
    pub grad_out: &'a mut [Tr],
    pub m1_out: &'a mut [f32],
    pub m2_out: &'a mut [f32],
    pub nsteps_out: &'a mut [u32],
    pub pre: &'a mut Pre,
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
    /// Count the readout's integrations and optimizer calls in the stats
    /// (every partition does the readout's work; only the one holding
    /// neuron 0 counts it, so the partitions' counts add up to the whole's).
    counts_readout: bool,
    width: usize,
    psi: &'a [f32],
    lsig: &'a [f32],
    reg: &'a [f32],
    err: &'a [f32],
    psi_t: &'a [f32],
    lsig_t: &'a [f32],
    reg_t: &'a [f32],
}

/// The entries one row integrates: `n` inside the cutoff window as (at
/// most) two contiguous runs of ring slots `(slot, zbuf offset, length)`,
/// then `tail` entries of pure decay.
pub(super) struct Window {
    pub n: usize,
    pub tail: i32,
    pub runs: [(usize, usize, usize); 2],
    /// Where the readout filter's `z̄` starts in `zbuf`.
    pub(super) zo_start: usize,
}

/// The presynaptic traces `z̄` over the window into `zbuf` (the readout
/// filter's after the recurrent one's, for recurrent rows); advances the
/// row's filters to `upto`.
fn presynaptic(ctx: &Ctx<'_>, row: &mut Row<'_>, upto: i64, zbuf: &mut Vec<f64>) -> Window {
    let pre = &mut *row.pre;
    let a = pre.trace_at;
    let b_inc = upto.min(pre.last.saturating_add(ctx.cutoff - 1)).max(a);
    let spike = |m: i64| m == pre.last || m == pre.before;
    zbuf.clear();
    let mut z = pre.zbar;
    let mut zo = pre.zbar_out;
    let mut zo_start = zbuf.len();
    for m in a..b_inc {
        z = ctx.alpha * z + if spike(m) { ctx.c_z } else { 0.0 };
        zbuf.push(z);
    }
    if row.p >= ctx.n_in {
        zo_start = zbuf.len();
        for m in a..b_inc {
            zo = ctx.kout * zo + if spike(m) { 1.0 } else { 0.0 };
            zbuf.push(zo);
        }
    }
    for m in b_inc..upto {
        z = ctx.alpha * z + if spike(m) { ctx.c_z } else { 0.0 };
        zo = ctx.kout * zo + if spike(m) { 1.0 } else { 0.0 };
    }
    pre.zbar = z;
    pre.zbar_out = zo;
    let n = (b_inc - a) as usize;
    let w = ctx.width;
    let sl0 = if n > 0 { slot(a, w) } else { 0 };
    let first = n.min(w - sl0);
    Window {
        n,
        tail: (upto - b_inc) as i32,
        runs: [(sl0, 0usize, first), (0usize, first, n - first)],
        zo_start,
    }
}

/// Synapse `s` of the row (any neuron model).
fn one_synapse(ctx: &Ctx<'_>, row: &mut Row<'_>, win: &Window, zbuf: &[f64], s: usize) {
    let (kappa, c_e, kreg) = (ctx.kappa, ctx.c_e, ctx.kappa_reg);
    let reg_on = !row.ebar_reg.is_empty();
    let base = row.post[s] as usize * ctx.width;
    let mut eb = row.ebar[s];
    let mut er = if reg_on { row.ebar_reg[s] } else { 0.0 };
    let mut ep = if ctx.adaptive { row.eps[s] } else { 0.0 };
    let mut g = row.grad[s];
    for &(sl, zoff, len) in &win.runs {
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
    if win.tail > 0 {
        eb *= ctx.kappa.powi(win.tail);
        er *= ctx.kappa_reg.powi(win.tail);
        ep *= ctx.rho.powi(win.tail);
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

/// Readout gradients `Σ err_k z̄_out` of a recurrent row.
fn readout_gradients(ctx: &Ctx<'_>, row: &mut Row<'_>, win: &Window, zbuf: &[f64]) {
    for k in 0..ctx.n_out {
        let base = k * ctx.width;
        let mut g = row.grad_out[k];
        for &(sl, zoff, len) in &win.runs {
            let es = &ctx.err[base + sl..base + sl + len];
            let zb = &zbuf[win.zo_start + zoff..win.zo_start + zoff + len];
            for (&e, &zv) in es.iter().zip(zb) {
                g += e as f64 * zv;
            }
        }
        row.grad_out[k] = g;
    }
}

/// Integrate the traces of one presynaptic row over the archive entries
/// `[trace_at, upto)`; entries beyond the cutoff only decay. Returns the
/// number of synapse-entry integrations.
fn integrate(ctx: &Ctx<'_>, row: &mut Row<'_>, upto: i64, zbuf: &mut Vec<f64>) -> u64 {
    if upto <= row.pre.trace_at {
        return 0;
    }
    if row.pre.last == NONE {
        row.pre.trace_at = upto;
        return 0;
    }
    let win = presynaptic(ctx, row, upto, zbuf);
    let n_syn = row.post.len();
    let lanes_done = if !ctx.adaptive && win.n > 0 {
        let lif = Lif {
            kappa: ctx.kappa,
            c_e: ctx.c_e,
            kappa_reg: ctx.kappa_reg,
            width: ctx.width,
            psi: ctx.psi,
            lsig: ctx.lsig,
            reg: ctx.reg,
            psi_t: ctx.psi_t,
            lsig_t: ctx.lsig_t,
            reg_t: ctx.reg_t,
        };
        lif_blocks(&lif, row, &win, zbuf)
    } else {
        0
    };
    for s in lanes_done..n_syn {
        one_synapse(ctx, row, &win, zbuf, s);
    }
    let recurrent = row.p >= ctx.n_in;
    if recurrent {
        readout_gradients(ctx, row, &win, zbuf);
    }
    row.pre.trace_at = upto;
    let n_out = if recurrent && ctx.counts_readout {
        ctx.n_out
    } else {
        0
    };
    (win.n * (n_syn + n_out)) as u64
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

/// What processing a chunk of rows did: trace integrations, `(writes,
/// Σ|Δw|)` of the input/recurrent and of the readout synapses, optimizer calls.
type RowTally = (u64, [(u64, f64); 2], u64);

/// Synapse-entry integrations below which a call runs on the calling
/// thread: waking a second thread costs more than it saves (measured on the
/// sine task, about 16,000 entries per step, where two threads were slower
/// than one).
const PARALLEL_MIN_ENTRIES: u64 = 200_000;

/// `v[lo..hi]`, or an empty slice when `v` is (an unused state array).
#[inline]
fn seg<T>(v: &mut [T], lo: usize, hi: usize) -> &mut [T] {
    if v.is_empty() {
        &mut []
    } else {
        &mut v[lo..hi]
    }
}

/// What one call of [`Network::process_rows`] does to each row.
struct Pass<'a> {
    ctx: Ctx<'a>,
    opt: Opt,
    sign: &'a [i8],
    upto_of: &'a (dyn Fn(&Pre) -> i64 + Sync),
    optimize: Option<f64>,
    opt_only_if_prev: bool,
}

impl Pass<'_> {
    /// Integrate (to `upto_of`) and optionally optimize one row; adds to the tally.
    #[inline]
    fn row(&self, row: &mut Row<'_>, zbuf: &mut Vec<f64>, acc: &mut RowTally) {
        let upto = (self.upto_of)(row.pre);
        acc.0 += integrate(&self.ctx, row, upto, zbuf);
        let Some(scale) = self.optimize else { return };
        if !self.opt_only_if_prev || row.pre.last != NONE {
            let c = optimize_row(&self.opt, row, scale, self.sign[row.p]);
            for q in 0..2 {
                acc.1[q].0 += c[q].0;
                acc.1[q].1 += c[q].1;
            }
            let n_out = if self.ctx.counts_readout {
                row.w_out.len()
            } else {
                0
            };
            acc.2 += (row.w.len() + n_out) as u64;
        }
    }
}

/// Rows per tally: counters are summed per group of this many selected rows,
/// then the groups in order, whatever runs them.
const GROUP: usize = 16;

impl Network {
    /// The selected rows (sorted) as mutable views.
    fn rows(&mut self, sel: &[usize]) -> Vec<Row<'_>> {
        let (n_in, n_out, n_pre) = (self.cfg.n_in, self.cfg.n_out, self.cfg.n_pre());
        let indptr = self.syn.indptr().to_vec();
        // Readout synapses: rows of recurrent presynaptic neurons only.
        let out_bounds = |p: usize| p.saturating_sub(n_in) * n_out;
        let mut ob = vec![0usize; n_pre + 1];
        for &p in sel {
            ob[p] = out_bounds(p);
            ob[p + 1] = out_bounds(p + 1);
        }
        let pb: Vec<usize> = (0..=n_pre).collect();
        let mut ebar = segments(&mut self.ebar, &indptr, sel).into_iter();
        let mut ebar_reg = segments(&mut self.ebar_reg, &indptr, sel).into_iter();
        let mut eps = segments(&mut self.eps, &indptr, sel).into_iter();
        let mut grad = segments(&mut self.grad, &indptr, sel).into_iter();
        let mut m1 = segments(&mut self.m1, &indptr, sel).into_iter();
        let mut m2 = segments(&mut self.m2, &indptr, sel).into_iter();
        let mut nsteps = segments(&mut self.nsteps, &indptr, sel).into_iter();
        let mut w_out = segments(&mut self.w_out, &ob, sel).into_iter();
        let mut grad_out = segments(&mut self.grad_out, &ob, sel).into_iter();
        let mut m1_out = segments(&mut self.m1_out, &ob, sel).into_iter();
        let mut m2_out = segments(&mut self.m2_out, &ob, sel).into_iter();
        let mut nsteps_out = segments(&mut self.nsteps_out, &ob, sel).into_iter();
        let mut pre = segments(&mut self.pre, &pb, sel).into_iter();
        let syn_rows = self.syn.rows_mut().unwrap_or_default();
        let mut out = Vec::with_capacity(sel.len());
        let mut want = sel.iter().peekable();
        macro_rules! next {
            ($it:ident) => {
                match $it.next() {
                    Some(v) => v,
                    None => break,
                }
            };
        }
        for (p, (post, w)) in syn_rows.into_iter().enumerate() {
            if want.peek() != Some(&&p) {
                continue;
            }
            want.next();
            out.push(Row {
                p,
                post,
                w,
                ebar: next!(ebar),
                ebar_reg: next!(ebar_reg),
                eps: next!(eps),
                grad: next!(grad),
                m1: next!(m1),
                m2: next!(m2),
                nsteps: next!(nsteps),
                w_out: next!(w_out),
                grad_out: next!(grad_out),
                m1_out: next!(m1_out),
                m2_out: next!(m2_out),
                nsteps_out: next!(nsteps_out),
                pre: &mut next!(pre)[0],
            });
        }
        out
    }

    /// Synapse-entry integrations a call on `sel` will do (an upper bound).
    fn entries(&self, sel: &[usize], upto_of: &(dyn Fn(&Pre) -> i64 + Sync)) -> u64 {
        let cutoff = self.cfg.cutoff_steps();
        let indptr = self.syn.indptr();
        sel.iter()
            .map(|&p| {
                let pr = &self.pre[p];
                let n = (upto_of(pr) - pr.trace_at).clamp(0, cutoff) as u64 + 1;
                n * (indptr[p + 1] - indptr[p]) as u64
            })
            .sum()
    }

    /// Integrate (to `upto_of(pre)`) and optionally optimize the rows `sel`
    /// (sorted); `optimize` is the gradient scale, applied only to rows that
    /// spiked before when `opt_only_if_prev`. Large calls run in parallel,
    /// small ones on the calling thread, with the same result.
    pub(super) fn process_rows(
        &mut self,
        sel: &[usize],
        upto_of: &(dyn Fn(&Pre) -> i64 + Sync),
        optimize: Option<f64>,
        opt_only_if_prev: bool,
    ) {
        if sel.is_empty() {
            return;
        }
        let parallel =
            rayon::current_num_threads() > 1 && self.entries(sel, upto_of) >= PARALLEL_MIN_ENTRIES;
        let cfg = &self.cfg;
        let archive = std::mem::take(&mut self.archive);
        let sign = std::mem::take(&mut self.sign);
        let ctx = Ctx {
            alpha: self.alpha,
            c_z: self.c_in,
            kappa: cfg.kappa,
            c_e: self.c_e,
            kappa_reg: cfg.kappa_reg,
            rho: self.rho,
            beta: cfg.adapt_beta,
            kout: self.kout,
            adaptive: cfg.adapt_beta > 0.0,
            cutoff: cfg.cutoff_steps(),
            n_in: cfg.n_in,
            n_out: cfg.n_out,
            counts_readout: self.first == 0,
            width: archive.width,
            psi: &archive.psi,
            lsig: &archive.lsig,
            reg: &archive.reg,
            err: &archive.err,
            psi_t: &archive.psi_t,
            lsig_t: &archive.lsig_t,
            reg_t: &archive.reg_t,
        };
        let pass = Pass {
            ctx,
            opt: Opt::of(cfg),
            sign: &sign,
            upto_of,
            optimize,
            opt_only_if_prev,
        };
        let results: Vec<RowTally> = if parallel {
            let mut rows = self.rows(sel);
            rows.par_chunks_mut(GROUP)
                .map(|chunk| {
                    let mut zbuf = Vec::new();
                    let mut acc: RowTally = (0, [(0, 0.0); 2], 0);
                    for row in chunk.iter_mut() {
                        pass.row(row, &mut zbuf, &mut acc);
                    }
                    acc
                })
                .collect()
        } else {
            let (n_in, n_out) = (cfg.n_in, cfg.n_out);
            let ob = |p: usize| p.saturating_sub(n_in) * n_out;
            let Network {
                ref mut syn,
                ref mut ebar,
                ref mut ebar_reg,
                ref mut eps,
                ref mut grad,
                ref mut m1,
                ref mut m2,
                ref mut nsteps,
                ref mut w_out,
                ref mut grad_out,
                ref mut m1_out,
                ref mut m2_out,
                ref mut nsteps_out,
                ref mut pre,
                ref mut zbuf,
                ..
            } = *self;
            let (indptr, indices, weights) = syn.parts_mut();
            let weights = weights.unwrap_or_default();
            let mut out = Vec::with_capacity(sel.len().div_ceil(GROUP));
            for group in sel.chunks(GROUP) {
                let mut acc: RowTally = (0, [(0, 0.0); 2], 0);
                for &p in group {
                    let (lo, hi) = (indptr[p], indptr[p + 1]);
                    let (olo, ohi) = (ob(p), ob(p + 1));
                    let mut row = Row {
                        p,
                        post: &indices[lo..hi],
                        w: seg(weights, lo, hi),
                        ebar: seg(ebar, lo, hi),
                        ebar_reg: seg(ebar_reg, lo, hi),
                        eps: seg(eps, lo, hi),
                        grad: seg(grad, lo, hi),
                        m1: seg(m1, lo, hi),
                        m2: seg(m2, lo, hi),
                        nsteps: seg(nsteps, lo, hi),
                        w_out: seg(w_out, olo, ohi),
                        grad_out: seg(grad_out, olo, ohi),
                        m1_out: seg(m1_out, olo, ohi),
                        m2_out: seg(m2_out, olo, ohi),
                        nsteps_out: seg(nsteps_out, olo, ohi),
                        pre: &mut pre[p],
                    };
                    pass.row(&mut row, zbuf, &mut acc);
                }
                out.push(acc);
            }
            out
        };
        self.archive = archive;
        self.sign = sign;
        for (n, c, calls) in results {
            self.stats.trace_updates += n;
            self.stats.optimizer_calls += calls;
            self.syn.counters_mut().record(c[0].0, c[0].1);
            self.out_counters.record(c[1].0, c[1].1);
        }
    }
}
