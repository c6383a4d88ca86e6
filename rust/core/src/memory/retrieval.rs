//! Retrieval: one-step and iterative, with adaptive noise estimation (ANE).
//!
//! A batch of queries is one call, parallel over queries. Iterations run in
//! lock-step over the batch so that the Bayesian weights needed by all
//! queries at one step can be prepared once (they depend on the query
//! noise); each query stops as soon as its state is stable.
//!
//! Output selection ([`Mode`]):
//! * `Threshold(Some(θ))`: units with `x_j ≥ θ`; `Threshold(None)` is the
//!   rule's natural threshold: the number of active query units for Willshaw
//!   (every active unit of a clean subset query must connect), `0` for the
//!   Bayesian rule (posterior `> 1/2`); other rules need an explicit `θ`;
//! * `Wta(l)`: the `l` largest potentials, ties with the `l`-th included
//!   (the threshold is set to the `l`-th largest potential, as in Willshaw
//!   l-WTA retrieval), so more than `l` units can fire on ties;
//! * `Hypercolumn(h)`: units form `h` consecutive equal groups, the largest
//!   potential of each group fires (ties: lower index).
//!
//! **Adaptive noise estimation.** The Bayesian weights are optimal for the
//! query-noise rates `p01` (miss) and `p10` (add) they were computed for;
//! after one step of iterative retrieval the state is much less noisy than
//! the initial cue, so the initial rates are wrong. With ANE the first step
//! uses the given `p01`, `p10`; at each later step the rates of the current
//! state `y` (the previous output) are re-estimated from the previous step's
//! potentials, which for the Bayesian rule are log posterior odds
//! `x_j = ln P[v_j = 1 | state] / P[v_j = 0 | state]`. With `P_j = σ(x_j)`
//! the expected numbers of missing and added units of `y` are
//! `E_miss = Σ_{j ∉ y} P_j` and `E_add = Σ_{j ∈ y} (1 − P_j)`; they are
//! rounded to half units with a floor of one half (the posterior is
//! over-confident because the rule treats inputs as independent, and a rate
//! of exactly 0 would make every unexpected unit veto the output), and
//! `p01 = E_miss / l̄`, `p10 = E_add / (n − l̄)` with `l̄` the mean stored
//! pattern activity (both capped at 0.999). Rounding keeps the number of
//! distinct rate pairs per step small, so their biases are computed once.
//! ANE changes only the Bayesian rule: the other rules have no noise
//! parameters.
//!
//! **Query-anchored retrieval** (`anchor`, Bayesian rule, auto-association,
//! threshold or l-WTA). Plain iteration treats each state as a new,
//! independent query. It is not: the state is computed from the query, and
//! its false units are exactly the units best connected to the query, so
//! the Bayesian weights (which assume independent add noise) trust them too
//! much, and a unit's own state bit (the self-weight
//! `ln[(1−p01)(1−p10)/(p01 p10)]`) re-counts the evidence that switched it
//! on. With `anchor` the query bits stay the only first-hand observations:
//! step 1 is the ordinary Bayesian step with the query's `p01`, `p10`, and
//! its potentials `x^q` are kept; each later step computes
//! `x_j = x^q_j + Σ_{i ∉ query, i ≠ j} ln P[s_i | v_j = 1] / P[s_i | v_j = 0]`,
//! the evidence of the state's units outside the query, observed with the
//! miss/add rates of that *added* part (see
//! [`Weights::added_evidence`](super::rules::Weights::added_evidence)).
//! Without ANE the added part gets the query's rates; with ANE they are
//! re-estimated at each step from the posterior over the units outside the
//! query only ([`estimate_added_noise`]), so the query part (for a
//! subset cue certainly correct, `p10 = 0`) is never diluted by the
//! estimate. One step, anchoring changes nothing.

use super::rules::{Rule, Weights};
use super::{willshaw, AssocStore, Patterns};
use crate::error::{Error, Result};
use rayon::prelude::*;
use serde::Deserialize;
use std::collections::BTreeMap;

/// How the output units are selected from the dendritic potentials.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    Threshold(Option<f64>),
    Wta(usize),
    Hypercolumn(usize),
}

named_enum! {
    /// The name of a [`Mode`].
    pub enum Retrieval("retrieval") {
        /// Potentials `>= threshold` (default: the number of active query
        /// units for Willshaw, 0 for Bayes).
        Threshold = "threshold",
        /// The `winners` largest potentials (ties with the last included).
        Wta = "wta",
        /// One winner in each of `n_hypercolumns` equal groups.
        Hypercolumn = "hypercolumn",
    }
}

/// [`RetrieveParams`] as the boundary spells it: the selection by name
/// with its parameter as a flat field.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetrieveSpec {
    rule: Rule,
    retrieval: Retrieval,
    #[serde(default)]
    threshold: Option<f64>,
    #[serde(default)]
    winners: usize,
    #[serde(default)]
    n_hypercolumns: usize,
    #[serde(default = "one")]
    n_iter: usize,
    #[serde(default)]
    adaptive: bool,
    #[serde(default)]
    anchor: bool,
    #[serde(default)]
    p01: f64,
    #[serde(default)]
    p10: f64,
}

fn one() -> usize {
    1
}

impl From<RetrieveSpec> for RetrieveParams {
    fn from(s: RetrieveSpec) -> Self {
        RetrieveParams {
            rule: s.rule,
            mode: match s.retrieval {
                Retrieval::Threshold => Mode::Threshold(s.threshold),
                Retrieval::Wta => Mode::Wta(s.winners),
                Retrieval::Hypercolumn => Mode::Hypercolumn(s.n_hypercolumns),
            },
            n_iter: s.n_iter,
            adaptive: s.adaptive,
            anchor: s.anchor,
            p01: s.p01,
            p10: s.p10,
        }
    }
}

/// Parameters of one retrieval call.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(from = "RetrieveSpec")]
pub struct RetrieveParams {
    pub rule: Rule,
    pub mode: Mode,
    /// Maximum number of steps (`> 1` only for auto-association).
    pub n_iter: usize,
    /// Adaptive noise estimation between steps.
    pub adaptive: bool,
    /// Query-anchored iterative retrieval (Bayesian rule, auto-association):
    /// later steps add the evidence of the state's added part to the
    /// query's evidence instead of treating the state as a new query.
    pub anchor: bool,
    pub p01: f64,
    pub p10: f64,
}

/// Retrieved patterns, the number of steps each query ran, and the
/// synaptic operations spent (one per synapse read).
#[derive(Debug, Clone, PartialEq)]
pub struct Retrieved {
    pub patterns: Patterns,
    pub iterations: Vec<u32>,
    pub synaptic_ops: u64,
}

fn check_queries(store: &AssocStore, q: &Patterns) -> Result<()> {
    if q.dim != store.m() {
        return Err(Error::Shape(format!(
            "queries have {} units, the memory's addresses have {}",
            q.dim,
            store.m()
        )));
    }
    Ok(())
}

fn check_params(store: &AssocStore, p: &RetrieveParams) -> Result<()> {
    check_shape(store.n(), store.is_auto(), p)
}

/// The checks of a retrieval against a memory of `n` content units
/// (auto-associative or not), for every kind of store.
pub(super) fn check_shape(n: usize, auto: bool, p: &RetrieveParams) -> Result<()> {
    if p.n_iter == 0 {
        return Err(Error::Value("n_iter must be at least 1".into()));
    }
    if p.n_iter > 1 && !auto {
        return Err(Error::Value(
            "iterative retrieval (n_iter > 1) needs an auto-associative memory".into(),
        ));
    }
    for (name, v) in [("p01", p.p01), ("p10", p.p10)] {
        if !(0.0..1.0).contains(&v) {
            return Err(Error::Value(format!("{name} must lie in [0, 1), got {v}")));
        }
    }
    if p.anchor && (p.rule != Rule::Bayes || !auto || matches!(p.mode, Mode::Hypercolumn(_))) {
        return Err(Error::Value(
            "anchor needs the Bayesian rule, an auto-associative memory and threshold or wta retrieval"
                .into(),
        ));
    }
    match p.mode {
        Mode::Threshold(Some(t)) if !t.is_finite() => {
            Err(Error::Value(format!("threshold must be finite, got {t}")))
        }
        Mode::Threshold(None) if !matches!(p.rule, Rule::Willshaw | Rule::Bayes) => {
            Err(Error::Value(format!(
                "rule '{}' has no natural threshold: give one, or use wta/hypercolumn retrieval",
                p.rule
            )))
        }
        Mode::Wta(l) if l > n => Err(Error::Value(format!(
            "l = {l} winners requested from {n} units"
        ))),
        Mode::Hypercolumn(h) if h == 0 || !n.is_multiple_of(h) => Err(Error::Value(format!(
            "{n} content units cannot form {h} equal hypercolumns"
        ))),
        _ => Ok(()),
    }
}

/// Size of the blocks of self-connections dropped in auto-association: the
/// hypercolumn size with hypercolumn retrieval, else the diagonal (1).
pub fn self_block(store: &AssocStore, mode: Mode) -> usize {
    self_block_of(store.n(), store.is_auto(), mode)
}

/// [`self_block`] of a memory of `n` content units.
pub(super) fn self_block_of(n: usize, auto: bool, mode: Mode) -> usize {
    match mode {
        Mode::Hypercolumn(h) if auto && h > 0 => n / h,
        _ if auto => 1,
        _ => 0,
    }
}

/// The unit of largest potential in each of the `h` equal blocks of `x`
/// (the first one on ties), as in every hypercolumn retrieval (real-valued
/// potentials here, integer counts in [`willshaw::select`]).
pub(super) fn hypercolumn_winners<T: PartialOrd + Copy>(x: &[T], h: usize) -> Vec<u32> {
    let size = x.len() / h;
    (0..h)
        .map(|g| (g * size + block_winner(&x[g * size..(g + 1) * size])) as u32)
        .collect()
}

/// Position of the first largest value of a non-empty `block`: what the
/// scan `best = t if block[t] > block[best]` returns, found in two passes
/// that vectorise. A scan that starts from an unordered first value (NaN)
/// never moves; unordered values further on never win. Otherwise it ends
/// at the first value equal to the maximum of the ordered values, which
/// the lanes below compute with the scan's own comparison.
#[inline]
fn block_winner<T: PartialOrd + Copy>(block: &[T]) -> usize {
    const L: usize = 8;
    let first = block[0];
    if first.partial_cmp(&first).is_none() {
        return 0;
    }
    let mut lanes = [first; L];
    let mut chunks = block.chunks_exact(L);
    for c in &mut chunks {
        for k in 0..L {
            if c[k] > lanes[k] {
                lanes[k] = c[k];
            }
        }
    }
    let mut top = first;
    for &v in lanes.iter().chain(chunks.remainder()) {
        if v > top {
            top = v;
        }
    }
    block.iter().position(|&v| v == top).unwrap_or(0)
}

/// The active units selected from potentials `x` for a state of `active` units.
pub fn select(x: &[f64], mode: Mode, rule: Rule, active: usize) -> Vec<u32> {
    let over = |t: f64| -> Vec<u32> {
        x.iter()
            .enumerate()
            .filter(|(_, &v)| v >= t)
            .map(|(j, _)| j as u32)
            .collect()
    };
    match mode {
        Mode::Threshold(Some(t)) => over(t),
        Mode::Threshold(None) => over(if rule == Rule::Willshaw {
            active as f64
        } else {
            0.0
        }),
        Mode::Wta(0) => Vec::new(),
        Mode::Wta(l) => {
            let mut v = x.to_vec();
            let l = l.min(v.len());
            v.select_nth_unstable_by(l - 1, |a, b| b.total_cmp(a));
            over(v[l - 1])
        }
        Mode::Hypercolumn(h) => hypercolumn_winners(x, h),
    }
}

#[inline]
fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// ANE: miss and add rates of the new state `y` from the posterior implied by
/// the Bayesian potentials `x` (see the module documentation).
fn estimate_noise(x: &[f64], y: &[u32], mean_activity: f64) -> (f64, f64) {
    let n = x.len() as f64;
    let mut on = vec![false; x.len()];
    for &j in y {
        on[j as usize] = true;
    }
    let (mut miss, mut add) = (0.0f64, 0.0f64);
    for (j, &v) in x.iter().enumerate() {
        let p = sigmoid(v);
        if on[j] {
            add += 1.0 - p;
        } else {
            miss += p;
        }
    }
    let half = |e: f64| ((2.0 * e).round().max(1.0)) / 2.0;
    let l = mean_activity.max(1.0);
    let p01 = (half(miss) / l).min(0.999);
    let p10 = (half(add) / (n - mean_activity).max(1.0)).min(0.999);
    (p01, p10)
}

/// Anchored ANE: miss and add rates of the *added* part of the new state `y`
/// (its units outside the query `q`), from the posterior implied by `x`.
/// `E_miss = Σ_{j ∉ y ∪ q} P_j`, `E_add = Σ_{j ∈ y \ q} (1 − P_j)`, rounded to
/// half units with a floor of one half as in [`estimate_noise`]; the miss
/// rate is relative to the pattern units the query is expected to lack
/// (`p01·l̄`), the add rate to the non-pattern units outside the query
/// (`(n − l̄)(1 − p10)`), each denominator at least 1, rates capped at 0.999.
fn estimate_added_noise(
    x: &[f64],
    y: &[u32],
    q: &[u32],
    l_bar: f64,
    p01: f64,
    p10: f64,
) -> (f64, f64) {
    let n = x.len();
    let mut on = vec![0u8; n];
    for &j in y {
        on[j as usize] = 1;
    }
    for &j in q {
        on[j as usize] = 2;
    }
    let (mut miss, mut add) = (0.0f64, 0.0f64);
    for (j, &v) in x.iter().enumerate() {
        match on[j] {
            0 => miss += sigmoid(v),
            1 => add += 1.0 - sigmoid(v),
            _ => {}
        }
    }
    let half = |e: f64| ((2.0 * e).round().max(1.0)) / 2.0;
    let a01 = (half(miss) / (p01 * l_bar).max(1.0)).min(0.999);
    let a10 = (half(add) / ((n as f64 - l_bar) * (1.0 - p10)).max(1.0)).min(0.999);
    (a01, a10)
}

/// One step's output from its potentials `x`: the new state selected from
/// `x` (for a state of `state_len` active units, `query` the query's
/// units), and the noise rates for the next step (re-estimated under ANE,
/// else `noise`). `mean_activity`: the mean activity of the stored contents.
/// The step of [`retrieve`]; public so that a memory sharded by content
/// units can run it on the gathered potentials and get the same results.
pub fn next_state(
    x: &[f64],
    state_len: usize,
    query: &[u32],
    noise: (f64, f64),
    p: &RetrieveParams,
    mean_activity: f64,
) -> (Vec<u32>, (f64, f64)) {
    let y = select(x, p.mode, p.rule, state_len);
    let next = match (p.adaptive && p.rule == Rule::Bayes, p.anchor) {
        (false, _) => noise,
        (true, false) => estimate_noise(x, &y, mean_activity),
        (true, true) => estimate_added_noise(x, &y, query, mean_activity, p.p01, p.p10),
    };
    (y, next)
}

/// The mean activity of the stored contents (0 for an empty memory).
pub fn mean_activity(store: &AssocStore) -> f64 {
    if store.n_pairs() > 0 {
        store.content_counts().iter().sum::<u64>() as f64 / store.n_pairs() as f64
    } else {
        0.0
    }
}

/// Checks of a retrieval call against the memory, without retrieving.
pub fn check(store: &AssocStore, p: &RetrieveParams) -> Result<()> {
    check_params(store, p)
}

/// Query-anchored potentials of later steps without the query's own
/// (step-1) potentials: the evidence of each state's *added* part (its
/// units outside the query) under the rates `p01`, `p10` (`batch × n`,
/// row-major). [`retrieve`] adds the step-1 potentials to these.
pub fn added_potentials(
    store: &AssocStore,
    queries: &Patterns,
    states: &Patterns,
    p01: f64,
    p10: f64,
) -> Result<Vec<f64>> {
    check_queries(store, queries)?;
    if states.len() != queries.len() || states.dim != store.n() {
        return Err(Error::Shape(format!(
            "{} states of {} units for {} queries of a memory with {} content units",
            states.len(),
            states.dim,
            queries.len(),
            store.n()
        )));
    }
    let n = store.n();
    let what = "the potentials (queries x units)";
    let size = crate::error::size_mul(queries.len(), n, what)?;
    crate::alloc::check_fits::<f64>(size, what)?;
    let w = Weights::new(store, Rule::Bayes, p01, p10, 1)?;
    let mut out = crate::alloc::filled(size, 0.0f64, what)?;
    let cancel = crate::cancel::current();
    let results: Vec<Result<()>> = out
        .par_chunks_mut(n.max(1))
        .enumerate()
        .map(|(q, x)| {
            if cancel.is_cancelled() {
                return Ok(());
            }
            let query = queries.row(q);
            let added: Vec<u32> = states
                .row(q)
                .iter()
                .copied()
                .filter(|i| query.binary_search(i).is_err())
                .collect();
            w.added_evidence(query, &added, x)
        })
        .collect();
    cancel.check()?;
    results.into_iter().collect::<Result<()>>()?;
    Ok(out)
}

type Key = (u64, u64);

/// One query's step: new state, noise estimate for the next step, synaptic
/// ops, and (query-anchored retrieval, step 1) the potentials to keep.
type Step = (Vec<u32>, (f64, f64), u64, Vec<f64>);

fn key(p: (f64, f64)) -> Key {
    (p.0.to_bits(), p.1.to_bits())
}

/// Dendritic potentials of one step (`batch × n`, row-major), parallel over queries.
pub fn potentials(
    store: &AssocStore,
    queries: &Patterns,
    rule: Rule,
    p01: f64,
    p10: f64,
    block: usize,
) -> Result<Vec<f64>> {
    check_queries(store, queries)?;
    let n = store.n();
    let what = "the potentials (queries x units)";
    let size = crate::error::size_mul(queries.len(), n, what)?;
    crate::alloc::check_fits::<f64>(size, what)?;
    let mut w = Weights::new(store, rule, p01, p10, block)?;
    w.densify(queries.indices.len());
    let mut out = crate::alloc::filled(size, 0.0f64, what)?;
    let cancel = crate::cancel::current();
    let min_len = serial_len(
        queries.len(),
        work(store, &w, queries.indices.len(), queries.len()),
    );
    out.par_chunks_mut(n.max(1))
        .enumerate()
        .with_min_len(min_len)
        .for_each(|(q, x)| {
            if !cancel.is_cancelled() {
                w.potentials(queries.row(q), x)
            }
        });
    cancel.check()?;
    Ok(out)
}

/// Least work (synapse reads plus potentials) of a parallel task of
/// queries: a batch with less than twice this runs on one thread, where
/// splitting it costs more than it saves. Set from measurements
/// (`THREAD_CROSSOVER=1 cargo bench --bench kernels`, benches/RESULTS.md):
/// Willshaw retrieval costs 0.7–2.4 ns per unit of work on one core (1.4 ns
/// at n = 1,000), so a task is at least about 70 µs, over ten times what a
/// split cost on the idle machine (a 20 µs sparse product already gained
/// 1.6x there). The old 100,000 per task left the n = 1,000 retrieval of
/// the memory bench (195,000) serial, at 0.83–0.97x with 2 threads.
pub(crate) const SPLIT: crate::parallel::Split = crate::parallel::Split::new(50_000);

/// Estimated work of one step for `nq` queries with `active` active units
/// in all: the synapses read plus one pass over the `n` potentials per query.
fn work(store: &AssocStore, w: &Weights, active: usize, nq: usize) -> u64 {
    let per_row = if w.is_dense() {
        store.n() as f64
    } else {
        store.stored_entries() as f64 / store.m().max(1) as f64
    };
    (active as f64 * per_row) as u64 + (nq as u64) * store.n() as u64
}

/// Minimum items per rayon job for `items` of `work` in all: all of them
/// (one job, on the calling thread) unless [`SPLIT`] pays, else enough for
/// a task of its least work.
pub(super) fn serial_len(items: usize, work: u64) -> usize {
    let work = usize::try_from(work).unwrap_or(usize::MAX);
    if SPLIT.parallel(work) {
        SPLIT.min_items(work / items.max(1))
    } else {
        items.max(1)
    }
}

/// Per-thread scratch of the Willshaw kernel: the integer potentials.
#[derive(Default)]
struct Scratch {
    x8: Vec<u8>,
    x16: Vec<u16>,
}

/// Willshaw retrieval step of the state `s` in integer potentials, when the
/// state is small enough for `u16` counts; `None` otherwise.
fn willshaw_step(
    store: &AssocStore,
    s: &[u32],
    mode: Mode,
    block: usize,
    scratch: &mut Scratch,
) -> Option<Vec<u32>> {
    let n = store.n();
    let excl = store.is_auto() && block > 1;
    let t = match mode {
        Mode::Threshold(Some(t)) => Some(t),
        Mode::Threshold(None) => Some(s.len() as f64),
        _ => None,
    };
    if let (Some(t), false) = (t, excl) {
        if let Some(y) = willshaw::by_intersection(store, s, t) {
            return Some(y);
        }
    }
    if s.len() <= u8::MAX as usize {
        scratch.x8.resize(n, 0);
        willshaw::potentials(store, s, block, &mut scratch.x8);
        Some(willshaw::select(&scratch.x8, mode, s.len()))
    } else if s.len() <= u16::MAX as usize {
        scratch.x16.resize(n, 0);
        willshaw::potentials(store, s, block, &mut scratch.x16);
        Some(willshaw::select(&scratch.x16, mode, s.len()))
    } else {
        None
    }
}

/// Retrieve the patterns addressed by `queries` (one call for the batch).
pub fn retrieve(store: &AssocStore, queries: &Patterns, p: &RetrieveParams) -> Result<Retrieved> {
    check_queries(store, queries)?;
    check_params(store, p)?;
    let nq = queries.len();
    let n = store.n();
    let adaptive = p.adaptive && p.rule == Rule::Bayes;
    let mean_activity = mean_activity(store);
    let mut states: Vec<Vec<u32>> = (0..nq).map(|q| queries.row(q).to_vec()).collect();
    let mut noise = vec![(p.p01, p.p10); nq];
    let mut done = vec![false; nq];
    let mut iterations = vec![0u32; nq];
    let mut ops = 0u64;
    let block = self_block(store, p.mode);
    let mut cache: BTreeMap<Key, Weights> = BTreeMap::new();
    let mut first = Weights::new(store, p.rule, p.p01, p.p10, block)?;
    // Every query reads its rows at the first step, and again at each later
    // one (iterative retrieval runs at least two steps unless the cue is
    // already stable): the dense kernel pays if that is enough reading.
    let steps = if p.n_iter > 1 { 2 } else { 1 };
    first.densify(queries.indices.len() * steps);
    cache.insert(key((p.p01, p.p10)), first);
    let willshaw = p.rule == Rule::Willshaw;
    // Query-anchored retrieval keeps each query's step-1 potentials.
    let mut anchored: Vec<Vec<f64>> = vec![Vec::new(); nq];
    // Ctrl-C: checked per query (retrieval changes nothing, so stopping
    // anywhere is safe).
    let cancel = crate::cancel::current();
    for step in 0..p.n_iter {
        cancel.check()?;
        if done.iter().all(|&d| d) {
            break;
        }
        if adaptive {
            for q in 0..nq {
                let k = key(noise[q]);
                if !done[q] && !cache.contains_key(&k) {
                    cache.insert(
                        k,
                        Weights::new(store, p.rule, noise[q].0, noise[q].1, block)?,
                    );
                }
            }
        }
        let (active, live) = (0..nq)
            .filter(|&q| !done[q])
            .fold((0, 0), |(a, l), q| (a + states[q].len(), l + 1));
        let min_len = serial_len(nq, work(store, &cache[&key((p.p01, p.p10))], active, live));
        let results: Vec<Option<Result<Step>>> = (0..nq)
            .into_par_iter()
            .with_min_len(min_len)
            .map_init(Scratch::default, |scratch, q| {
                if done[q] {
                    return None;
                }
                if cancel.is_cancelled() {
                    return Some(Err(crate::cancel::interrupted()));
                }
                let w = &cache[&key(if adaptive { noise[q] } else { (p.p01, p.p10) })];
                let mut ops = w.ops(&states[q]);
                if willshaw {
                    if let Some(y) = willshaw_step(store, &states[q], p.mode, block, scratch) {
                        return Some(Ok((y, noise[q], ops, Vec::new())));
                    }
                }
                let mut x = vec![0.0f64; n];
                let (query, anchored_x) = (queries.row(q), &anchored[q]);
                if p.anchor && step > 0 {
                    // Query evidence (kept from step 1) + added-part evidence.
                    let added: Vec<u32> = states[q]
                        .iter()
                        .copied()
                        .filter(|i| query.binary_search(i).is_err())
                        .collect();
                    if let Err(e) = w.added_evidence(query, &added, &mut x) {
                        return Some(Err(e));
                    }
                    for (v, a) in x.iter_mut().zip(anchored_x) {
                        *v += a;
                    }
                    ops = w.ops(&added) + w.ops(query);
                } else {
                    w.potentials(&states[q], &mut x);
                }
                let (y, next) = next_state(&x, states[q].len(), query, noise[q], p, mean_activity);
                let keep = if p.anchor && step == 0 { x } else { Vec::new() };
                Some(Ok((y, next, ops, keep)))
            })
            .collect();
        for (q, r) in results.into_iter().enumerate() {
            if let Some(r) = r {
                let (y, nz, o, keep) = r?;
                if p.anchor && step == 0 {
                    anchored[q] = keep;
                }
                iterations[q] += 1;
                ops += o;
                if store.is_auto() && y == states[q] {
                    done[q] = true;
                }
                states[q] = y;
                noise[q] = nz;
            }
        }
    }
    let patterns = Patterns::from_rows(n, &states)?;
    Ok(Retrieved {
        patterns,
        iterations,
        synaptic_ops: ops,
    })
}
