//! The network: synapses (by presynaptic neuron), readout and feedback
//! weights, the learning state of every synapse and the neuron state.

use super::archive::{Archive, INITIAL_WIDTH};
use super::config::{Config, Connectivity, OptimizerKind};
use super::partition::check_block;
use super::traces::{Pre, Tr};
use crate::energy::EnergyCounters;
use crate::error::{Error, Result};
use crate::rng::stream_rng;
use crate::synapses::SynapseMatrix;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Counts of what a run did (for energy reports and benchmarks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
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

/// A recurrent spiking network learning with e-prop.
///
/// The input and recurrent synapses are one [`SynapseMatrix`] stored **by
/// presynaptic neuron**: its rows ([`SynapseMatrix::n_rows`]) are the
/// `n_in + n_rec` presynaptic neurons (inputs first) and its columns the
/// `n_rec` recurrent neurons they project to, so the outgoing synapses of a
/// spiking neuron are contiguous. (The matrix's `n_post`/`n_pre` names
/// describe its default, postsynaptic-major use and do not apply here.)
#[derive(Debug, Clone)]
pub struct Network {
    pub(super) cfg: Config,
    /// `e^{−dt/τ_m}`, `e^{−dt/τ_a}`, `e^{−dt/τ_out}`.
    pub(super) alpha: f64,
    pub(super) rho: f64,
    pub(super) kout: f64,
    /// Input factor of the membrane and of `ē` (`1 − α`, `1 − κ`; 1 for NEST).
    pub(super) c_in: f64,
    pub(super) c_e: f64,
    /// Outgoing synapses: rows = presynaptic neurons, columns = recurrent neurons.
    pub(super) syn: SynapseMatrix,
    /// Dale's law sign per presynaptic neuron (+1, −1, 0 = free).
    pub(super) sign: Vec<i8>,
    pub(super) ebar: Vec<Tr>,
    pub(super) ebar_reg: Vec<Tr>,
    pub(super) eps: Vec<Tr>,
    pub(super) grad: Vec<Tr>,
    pub(super) m1: Vec<f32>,
    pub(super) m2: Vec<f32>,
    pub(super) nsteps: Vec<u32>,
    /// Readout weights `(n_rec, n_out)`, row = recurrent neuron.
    pub(super) w_out: Vec<f32>,
    pub(super) grad_out: Vec<Tr>,
    pub(super) m1_out: Vec<f32>,
    pub(super) m2_out: Vec<f32>,
    pub(super) nsteps_out: Vec<u32>,
    /// Feedback weights `(n_rec, n_out)` (unused when symmetric).
    pub(super) feedback: Vec<f32>,
    pub(super) pre: Vec<Pre>,
    pub(super) v: Vec<f64>,
    pub(super) a: Vec<f64>,
    pub(super) z: Vec<u8>,
    pub(super) refr: Vec<u32>,
    pub(super) f_av: Vec<f64>,
    pub(super) y: Vec<f64>,
    pub(super) archive: Archive,
    /// Global step.
    pub(super) g: i64,
    pub(super) out_counters: EnergyCounters,
    pub(super) stats: Stats,
    pub(super) sequences_in_batch: usize,
    /// Scratch: presynaptic traces of the row being integrated.
    pub(super) zbuf: Vec<f64>,
    /// Scratch: rows selected in a step (arriving, or due).
    pub(super) sel: Vec<usize>,
    /// A partition (see [`Network::partition`]) holds the recurrent neurons
    /// `first..first + z.len()` and the spikes of all `n_rec` neurons in
    /// `z_all`; a whole network has `first = 0` and an empty `z_all`.
    pub(super) first: usize,
    pub(super) z_all: Vec<u8>,
}

/// Check the shapes, signs and finiteness of explicit weights.
fn check_weights(
    cfg: &Config,
    n_cols: usize,
    syn: &SynapseMatrix,
    w_out: &[f32],
    feedback: &[f32],
    sign: &[i8],
) -> Result<()> {
    let (n_pre, n_rec, n_out) = (cfg.n_pre(), cfg.n_rec, cfg.n_out);
    if syn.n_rows() != n_pre || syn.n_cols() != n_cols || syn.is_binary() {
        return Err(Error::Shape(format!(
            "synapses must be a weighted {} x {} matrix (presynaptic x recurrent), got {} x {}",
            n_pre,
            n_cols,
            syn.n_rows(),
            syn.n_cols()
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
    let mut all_w = syn
        .weights()
        .unwrap_or(&[])
        .iter()
        .chain(w_out)
        .chain(feedback);
    if all_w.any(|w| !w.is_finite()) {
        return Err(Error::Value("weights must be finite".into()));
    }
    Ok(())
}

/// Refuse networks whose state cannot fit in memory before building them
/// (an allocation failure aborts): per recurrent neuron about 32 floats of
/// dynamics and history plus two readout/feedback weights per output, and
/// about 12 floats per expected synapse (index, weight, traces, optimizer)
/// onto the `n_local` neurons built.
fn check_memory(
    n_in: usize,
    n_rec: usize,
    n_local: usize,
    n_out: usize,
    conn: &Connectivity,
) -> Result<()> {
    let synapses = n_local as f64 * (n_in as f64 * conn.p_in + n_rec as f64 * conn.p_rec.min(1.0));
    let floats = n_rec as f64 * (32.0 + 2.0 * n_out as f64) + 12.0 * synapses;
    let n = if floats < usize::MAX as f64 {
        floats as usize
    } else {
        usize::MAX
    };
    crate::alloc::check_fits::<f32>(
        n,
        &format!("an e-prop network of {n_in} inputs, {n_rec} recurrent and {n_out} output units"),
    )
}

/// One drawn row of a block of columns: the block's synapses (columns
/// relative to the block's first), and where they sit in the whole row.
struct DrawnRow {
    idx: Vec<u32>,
    w: Vec<f32>,
    /// Synapses of the whole row left of the block.
    before: usize,
    /// Synapses of the whole row.
    total: usize,
}

/// Random sparse rows: row `p` holds each of `n_cols` columns with probability
/// `prob` (never column `skip(p)`), weights `N(0, 1) · scale`; only the
/// columns in `block` are kept. Each row draws from its own stream and walks
/// all its columns, so a block holds exactly the whole row's synapses there.
fn random_rows(
    n_rows: usize,
    n_cols: usize,
    (prob, scale): (f64, f64),
    (seed, stream0): (u64, u64),
    skip: impl Fn(usize) -> Option<usize> + Sync,
    block: &std::ops::Range<usize>,
) -> Vec<DrawnRow> {
    (0..n_rows)
        .into_par_iter()
        .map(|p| {
            let mut rng = stream_rng(seed, stream0 + p as u64);
            let mut row = DrawnRow {
                idx: Vec::new(),
                w: Vec::new(),
                before: 0,
                total: 0,
            };
            let mut push = |j: usize, rng: &mut ChaCha8Rng| {
                if Some(j) != skip(p) {
                    let x: f64 = StandardNormal.sample(rng);
                    if block.contains(&j) {
                        row.idx.push((j - block.start) as u32);
                        row.w.push((x * scale) as f32);
                    } else if j < block.start {
                        row.before += 1;
                    }
                    row.total += 1;
                }
            };
            if prob >= 1.0 {
                for j in 0..n_cols {
                    push(j, &mut rng);
                }
            } else if prob > 0.0 {
                // geometric skips: O(synapses) instead of O(columns)
                // Below about 1e-16, 1 - prob rounds to 1 and ln gives 0: the
                // skips became -inf and the loop never ended. ln(1 - p) ≈ -p there.
                let ln_q = match (1.0 - prob).ln() {
                    0.0 => -prob,
                    l => l,
                };
                let mut j: f64 = -1.0;
                loop {
                    let u: f64 = rng.random::<f64>();
                    j += 1.0 + ((1.0 - u).ln() / ln_q).floor();
                    if j >= n_cols as f64 {
                        break;
                    }
                    push(j as usize, &mut rng);
                }
            }
            row
        })
        .collect()
}

/// Dale signs (+1 with probability `frac`, else −1) applied to the rows' weights.
fn dale_signs(rows: &mut [DrawnRow], frac: f64, seed: u64) -> Vec<i8> {
    let mut rng = stream_rng(seed, u64::MAX - 2);
    let sign: Vec<i8> = (0..rows.len())
        .map(|_| if rng.random::<f64>() < frac { 1 } else { -1 })
        .collect();
    for (p, row) in rows.iter_mut().enumerate() {
        for x in row.w.iter_mut() {
            *x = x.abs() * sign[p] as f32;
        }
    }
    sign
}

/// Rows as one compressed matrix (rows = presynaptic neurons).
fn outgoing_matrix(rows: Vec<DrawnRow>, n_rec: usize) -> Result<SynapseMatrix> {
    let n_pre = rows.len();
    let mut indptr = Vec::with_capacity(n_pre + 1);
    indptr.push(0usize);
    let nnz: usize = rows.iter().map(|r| r.idx.len()).sum();
    let mut indices = Vec::with_capacity(nnz);
    let mut weights = Vec::with_capacity(nnz);
    for row in rows {
        indices.extend_from_slice(&row.idx);
        weights.extend_from_slice(&row.w);
        indptr.push(indices.len());
    }
    SynapseMatrix::from_csr(n_pre, n_rec, &indptr, &indices, Some(&weights), false)
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
        let n_rec = cfg.n_rec;
        Self::with_neurons(cfg, syn, w_out, feedback, sign, 0..n_rec)
    }

    /// [`Network::new`] holding the recurrent neurons `local` only: `syn`
    /// has one column per local neuron; readout and feedback weights are
    /// those of all `n_rec` neurons.
    pub(super) fn with_neurons(
        cfg: Config,
        syn: SynapseMatrix,
        w_out: Vec<f32>,
        feedback: Vec<f32>,
        sign: Vec<i8>,
        local: std::ops::Range<usize>,
    ) -> Result<Self> {
        cfg.validate()?;
        check_weights(&cfg, local.len(), &syn, &w_out, &feedback, &sign)?;
        let (n_pre, n_out) = (cfg.n_pre(), cfg.n_out);
        let (nnz, n_ro) = (syn.nnz(), cfg.n_rec * n_out);
        let n_rec = local.len();
        let adam = cfg.optimizer == OptimizerKind::Adam;
        let alpha = (-cfg.dt / cfg.tau_m).exp();
        let (c_in, c_e) = if cfg.nest_compatible {
            (1.0, 1.0)
        } else {
            (1.0 - alpha, 1.0 - cfg.kappa)
        };
        let sized = |on: bool, n: usize| if on { n } else { 0 };
        Ok(Network {
            alpha,
            rho: (-cfg.dt / cfg.adapt_tau).exp(),
            kout: (-cfg.dt / cfg.tau_out).exp(),
            c_in,
            c_e,
            sign: if sign.is_empty() {
                vec![0; n_pre]
            } else {
                sign
            },
            ebar: vec![0.0; nnz],
            ebar_reg: vec![0.0; sized(cfg.c_reg > 0.0, nnz)],
            eps: vec![0.0; sized(cfg.adapt_beta > 0.0, nnz)],
            grad: vec![0.0; nnz],
            m1: vec![0.0; sized(adam, nnz)],
            m2: vec![0.0; sized(adam, nnz)],
            nsteps: vec![0; sized(adam, nnz)],
            grad_out: vec![0.0; n_ro],
            m1_out: vec![0.0; sized(adam, n_ro)],
            m2_out: vec![0.0; sized(adam, n_ro)],
            nsteps_out: vec![0; sized(adam, n_ro)],
            w_out,
            feedback,
            pre: vec![Pre::reset(0); n_pre],
            v: vec![0.0; n_rec],
            a: vec![0.0; n_rec],
            z: vec![0; n_rec],
            refr: vec![0; n_rec],
            f_av: vec![0.0; n_rec],
            y: vec![0.0; n_out],
            archive: Archive::new(n_rec, n_out, INITIAL_WIDTH),
            g: 0,
            out_counters: EnergyCounters::default(),
            stats: Stats::default(),
            sequences_in_batch: 0,
            zbuf: Vec::new(),
            sel: Vec::new(),
            z_all: if local.len() == cfg.n_rec {
                Vec::new()
            } else {
                vec![0; cfg.n_rec]
            },
            first: local.start,
            syn,
            cfg,
        })
    }

    /// A network with random sparse connectivity (see [`Connectivity`]):
    /// each input→recurrent synapse exists with probability `p_in`, each
    /// recurrent→recurrent one (no autapses) with `p_rec`.
    pub fn random(cfg: Config, conn: &Connectivity, seed: u64) -> Result<Self> {
        let n_rec = cfg.n_rec;
        Ok(Self::random_block(cfg, conn, seed, 0..n_rec, false)?.0)
    }

    /// The recurrent neurons `lo..hi` of [`Network::random`] with their
    /// incoming synapses and each synapse's index in the whole network:
    /// the same as `Network::random(cfg, conn, seed)?.partition(lo, hi)`,
    /// without ever holding the whole network (every row is still drawn,
    /// so the time is that of building the whole network; the memory is
    /// the block's).
    pub fn random_partition(
        cfg: Config,
        conn: &Connectivity,
        seed: u64,
        lo: usize,
        hi: usize,
    ) -> Result<(Self, Vec<usize>)> {
        check_block(lo, hi, cfg.n_rec)?;
        Self::random_block(cfg, conn, seed, lo..hi, true)
    }

    /// [`Network::random_partition`]; the index map only `with_map`.
    fn random_block(
        cfg: Config,
        conn: &Connectivity,
        seed: u64,
        block: std::ops::Range<usize>,
        with_map: bool,
    ) -> Result<(Self, Vec<usize>)> {
        cfg.validate()?;
        conn.validate()?;
        let (n_in, n_rec, n_out) = (cfg.n_in, cfg.n_rec, cfg.n_out);
        check_memory(n_in, n_rec, block.len(), n_out, conn)?;
        let fan_in = |n: usize, p: f64| 1.0 / (n as f64 * p).max(1.0).sqrt();
        let input = (conn.p_in, conn.input_scale * fan_in(n_in, conn.p_in));
        let recurrent = (conn.p_rec, conn.recurrent_scale * fan_in(n_rec, conn.p_rec));
        let mut rows = random_rows(n_in, n_rec, input, (seed, 0), |_| None, &block);
        rows.extend(random_rows(
            n_rec,
            n_rec,
            recurrent,
            (seed, n_in as u64),
            Some,
            &block,
        ));
        let sign = match conn.dale {
            Some(frac) => dale_signs(&mut rows, frac, seed),
            None => Vec::new(),
        };
        let mut map = Vec::new();
        if with_map {
            let mut offset = 0usize;
            for row in &rows {
                let start = offset + row.before;
                map.extend(start..start + row.idx.len());
                offset += row.total;
            }
        }
        let syn = outgoing_matrix(rows, block.len())?;
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
        let w_out = draw(conn.readout_scale);
        let feedback = if conn.symmetric_init {
            w_out.clone()
        } else {
            draw(conn.feedback_scale)
        };
        let net = Network::with_neurons(cfg, syn, w_out, feedback, sign, block)?;
        Ok((net, map))
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }
    /// Input and recurrent synapses, rows = presynaptic neurons (see [`Network`]).
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
        self.archive.bytes()
    }
    /// Total bytes of the network state.
    pub fn memory_bytes(&self) -> usize {
        self.synapse_state_bytes()
            + self.archive_bytes()
            + 4 * (self.w_out.len() * 2 + self.grad_out.len() + self.m1_out.len() * 3)
            + std::mem::size_of::<Pre>() * self.pre.len()
            + 40 * self.z.len()
    }

    /// Forget all dynamic state (membranes, traces, archive), keep the weights.
    pub fn reset_state(&mut self) {
        let g = self.g;
        self.v.iter_mut().for_each(|x| *x = 0.0);
        self.a.iter_mut().for_each(|x| *x = 0.0);
        self.z.iter_mut().for_each(|x| *x = 0);
        self.z_all.iter_mut().for_each(|x| *x = 0);
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
