//! Eligibility traces: each synapse integrates its traces over the archive
//! entries since its presynaptic neuron's previous spike (up to a cutoff),
//! accumulating the gradient `Σ_t L_j(t) ē_ji(t)` (plus the firing-rate
//! regularisation term); readout synapses accumulate `Σ_t err_k(t) z̄_j(t)`.

use super::archive::slot;
use super::lanes::{lif_blocks, Lif};
use super::network::Network;
use super::optimizer::{optimize_deltas, optimize_readout, optimize_row, tally, Opt};
use crate::synapses::SynapseMatrix;
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
    integrate_synapses(ctx, row, &win, zbuf);
    finish_row(ctx, row, upto, &win, zbuf, n_syn)
}

/// The synapses of `row` (a whole row or a run of its synapses) over the
/// window `win`: every synapse on its own, so any split of a row into runs
/// gives the same bits.
fn integrate_synapses(ctx: &Ctx<'_>, row: &mut Row<'_>, win: &Window, zbuf: &[f64]) {
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
        lif_blocks(&lif, row, win, zbuf)
    } else {
        0
    };
    for s in lanes_done..n_syn {
        one_synapse(ctx, row, win, zbuf, s);
    }
}

/// After a row's `n_syn` synapses integrated the window: the readout
/// gradients of a recurrent row, the row's trace position; returns the
/// number of synapse-entry integrations.
fn finish_row(
    ctx: &Ctx<'_>,
    row: &mut Row<'_>,
    upto: i64,
    win: &Window,
    zbuf: &[f64],
    n_syn: usize,
) -> u64 {
    let recurrent = row.p >= ctx.n_in;
    if recurrent {
        readout_gradients(ctx, row, win, zbuf);
    }
    row.pre.trace_at = upto;
    let n_out = if recurrent && ctx.counts_readout {
        ctx.n_out
    } else {
        0
    };
    (win.n * (n_syn + n_out)) as u64
}

/// Split `v` into the segments `[bounds(p), bounds(p + 1))` of the sorted
/// rows `sel` (an empty `v` gives empty segments). Cost: O(|sel|).
fn segments<'a, T>(
    v: &'a mut [T],
    bounds: impl Fn(usize) -> usize,
    sel: &[usize],
) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(sel.len());
    if v.is_empty() {
        out.resize_with(sel.len(), <&mut [T]>::default);
        return out;
    }
    let mut rest = v;
    let mut pos = 0usize;
    for &p in sel {
        let (lo, hi) = (bounds(p), bounds(p + 1));
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

/// Least synapse-entry integrations (an upper bound of them) of a parallel
/// task: a call of less than twice this runs on the calling thread, where
/// waking a second thread costs more than it saves. Measured on the sine
/// task (`THREAD_RATIOS=6 EPROP_SIZES=1000,3000,10000 cargo bench --bench
/// memory`): with 1,000 neurons (calls of 80,000-430,000 entries) a
/// threshold of 200,000 split a fifth of the calls and two threads were
/// 0.93-0.98x of one, 50,000 gave 0.81x; at 500,000 they run serially
/// (0.99-1.01x) while the 10,000-neuron calls (median 1.5 million) split.
const ENTRY_SPLIT: crate::parallel::Split = crate::parallel::Split::new(250_000);

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
    /// The rows on all threads, in tasks of about equal `work` (one per
    /// row): runs of whole rows, and runs of the synapses of a row heavier
    /// than a task. Every row and every synapse is computed as on one
    /// thread; returns each row's tally.
    fn parallel(&self, rows: &mut [Row<'_>], work: &[u64]) -> Vec<RowTally> {
        let total: u64 = work.iter().sum();
        let threads = rayon::current_num_threads() as u64;
        let target = (total / (threads * TASKS_PER_THREAD)).max(1);
        let mut per_row = vec![(0, [(0, 0.0); 2], 0); rows.len()];
        // Rows heavier than two tasks: their window first (on this thread).
        let mut split: Vec<SplitRow> = Vec::new();
        for (index, row) in rows.iter_mut().enumerate() {
            let n_syn = row.post.len();
            if work[index] < 2 * target || n_syn < 2 * RUN_ALIGN {
                continue;
            }
            let upto = (self.upto_of)(row.pre);
            if upto <= row.pre.trace_at || row.pre.last == NONE {
                continue; // nothing to integrate: done whole
            }
            let mut zbuf = Vec::new();
            let win = presynaptic(&self.ctx, row, upto, &mut zbuf);
            let optimize =
                self.optimize.is_some() && (!self.opt_only_if_prev || row.pre.last != NONE);
            split.push(SplitRow {
                index,
                upto,
                win,
                zbuf,
                n_syn,
                optimize,
                deltas: if optimize {
                    vec![0.0; n_syn]
                } else {
                    Vec::new()
                },
            });
        }
        let runs: usize = split
            .iter()
            .map(|s| (work[s.index] / target).max(1) as usize)
            .sum();
        let mut spare = vec![Pre::reset(0); runs];
        let mut spare = spare.iter_mut();
        let mut tasks: Vec<Task<'_, '_>> = Vec::new();
        let mut wins: Vec<(&Window, &[f64])> = Vec::new();
        let mut rest = &mut *rows;
        let mut done = 0usize;
        let mut next_split = split.iter_mut().peekable();
        while !rest.is_empty() {
            if let Some(sr) = next_split.next_if(|s| s.index == done) {
                let (row, tail) = std::mem::take(&mut rest).split_first_mut().expect("a row");
                rest = tail;
                let n = (work[sr.index] / target).max(1) as usize;
                let per = sr.n_syn.div_ceil(n).next_multiple_of(RUN_ALIGN);
                let mut deltas = &mut sr.deltas[..];
                let mut left = sr.n_syn;
                while left > 0 {
                    let k = per.min(left);
                    left -= k;
                    let run = take_run(row, k, spare.next().expect("a spare"));
                    let d = if sr.optimize {
                        let (head, tail) = std::mem::take(&mut deltas).split_at_mut(k);
                        deltas = tail;
                        head
                    } else {
                        &mut []
                    };
                    tasks.push(Task::Run(wins.len(), run, d));
                }
                wins.push((&sr.win, &sr.zbuf));
                done += 1;
                continue;
            }
            // Whole rows up to the next split row or about one task's work.
            let stop = next_split.peek().map_or(done + rest.len(), |s| s.index);
            let mut end = done;
            let mut w = 0u64;
            while end < stop && (end == done || w < target) {
                w += work[end];
                end += 1;
            }
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(end - done);
            rest = tail;
            tasks.push(Task::Rows(done, head));
            done = end;
        }
        let results: Vec<Vec<(usize, RowTally)>> = tasks
            .into_par_iter()
            .map(|task| match task {
                Task::Rows(first, rows) => {
                    let mut zbuf = Vec::new();
                    rows.iter_mut()
                        .enumerate()
                        .map(|(i, row)| {
                            let mut acc: RowTally = (0, [(0, 0.0); 2], 0);
                            self.row(row, &mut zbuf, &mut acc);
                            (first + i, acc)
                        })
                        .collect()
                }
                Task::Run(w, mut run, d) => {
                    let (win, zbuf) = wins[w];
                    integrate_synapses(&self.ctx, &mut run, win, zbuf);
                    if !d.is_empty() {
                        let scale = self.optimize.expect("optimizing");
                        let sign = self.sign[run.p];
                        optimize_deltas(&self.opt, &mut run, scale, sign, d);
                    }
                    Vec::new()
                }
            })
            .collect();
        for (i, t) in results.into_iter().flatten() {
            per_row[i] = t;
        }
        // The split rows' readout synapses and counts, as `row` does them.
        for sr in &split {
            let row = &mut rows[sr.index];
            let acc = &mut per_row[sr.index];
            acc.0 += finish_row(&self.ctx, row, sr.upto, &sr.win, &sr.zbuf, sr.n_syn);
            if sr.optimize {
                let scale = self.optimize.expect("optimizing");
                let c = [tally(&sr.deltas), optimize_readout(&self.opt, row, scale)];
                let n_out = if self.ctx.counts_readout {
                    row.w_out.len()
                } else {
                    0
                };
                add(acc, &(0, c, (sr.n_syn + n_out) as u64));
            }
        }
        per_row
    }

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

/// Add one row's tally to a group's (as [`Pass::row`] adds to it).
fn add(acc: &mut RowTally, r: &RowTally) {
    acc.0 += r.0;
    for q in 0..2 {
        acc.1[q].0 += r.1[q].0;
        acc.1[q].1 += r.1[q].1;
    }
    acc.2 += r.2;
}

/// Parallel tasks per thread of a parallel call (rayon balances them).
const TASKS_PER_THREAD: u64 = 4;

/// Synapses per run of a split row: whole blocks of the lane kernels.
const RUN_ALIGN: usize = 16;

/// A row split into runs of synapses: its window, done once.
struct SplitRow {
    /// Position in the selection.
    index: usize,
    upto: i64,
    win: Window,
    zbuf: Vec<f64>,
    n_syn: usize,
    optimize: bool,
    /// Each synapse's `|Δw|` when optimizing.
    deltas: Vec<f64>,
}

/// One parallel task: whole rows, or a run of a split row's synapses (a
/// call has a few of them, so the runs are kept unboxed).
#[allow(clippy::large_enum_variant)]
enum Task<'r, 'a> {
    Rows(usize, &'r mut [Row<'a>]),
    Run(usize, Row<'r>, &'r mut [f64]),
}

/// The first `k` synapses of `row` as a row of their own (with `pre` in
/// place of the row's; no readout synapses), leaving the rest in `row`.
fn take_run<'a: 'b, 'b>(row: &mut Row<'a>, k: usize, pre: &'b mut Pre) -> Row<'b> {
    fn cut<'a, T>(v: &mut &'a mut [T], k: usize) -> &'a mut [T] {
        if v.is_empty() {
            return &mut [];
        }
        let (head, tail) = std::mem::take(v).split_at_mut(k);
        *v = tail;
        head
    }
    let (post, rest) = row.post.split_at(k);
    row.post = rest;
    Row {
        p: row.p,
        post,
        w: cut(&mut row.w, k),
        ebar: cut(&mut row.ebar, k),
        ebar_reg: cut(&mut row.ebar_reg, k),
        eps: cut(&mut row.eps, k),
        grad: cut(&mut row.grad, k),
        m1: cut(&mut row.m1, k),
        m2: cut(&mut row.m2, k),
        nsteps: cut(&mut row.nsteps, k),
        w_out: &mut [],
        grad_out: &mut [],
        m1_out: &mut [],
        m2_out: &mut [],
        nsteps_out: &mut [],
        pre,
    }
}

impl Network {
    /// The selected rows (sorted) as mutable views.
    fn rows(&mut self, sel: &[usize]) -> Vec<Row<'_>> {
        let (n_in, n_out) = (self.cfg.n_in, self.cfg.n_out);
        // Only the selected rows are visited (no pass over all rows: a
        // step's call touches a few of 10,000 or more).
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
            ..
        } = *self;
        let (indptr, indices, weights) = syn.parts_mut();
        let Some(weights) = weights else {
            return Vec::new();
        };
        let ib = |p: usize| indptr[p];
        // Readout synapses: rows of recurrent presynaptic neurons only.
        let ob = |p: usize| p.saturating_sub(n_in) * n_out;
        let mut w = segments(weights, ib, sel).into_iter();
        let mut ebar = segments(ebar, ib, sel).into_iter();
        let mut ebar_reg = segments(ebar_reg, ib, sel).into_iter();
        let mut eps = segments(eps, ib, sel).into_iter();
        let mut grad = segments(grad, ib, sel).into_iter();
        let mut m1 = segments(m1, ib, sel).into_iter();
        let mut m2 = segments(m2, ib, sel).into_iter();
        let mut nsteps = segments(nsteps, ib, sel).into_iter();
        let mut w_out = segments(w_out, ob, sel).into_iter();
        let mut grad_out = segments(grad_out, ob, sel).into_iter();
        let mut m1_out = segments(m1_out, ob, sel).into_iter();
        let mut m2_out = segments(m2_out, ob, sel).into_iter();
        let mut nsteps_out = segments(nsteps_out, ob, sel).into_iter();
        let mut pre = segments(pre, |p| p, sel).into_iter();
        let mut out = Vec::with_capacity(sel.len());
        macro_rules! next {
            ($it:ident) => {
                match $it.next() {
                    Some(v) => v,
                    None => break,
                }
            };
        }
        for &p in sel {
            out.push(Row {
                p,
                post: &indices[indptr[p]..indptr[p + 1]],
                w: next!(w),
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
        sel.iter().map(|&p| self.row_entries(p, upto_of)).sum()
    }

    /// Synapse-entry integrations of row `p` (an upper bound).
    fn row_entries(&self, p: usize, upto_of: &(dyn Fn(&Pre) -> i64 + Sync)) -> u64 {
        let pr = &self.pre[p];
        let n = (upto_of(pr) - pr.trace_at).clamp(0, self.cfg.cutoff_steps()) as u64 + 1;
        n * self.row_len(p)
    }

    /// Synapses of row `p`.
    fn row_len(&self, p: usize) -> u64 {
        let indptr = self.syn.indptr();
        (indptr[p + 1] - indptr[p]) as u64
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
        self.process_rows_beside(sel, upto_of, optimize, opt_only_if_prev, false, |_| ());
    }

    /// [`Self::process_rows`], and `beside(synapses)`: when `overlap`, the
    /// rows run on the calling thread and only integrate (no optimizer:
    /// the weights do not change), `beside` runs meanwhile on another
    /// thread (a call too small to split still keeps a second thread
    /// busy); else after the rows. Either way the same result.
    pub(super) fn process_rows_beside<R: Send>(
        &mut self,
        sel: &[usize],
        upto_of: &(dyn Fn(&Pre) -> i64 + Sync),
        optimize: Option<f64>,
        opt_only_if_prev: bool,
        overlap: bool,
        beside: impl FnOnce(&SynapseMatrix) -> R + Send,
    ) -> R {
        if sel.is_empty() {
            return beside(&self.syn);
        }
        let entries = usize::try_from(self.entries(sel, upto_of)).unwrap_or(usize::MAX);
        let parallel = ENTRY_SPLIT.parallel(entries);
        let overlap = overlap && optimize.is_none() && !parallel;
        let mut beside = Some(beside);
        let mut beside_out = None;
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
            let work: Vec<u64> = sel
                .iter()
                .map(|&p| self.row_entries(p, upto_of) + optimize.map_or(0, |_| self.row_len(p)))
                .collect();
            let mut rows = self.rows(sel);
            let per_row = pass.parallel(&mut rows, &work);
            // Counters per group of GROUP rows, in order (the serial path's sums).
            per_row
                .chunks(GROUP)
                .map(|group| {
                    let mut acc: RowTally = (0, [(0, 0.0); 2], 0);
                    for r in group {
                        add(&mut acc, r);
                    }
                    acc
                })
                .collect()
        } else {
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
            // The rows only integrate when overlapping: no weight is read
            // or written, and `beside` may read them.
            type Parts<'s> = (
                &'s [usize],
                &'s [u32],
                &'s mut [f32],
                Option<&'s SynapseMatrix>,
            );
            let (indptr, indices, weights, shared): Parts<'_> = if overlap {
                let syn = &*syn;
                (syn.indptr(), syn.indices(), &mut [], Some(syn))
            } else {
                let (indptr, indices, weights) = syn.parts_mut();
                (indptr, indices, weights.unwrap_or_default(), None)
            };
            let state = RowState {
                n_in: cfg.n_in,
                n_out: cfg.n_out,
                indptr,
                indices,
                weights,
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
                pre,
                zbuf,
            };
            match shared {
                Some(syn) => {
                    let beside = beside.take().expect("not run yet");
                    let (out, r) = rayon::join(|| state.serial(&pass, sel), || beside(syn));
                    beside_out = Some(r);
                    out
                }
                None => state.serial(&pass, sel),
            }
        };
        self.archive = archive;
        self.sign = sign;
        for (n, c, calls) in results {
            self.stats.trace_updates += n;
            self.stats.optimizer_calls += calls;
            self.syn.counters_mut().record(c[0].0, c[0].1);
            self.out_counters.record(c[1].0, c[1].1);
        }
        match beside_out {
            Some(r) => r,
            None => (beside.take().expect("not run yet"))(&self.syn),
        }
    }
}

/// The learning state a serial pass over rows borrows.
struct RowState<'a> {
    n_in: usize,
    n_out: usize,
    indptr: &'a [usize],
    indices: &'a [u32],
    /// Empty when the rows only integrate.
    weights: &'a mut [f32],
    ebar: &'a mut [Tr],
    ebar_reg: &'a mut [Tr],
    eps: &'a mut [Tr],
    grad: &'a mut [Tr],
    m1: &'a mut [f32],
    m2: &'a mut [f32],
    nsteps: &'a mut [u32],
    w_out: &'a mut [f32],
    grad_out: &'a mut [Tr],
    m1_out: &'a mut [f32],
    m2_out: &'a mut [f32],
    nsteps_out: &'a mut [u32],
    pre: &'a mut [Pre],
    zbuf: &'a mut Vec<f64>,
}

impl RowState<'_> {
    /// The rows `sel` one after the other on the calling thread; the
    /// tallies per group of [`GROUP`] rows.
    fn serial(self, pass: &Pass<'_>, sel: &[usize]) -> Vec<RowTally> {
        let ob = |p: usize| p.saturating_sub(self.n_in) * self.n_out;
        let mut out = Vec::with_capacity(sel.len().div_ceil(GROUP));
        for group in sel.chunks(GROUP) {
            let mut acc: RowTally = (0, [(0, 0.0); 2], 0);
            for &p in group {
                let (lo, hi) = (self.indptr[p], self.indptr[p + 1]);
                let (olo, ohi) = (ob(p), ob(p + 1));
                let mut row = Row {
                    p,
                    post: &self.indices[lo..hi],
                    w: seg(self.weights, lo, hi),
                    ebar: seg(self.ebar, lo, hi),
                    ebar_reg: seg(self.ebar_reg, lo, hi),
                    eps: seg(self.eps, lo, hi),
                    grad: seg(self.grad, lo, hi),
                    m1: seg(self.m1, lo, hi),
                    m2: seg(self.m2, lo, hi),
                    nsteps: seg(self.nsteps, lo, hi),
                    w_out: seg(self.w_out, olo, ohi),
                    grad_out: seg(self.grad_out, olo, ohi),
                    m1_out: seg(self.m1_out, olo, ohi),
                    m2_out: seg(self.m2_out, olo, ohi),
                    nsteps_out: seg(self.nsteps_out, olo, ohi),
                    pre: &mut self.pre[p],
                };
                pass.row(&mut row, self.zbuf, &mut acc);
            }
            out.push(acc);
        }
        out
    }
}
