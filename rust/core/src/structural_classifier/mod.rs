//! Structural-plasticity classifier: one hidden layer of excitatory units
//! with non-negative, sparse input synapses learned by a local competitive
//! Hebbian rule, homeostatic thresholds, structural plasticity (silent
//! synapses pruned, new ones grown at candidate positions), and a local
//! delta-rule readout. No error is ever propagated into the hidden layer.
//!
//! Notation (one mini-batch of `B` samples `x_b ∈ [0, ∞)^d`):
//! * dendritic drive `u_bi = Σ_j w_ij x_bj − θ_i` (`θ` the homeostatic threshold);
//! * activity `h_bi = f(u_bi)` with `f(u) = 2σ(u) − 1` for `u ≥ 0` and 0 below;
//! * competition: the `k` largest of the normalised similarity
//!   `s_bi = Σ_j w_ij x_bj / ‖w_i‖₂ − β_i` win (k-WTA, ties to the
//!   lower index; `β` is a second, competitive homeostatic bias, the
//!   "conscience" of DeSieno 1988); winners have post signal `y_bi = 1`,
//!   losers `y_bi = 0`; `β_i += η_β (wins_i / B − k / n_hidden)` equalises
//!   how often units win;
//! * Hebbian rule with postsynaptically gated decay (instar / competitive
//!   learning), on existing synapses only:
//!   `Δw_ij = η Σ_b y_bi (x_bj − w_ij)` (additive) or
//!   `η w_ij Σ_b y_bi (x_bj − w_ij)` (multiplicative, see `plasticity`),
//!   clamped to `[0, w_max]`;
//!   synapses whose input is usually silent when the unit wins decay to zero;
//! * homeostasis: `θ_i += η_θ (mean_b 1[u_bi > 0] − ρ)`, so every unit is
//!   active on a fraction `ρ` of the inputs;
//! * consolidation (optional): synapses at or above `w_consolidate` are
//!   established and frozen (no further writes, never pruned by budget
//!   before unconsolidated ones);
//! * co-activity trace for growth: `c_ij += Σ_b y_bi x_bj` at every position.

use crate::energy::EnergyCounters;
use crate::error::{check_len, Error, Result};
use crate::math::softmax;
use crate::rng::stream_rng;
use crate::synapses::{Clamp, GrowInit, SynapseMatrix};
use crate::winners::top_k;
use kernels::InputMajor;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::Deserialize;

mod activation;
mod code;
mod inhibition;
mod kernels;
mod plasticity;
mod readout;
mod reserve;
mod state;
#[cfg(test)]
mod tests;

pub use activation::{activate, activation};
pub use inhibition::Inhibition;
pub use plasticity::{hebbian_delta, WeightDependence};
pub use readout::{ReadoutFit, ReadoutSchedule, ReadoutStep, SparseCode, Translation};
pub use reserve::UnitRole;
pub use state::StructuralState;

/// Winners per sample, active samples per unit, and with an inhibitory
/// population the inhibited drives and the inhibitory rates of the batch.
type Competition = (Vec<Vec<u32>>, Vec<u32>, Option<(Vec<f32>, Vec<f32>)>);

/// Lanes the readout rows are padded to.
const LANES: usize = 8;

/// Row stride of the hidden-major readout: `n_classes` rounded up to [`LANES`].
pub fn class_stride(n_classes: usize) -> usize {
    n_classes.div_ceil(LANES) * LANES
}

/// Hidden units per parallel task of the per-unit loops.
const UNIT_BLOCK: usize = 256;

/// Units whose drives [`StructuralNet::settle_thresholds`] gathers at once.
const SETTLE_COLS: usize = 32;

thread_local! {
    /// The dense drive of a batch (`competition_fused`), reused across batches.
    static DRIVE: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
}

/// The largest drive buffer a thread keeps between calls (64 MB).
const DRIVE_KEEP: usize = 16 << 20;

named_enum! {
    /// Where new synapses grow.
    pub enum Growth("growth") {
        /// At random absent positions (potential synapses, Knoblauch et al. 2014).
        Random = "random",
        /// At the absent positions with the largest pre/post co-activity trace.
        Coactivity = "coactivity",
    }
}

/// Size and initial synapses of a new network.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub n_in: usize,
    pub n_hidden: usize,
    pub n_classes: usize,
    /// Random input synapses per hidden unit at the start.
    pub init_per_unit: usize,
    /// Initial weights are uniform in `[low, high)`.
    pub init_weights: (f32, f32),
    /// Direct pathway: the readout also sees the input rates (see
    /// [`StructuralNet::n_readout_in`]).
    #[serde(default)]
    pub direct: bool,
}

/// Structural pruning at the end of an epoch (see [`StructuralNet::prune`]).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pruning {
    /// Synapses below this weight are silent and removed.
    pub silent_threshold: f32,
    /// Synapse budget of every unit (the strongest are kept).
    pub max_per_unit: usize,
}

/// Structural growth of new synapses (see [`StructuralNet::grow`]).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Growing {
    /// New synapses per unit.
    pub n_grow: usize,
    pub growth: Growth,
    /// Initial weights are uniform in `[low, high)`.
    pub init_weights: (f32, f32),
    pub seed: u64,
}

/// Parameters of the hidden (competitive Hebbian) learning.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HiddenParams {
    pub n_winners: usize,
    pub learning_rate: f32,
    pub homeostasis_rate: f32,
    pub competition_rate: f32,
    pub target_activity: f32,
    pub w_max: f32,
    /// `None`: no consolidation.
    pub w_consolidate: Option<f32>,
    /// Rate of the inhibitory (I→E) plasticity; unused without an
    /// inhibitory population.
    pub inhibition_rate: f32,
    /// How the Hebbian change depends on the weight (see `plasticity`).
    #[serde(default)]
    pub weight_dependence: WeightDependence,
}

impl HiddenParams {
    fn validate(&self, n_hidden: usize) -> Result<()> {
        if self.n_winners == 0 || self.n_winners > n_hidden {
            return Err(Error::Value(format!(
                "n_winners must be in [1, {n_hidden}], got {}",
                self.n_winners
            )));
        }
        let finite_pos = |v: f32, name: &str| {
            if !(v.is_finite() && v >= 0.0) {
                Err(Error::Value(format!(
                    "{name} must be finite and >= 0, got {v}"
                )))
            } else {
                Ok(())
            }
        };
        finite_pos(self.learning_rate, "learning_rate")?;
        finite_pos(self.homeostasis_rate, "homeostasis_rate")?;
        finite_pos(self.competition_rate, "competition_rate")?;
        finite_pos(self.inhibition_rate, "inhibition_rate")?;
        if !(self.target_activity > 0.0 && self.target_activity < 1.0) {
            return Err(Error::Value(format!(
                "target_activity must be in (0, 1), got {}",
                self.target_activity
            )));
        }
        if !(self.w_max.is_finite() && self.w_max > 0.0) {
            return Err(Error::Value(format!(
                "w_max must be finite and > 0, got {}",
                self.w_max
            )));
        }
        if let Some(c) = self.w_consolidate {
            if !(c.is_finite() && c > 0.0) {
                return Err(Error::Value(format!(
                    "consolidation threshold must be finite and > 0, got {c}"
                )));
            }
        }
        Ok(())
    }
}

/// What one pass of hidden learning did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HiddenStats {
    /// Sum over samples of the number of winners.
    pub wins: u64,
    /// Mean fraction of active units (`u > 0`).
    pub activity: f64,
}

/// The network: sparse excitatory input synapses, thresholds, dense readout.
#[derive(Debug, Clone, PartialEq)]
pub struct StructuralNet {
    n_in: usize,
    n_hidden: usize,
    n_classes: usize,
    /// Whether the readout also sees the input rates (direct pathway).
    direct: bool,
    /// `n_hidden × n_in`, non-negative.
    pub hidden: SynapseMatrix,
    /// Homeostatic thresholds `θ` (one per hidden unit).
    pub theta: Vec<f32>,
    /// Competitive homeostatic biases `β` (one per hidden unit).
    pub beta: Vec<f32>,
    /// Readout weights, presynapse-major: the weights from presynaptic unit
    /// `j` (hidden units first, then with the direct pathway the inputs) are
    /// the contiguous row `readout_t[j * cs..j * cs + n_classes]` with the
    /// row stride `cs = class_stride(n_classes)` (padding stays 0), so the
    /// products over the sparse hidden code run over whole vector lanes.
    /// Use [`Self::readout`] / [`Self::set_readout`] for the class-major array.
    pub(crate) readout_t: Vec<f32>,
    pub readout_bias: Vec<f32>,
    /// Writes of the readout (weights and biases).
    pub readout_counters: EnergyCounters,
    /// Co-activity trace `n_hidden × n_in` for growth (empty when unused).
    pub trace: Vec<f32>,
    /// Optional inhibitory population (Dale's law), see [`Inhibition`].
    pub inhibition: Option<Inhibition>,
    /// Role of every hidden unit (all plastic unless a class-incremental
    /// stream holds units in reserve, see [`UnitRole`]).
    roles: Vec<UnitRole>,
}

fn check_finite(name: &str, v: &[f32]) -> Result<()> {
    if v.iter().any(|x| !x.is_finite()) {
        return Err(Error::Value(format!("{name} contains NaN or infinity")));
    }
    Ok(())
}

/// A zero co-activity trace (dense `n_hidden × n_in`), refused if too large.
fn coactivity_trace(n_hidden: usize, n_in: usize) -> Result<Vec<f32>> {
    let what = "the co-activity trace (n_hidden x n_features)";
    crate::alloc::filled(crate::error::size_mul(n_hidden, n_in, what)?, 0.0, what)
}

/// `max(‖w_i‖₂, 1e-6)` of unit `i` (weights `w`, row starts `ip`).
#[inline]
fn unit_norm(w: &[f32], ip: &[usize], i: usize) -> f32 {
    let s: f32 = w[ip[i]..ip[i + 1]].iter().map(|v| v * v).sum();
    s.sqrt().max(1e-6)
}

fn check_nonneg_input(x: &[f32]) -> Result<()> {
    // By the bits, a chunk at a time without an early exit so that it
    // vectorises (a pass over all of MNIST per call): finite and ≥ 0 is
    // below +inf's bits, or −0.0.
    let bad = |c: &[f32]| {
        c.iter().fold(0u32, |acc, v| {
            let b = v.to_bits();
            acc | u32::from(b >= 0x7F80_0000 && b != 0x8000_0000)
        }) != 0
    };
    const CHUNK: usize = 1 << 14;
    let any_bad = if x.len() >= 64 * CHUNK {
        x.par_chunks(CHUNK).any(bad)
    } else {
        x.chunks(CHUNK).any(bad)
    };
    if any_bad {
        return Err(Error::Value(
            "input must be finite and non-negative (excitatory rates)".into(),
        ));
    }
    Ok(())
}

impl StructuralNet {
    /// A network with `init_per_unit` random input synapses per hidden unit,
    /// weights uniform in `init_weights`, zero thresholds and readout.
    pub fn new(cfg: &Config, seed: u64) -> Result<Self> {
        let (n_in, n_hidden, n_classes) = (cfg.n_in, cfg.n_hidden, cfg.n_classes);
        let (w_low, w_high) = cfg.init_weights;
        if n_in == 0 || n_hidden == 0 || n_classes == 0 {
            return Err(Error::Value(format!(
                "n_in, n_hidden and n_classes must be positive, got {n_in}, {n_hidden}, {n_classes}"
            )));
        }
        if !(w_low.is_finite() && w_high.is_finite() && 0.0 <= w_low && w_low <= w_high) {
            return Err(Error::Value(format!(
                "initial weight range [{w_low}, {w_high}) must be finite and non-negative"
            )));
        }
        let n_readout_in = n_hidden + if cfg.direct { n_in } else { 0 };
        let readout = crate::error::size_mul(class_stride(n_classes), n_readout_in, "the readout")?;
        crate::alloc::check_fits::<f32>(readout, "the readout (n_classes x n_readout_in)")?;
        let synapses = n_hidden.saturating_mul(cfg.init_per_unit.min(n_in));
        crate::alloc::check_fits::<(u32, f32)>(synapses, "the initial hidden synapses")?;
        let mut hidden = SynapseMatrix::empty(n_hidden, n_in, false)?;
        hidden.grow_random(cfg.init_per_unit, GrowInit::Uniform(w_low, w_high), seed)?;
        // Initial synapses are the starting state, not plasticity.
        hidden.reset_counters();
        Ok(StructuralNet {
            n_in,
            n_hidden,
            n_classes,
            direct: cfg.direct,
            hidden,
            theta: vec![0.0; n_hidden],
            beta: vec![0.0; n_hidden],
            readout_t: vec![0.0; class_stride(n_classes) * n_readout_in],
            readout_bias: vec![0.0; n_classes],
            readout_counters: EnergyCounters::default(),
            trace: Vec::new(),
            inhibition: None,
            roles: vec![UnitRole::Plastic; n_hidden],
        })
    }

    /// Rebuild from saved parts (unpickling), validating all of them.
    pub fn from_parts(
        hidden: SynapseMatrix,
        theta: Vec<f32>,
        beta: Vec<f32>,
        readout: Vec<f32>,
        readout_bias: Vec<f32>,
        n_classes: usize,
        direct: bool,
    ) -> Result<Self> {
        hidden.check_invariants()?;
        let (n_hidden, n_in) = (hidden.n_post(), hidden.n_pre());
        if n_in == 0 || n_hidden == 0 || n_classes == 0 {
            return Err(Error::Value("empty network".into()));
        }
        check_len("theta", theta.len(), n_hidden, 1)?;
        check_len("beta", beta.len(), n_hidden, 1)?;
        check_finite("beta", &beta)?;
        let n_readout_in = n_hidden + if direct { n_in } else { 0 };
        check_len("readout", readout.len(), n_classes, n_readout_in)?;
        check_len("readout bias", readout_bias.len(), n_classes, 1)?;
        // Learning reads the hidden weights (`expect("hidden synapses are
        // weighted")`): a binary matrix from a tampered state must stop here.
        let Some(w) = hidden.weights() else {
            return Err(Error::Type(
                "the hidden synapses must be weighted, not binary".into(),
            ));
        };
        if w.iter().any(|&v| !(v >= 0.0 && v.is_finite())) {
            return Err(Error::Value(
                "hidden weights must be finite and >= 0".into(),
            ));
        }
        check_finite("theta", &theta)?;
        check_finite("readout bias", &readout_bias)?;
        let mut net = StructuralNet {
            n_in,
            n_hidden,
            n_classes,
            direct,
            hidden,
            theta,
            beta,
            readout_t: vec![0.0; class_stride(n_classes) * n_readout_in],
            readout_bias,
            readout_counters: EnergyCounters::default(),
            trace: Vec::new(),
            inhibition: None,
            roles: vec![UnitRole::Plastic; n_hidden],
        };
        net.set_readout(&readout)?;
        Ok(net)
    }

    pub fn n_in(&self) -> usize {
        self.n_in
    }
    pub fn n_hidden(&self) -> usize {
        self.n_hidden
    }
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }
    /// Whether the readout also sees the input rates.
    pub fn direct(&self) -> bool {
        self.direct
    }
    /// Presynaptic units of the readout: the hidden units, then with the
    /// direct pathway the inputs. A readout that also sees the rates it is
    /// given can use what a feature tells on its own (linear evidence) and
    /// leaves the hidden units to code conjunctions.
    pub fn n_readout_in(&self) -> usize {
        self.n_hidden + if self.direct { self.n_in } else { 0 }
    }

    /// Dendritic drive `u = x Wᵀ − θ`, `(batch, n_hidden)`.
    pub fn drive(&self, x: &[f32], batch: usize) -> Result<Vec<f32>> {
        check_len("input", x.len(), batch, self.n_in)?;
        let mut u = kernels::forward(&self.hidden, x, batch)?;
        for row in u.chunks_mut(self.n_hidden) {
            for (v, t) in row.iter_mut().zip(&self.theta) {
                *v -= t;
            }
        }
        Ok(u)
    }

    /// A zero readout (weights, biases and write counters) for `n_classes`
    /// classes, the hidden layer unchanged: a layer learned without labels
    /// gets its first readout.
    pub fn reset_readout(&mut self, n_classes: usize) -> Result<()> {
        if n_classes == 0 {
            return Err(Error::Value("n_classes must be positive".into()));
        }
        let size =
            crate::error::size_mul(class_stride(n_classes), self.n_readout_in(), "the readout")?;
        crate::alloc::check_fits::<f32>(size, "the readout (n_classes x n_readout_in)")?;
        self.n_classes = n_classes;
        self.readout_t = vec![0.0; size];
        self.readout_bias = vec![0.0; n_classes];
        self.readout_counters = EnergyCounters::default();
        Ok(())
    }

    /// Add (or with `None` remove) the inhibitory population.
    pub fn set_inhibition(&mut self, inhibition: Option<Inhibition>) -> Result<()> {
        if let Some(inh) = &inhibition {
            check_len("E→I weights", inh.e_to_i.len(), self.n_hidden, inh.n_inh)?;
            check_len("I→E weights", inh.i_to_e.len(), self.n_hidden, inh.n_inh)?;
        }
        self.inhibition = inhibition;
        Ok(())
    }

    /// Hidden activity `h = f(u)` (with feedback inhibition when there is
    /// an inhibitory population), `(batch, n_hidden)`.
    pub fn transform(&self, x: &[f32], batch: usize) -> Result<Vec<f32>> {
        check_nonneg_input(x)?;
        self.activity(x, batch)
    }

    /// [`Self::transform`] without the sign check of the input.
    pub(crate) fn activity(&self, x: &[f32], batch: usize) -> Result<Vec<f32>> {
        let mut u = self.drive(x, batch)?;
        if let Some(inh) = &self.inhibition {
            inh.apply(&mut u, self.n_hidden);
        }
        u.par_chunks_mut(self.n_hidden.max(1))
            .with_min_len(crate::parallel::DEFAULT.min_items(self.n_hidden))
            .for_each(activate);
        Ok(u)
    }

    /// The readout weights, class-major `(n_classes, n_readout_in)`.
    pub fn readout(&self) -> Vec<f32> {
        let (c, nh, cs) = (
            self.n_classes,
            self.n_readout_in(),
            class_stride(self.n_classes),
        );
        let mut v = vec![0.0f32; c * nh];
        for j in 0..nh {
            for k in 0..c {
                v[k * nh + j] = self.readout_t[j * cs + k];
            }
        }
        v
    }

    /// Set the readout weights from a class-major `(n_classes, n_readout_in)` array.
    pub fn set_readout(&mut self, readout: &[f32]) -> Result<()> {
        let (c, nh, cs) = (
            self.n_classes,
            self.n_readout_in(),
            class_stride(self.n_classes),
        );
        check_len("readout", readout.len(), c, nh)?;
        check_finite("readout", readout)?;
        for j in 0..nh {
            for k in 0..c {
                self.readout_t[j * cs + k] = readout[k * nh + j];
            }
        }
        Ok(())
    }

    /// Readout logits `h Vᵀ + c` of a dense presynaptic activity
    /// `(batch, n_readout_in)` (hidden activity, then the inputs with the
    /// direct pathway), `(batch, n_classes)`, at the precision the
    /// readout's training code stores ([`SparseCode`]).
    pub fn logits_from_hidden(&self, h: &[f32], batch: usize) -> Result<Vec<f32>> {
        let code = SparseCode::from_dense(h, batch, self.n_readout_in())?;
        self.logits_from_code(&code)
    }

    /// Readout logits of `batch` inputs, `(batch, n_classes)`, from their
    /// exact activities.
    pub fn logits(&self, x: &[f32], batch: usize) -> Result<Vec<f32>> {
        check_len("input", x.len(), batch, self.n_in)?;
        check_nonneg_input(x)?;
        self.logits_unchecked(x, batch)
    }

    /// Class probabilities (softmax of the readout), `(batch, n_classes)`.
    pub fn predict_proba(&self, x: &[f32], batch: usize) -> Result<Vec<f32>> {
        let mut z = self.logits(x, batch)?;
        z.chunks_mut(self.n_classes).for_each(softmax);
        Ok(z)
    }

    /// One epoch of hidden learning over the samples in `order`, in
    /// mini-batches of `batch_size`. Returns per-unit win counts and stats.
    pub fn hidden_epoch(
        &mut self,
        x: &[f32],
        n: usize,
        order: &[u32],
        batch_size: usize,
        p: &HiddenParams,
        track_coactivity: bool,
    ) -> Result<(Vec<u64>, HiddenStats)> {
        check_len("input", x.len(), n, self.n_in)?;
        check_nonneg_input(x)?;
        p.validate(self.n_hidden)?;
        if batch_size == 0 {
            return Err(Error::Value("batch_size must be positive".into()));
        }
        if let Some((e, &s)) = order.iter().enumerate().find(|(_, &s)| s as usize >= n) {
            return Err(Error::Index(format!(
                "sample index {s} at position {e} is not below {n}"
            )));
        }
        if track_coactivity && self.trace.len() != self.n_hidden * self.n_in {
            self.trace = coactivity_trace(self.n_hidden, self.n_in)?;
        }
        // Larger batches than samples change nothing but the buffer size.
        let batch_size = batch_size.min(order.len().max(1));
        let d = self.n_in;
        let mut wins = vec![0u64; self.n_hidden];
        let mut stats = HiddenStats::default();
        let mut xb = Vec::with_capacity(batch_size * d);
        // The structure does not change within an epoch: one input-major view,
        // and the norms of the units kept up to date with the rows that learn
        // (a batch changes a few; recomputing all of them was a tenth of the
        // epoch).
        let mut view = self.view_for(x);
        let mut norms = self.weight_norms();
        for chunk in order.chunks(batch_size) {
            crate::cancel::check()?; // Ctrl-C: the binding works on a copy
            xb.clear();
            for &s in chunk {
                xb.extend_from_slice(&x[s as usize * d..(s as usize + 1) * d]);
            }
            let (w, a) = self.hidden_step_with(
                &xb,
                chunk.len(),
                p,
                track_coactivity,
                view.as_mut(),
                &mut norms,
            )?;
            for (t, v) in wins.iter_mut().zip(w) {
                *t += v;
            }
            stats.activity += a * chunk.len() as f64;
        }
        stats.wins = wins.iter().sum();
        if !order.is_empty() {
            stats.activity /= order.len() as f64;
        }
        Ok((wins, stats))
    }

    /// The input-major view of the synapses when the inputs `x` are sparse
    /// enough for the scattering kernel ([`kernels::prefer_scatter`]).
    fn view_for(&self, x: &[f32]) -> Option<InputMajor> {
        kernels::prefer_scatter(x).then(|| InputMajor::new(&self.hidden))
    }

    /// `max(‖w_i‖₂, 1e-6)` of every hidden unit.
    pub fn weight_norms(&self) -> Vec<f32> {
        let w = self.hidden.weights().expect("hidden synapses are weighted");
        let ip = self.hidden.indptr();
        // Once per batch: in parallel when large (each unit's sum unchanged).
        let per_unit = self.hidden.nnz() / self.n_hidden.max(1) + 1;
        (0..self.n_hidden)
            .into_par_iter()
            .with_min_len(crate::parallel::DEFAULT.min_items(per_unit))
            .map(|i| unit_norm(w, ip, i))
            .collect()
    }

    /// The competition of one batch: the winners of every sample (the
    /// `n_winners` largest `s_bi = Σ_j w_ij x_bj / ‖w_i‖ − β_i`, ascending
    /// unit order) and, per unit, the number of samples on which it is
    /// active (`u_bi > 0`).
    pub fn competition(
        &self,
        xb: &[f32],
        batch: usize,
        n_winners: usize,
    ) -> Result<(Vec<Vec<u32>>, Vec<u32>)> {
        let view = self.view_for(xb);
        let norms = self.weight_norms();
        let (w, a, _) = self.competition_with(xb, batch, n_winners, view.as_ref(), &norms)?;
        Ok((w, a))
    }

    fn competition_with(
        &self,
        xb: &[f32],
        batch: usize,
        n_winners: usize,
        view: Option<&InputMajor>,
        norms: &[f32],
    ) -> Result<Competition> {
        check_len("input", xb.len(), batch, self.n_in)?;
        let Some(inh) = &self.inhibition else {
            return self.competition_fused(xb, batch, n_winners, view, norms);
        };
        // With inhibition the batch's rates interact (u = s − θ − G r), so
        // the drive of the whole batch is held at once.
        let nh = self.n_hidden;
        let s = match view {
            Some(v) => v.forward(xb, batch, nh),
            None => kernels::forward(&self.hidden, xb, batch)?,
        };
        let all_plastic = self.all_plastic();
        let winners: Vec<Vec<u32>> = s
            .par_chunks(nh)
            .with_min_len(crate::parallel::DEFAULT.min_items(2 * nh))
            .map_init(
                || vec![0.0f32; nh],
                |score, sb| {
                    self.scores_into(sb, norms, all_plastic, score);
                    top_k(score, n_winners)
                },
            )
            .collect();
        let mut u = s;
        let split = crate::parallel::DEFAULT.min_items(nh);
        u.par_chunks_mut(nh).with_min_len(split).for_each(|row| {
            for (v, t) in row.iter_mut().zip(&self.theta) {
                *v -= t;
            }
        });
        let r = inh.apply(&mut u, nh);
        // Integer counts: the same for any order of summation.
        let mut active = vec![0u32; nh];
        active
            .par_chunks_mut(UNIT_BLOCK)
            .with_min_len(crate::parallel::DEFAULT.min_items(UNIT_BLOCK * batch))
            .enumerate()
            .for_each(|(blk, a)| {
                let (i0, len) = (blk * UNIT_BLOCK, a.len());
                for ub in u.chunks(nh) {
                    for (c, &v) in a.iter_mut().zip(&ub[i0..i0 + len]) {
                        *c += u32::from(v > 0.0);
                    }
                }
            });
        Ok((winners, active, Some((u, r))))
    }

    /// The competitive scores `s_i / ‖w_i‖ − β_i` of one sample's drive `s`
    /// into `out`; consolidated and reserve units never compete (nor learn),
    /// so theirs are −∞ (unless `all_plastic`, [`Self::all_plastic`]).
    #[inline]
    fn scores_into(&self, s: &[f32], norms: &[f32], all_plastic: bool, out: &mut [f32]) {
        for (((o, &v), &nm), &bt) in out.iter_mut().zip(s).zip(norms).zip(&self.beta) {
            *o = v / nm - bt;
        }
        if !all_plastic {
            for (o, &r) in out.iter_mut().zip(&self.roles) {
                if r != UnitRole::Plastic {
                    *o = f32::NEG_INFINITY;
                }
            }
        }
    }

    /// [`Self::competition_with`] without an inhibitory population, one
    /// sample at a time: its drive, scores and activity counts are computed
    /// while the drive row is in cache, instead of passes over a
    /// `(batch, n_hidden)` matrix that does not fit it (with tens of
    /// thousands of units those passes dominated the hidden epoch). Same
    /// arithmetic as the batch passes, so the same winners and counts;
    /// counts are integers, so summing them per task changes nothing.
    fn competition_fused(
        &self,
        xb: &[f32],
        batch: usize,
        n_winners: usize,
        view: Option<&InputMajor>,
        norms: &[f32],
    ) -> Result<Competition> {
        let nh = self.n_hidden;
        let d = self.n_in;
        // Taken out of the thread-local (rayon may run another call on this
        // thread while it waits below) and put back at the end: one buffer
        // for every batch of an epoch instead of fresh pages each time.
        let mut dense = DRIVE.take();
        if view.is_none() {
            self.hidden.forward_into(xb, batch, &mut dense)?;
        }
        let all_plastic = self.all_plastic();
        // Tasks of contiguous samples, at most one per thread and none
        // below the least work of a split: each keeps one set of counts,
        // summed at the end. A sample costs its scores, counts and winners
        // (4 passes over the units) and, with the view, the scatter of its
        // inputs (about a quarter of the synapses for pixel-like data).
        let scatter = if view.is_some() {
            self.hidden.nnz() / 4
        } else {
            0
        };
        let min_len = crate::parallel::DEFAULT.min_items(4 * nh + scatter);
        let n_tasks = (batch / min_len).clamp(1, rayon::current_num_threads().max(1));
        let per_task = batch.div_ceil(n_tasks).max(1);
        let starts: Vec<usize> = (0..batch).step_by(per_task).collect();
        let parts: Vec<(Vec<Vec<u32>>, Vec<u32>)> = starts
            .par_iter()
            .map(|&b0| {
                let b1 = (b0 + per_task).min(batch);
                let mut drive = if view.is_some() {
                    vec![0.0f32; nh]
                } else {
                    Vec::new()
                };
                let mut score = vec![0.0f32; nh];
                let mut active = vec![0u32; nh];
                let mut winners = Vec::with_capacity(b1 - b0);
                for b in b0..b1 {
                    let s: &[f32] = match view {
                        Some(v) => {
                            v.scatter(&xb[b * d..(b + 1) * d], &mut drive);
                            &drive
                        }
                        None => &dense[b * nh..(b + 1) * nh],
                    };
                    // (the row is in cache for both passes)
                    self.scores_into(s, norms, all_plastic, &mut score);
                    for ((a, &v), &t) in active.iter_mut().zip(s).zip(&self.theta) {
                        *a += u32::from(v - t > 0.0);
                    }
                    winners.push(top_k(&score, n_winners));
                }
                (winners, active)
            })
            .collect();
        if dense.capacity() <= DRIVE_KEEP {
            DRIVE.set(dense);
        }
        let mut winners = Vec::with_capacity(batch);
        let mut active = vec![0u32; nh];
        for (w, a) in parts {
            winners.extend(w);
            for (t, v) in active.iter_mut().zip(a) {
                *t += v;
            }
        }
        Ok((winners, active, None))
    }

    /// One mini-batch: competition, Hebbian update, homeostasis, trace.
    /// Returns per-unit win counts and the mean activity of the batch.
    pub fn hidden_step(
        &mut self,
        xb: &[f32],
        batch: usize,
        p: &HiddenParams,
        track_coactivity: bool,
    ) -> Result<(Vec<u64>, f64)> {
        let mut view = self.view_for(xb);
        let mut norms = self.weight_norms();
        self.hidden_step_with(xb, batch, p, track_coactivity, view.as_mut(), &mut norms)
    }

    /// [`Self::hidden_step`] with an input-major view of the synapses and
    /// the units' norms ([`Self::weight_norms`]), both kept up to date with
    /// the weights it changes.
    fn hidden_step_with(
        &mut self,
        xb: &[f32],
        batch: usize,
        p: &HiddenParams,
        track_coactivity: bool,
        view: Option<&mut InputMajor>,
        norms: &mut [f32],
    ) -> Result<(Vec<u64>, f64)> {
        p.validate(self.n_hidden)?;
        check_len("input", xb.len(), batch, self.n_in)?;
        let (nh, d) = (self.n_hidden, self.n_in);
        let n_plastic = self.count_role(UnitRole::Plastic);
        if p.n_winners > n_plastic {
            return Err(Error::Value(format!(
                "n_winners = {} but only {n_plastic} hidden units are plastic",
                p.n_winners
            )));
        }
        let (winners, active, inhibited) =
            self.competition_with(xb, batch, p.n_winners, view.as_deref(), norms)?;
        if track_coactivity && self.trace.len() != nh * d {
            self.trace = coactivity_trace(nh, d)?;
        }
        // (unit, sample) of every win, grouped by unit, samples ascending.
        let mut pairs: Vec<(u32, u32)> = winners
            .iter()
            .enumerate()
            .flat_map(|(b, ws)| ws.iter().map(move |&i| (i, b as u32)))
            .collect();
        pairs.sort_unstable();
        let mut wins = vec![0u64; nh];
        for &(i, _) in &pairs {
            wins[i as usize] += 1;
        }
        // The winners' synapses only (see `plasticity`), row after row.
        let (rows, delta) = plasticity::winner_deltas(
            &self.hidden,
            &pairs,
            xb,
            d,
            p.learning_rate,
            p.weight_dependence,
            p.w_consolidate,
        );
        self.hidden.apply_delta_rows(
            &rows,
            &delta,
            Clamp {
                min: 0.0,
                max: p.w_max,
            },
        )?;
        let (w, ip) = (
            self.hidden.weights().expect("weighted"),
            self.hidden.indptr(),
        );
        for &i in &rows {
            norms[i as usize] = unit_norm(w, ip, i as usize);
        }
        if let Some(v) = view {
            for group in pairs.chunk_by(|a, b| a.0 == b.0) {
                v.refresh_row(&self.hidden, group[0].0 as usize);
            }
        }
        let frac = |a: u32| {
            if batch > 0 {
                a as f32 / batch as f32
            } else {
                0.0
            }
        };
        // Homeostasis of the plastic units only (frozen units keep theirs).
        let roles = &self.roles;
        for ((t, &a), _) in self
            .theta
            .iter_mut()
            .zip(&active)
            .zip(roles)
            .filter(|(_, &r)| r == UnitRole::Plastic)
        {
            *t += p.homeostasis_rate * (frac(a) - p.target_activity);
        }
        if batch > 0 {
            let share = p.n_winners as f32 / n_plastic as f32;
            for ((bt, &w), _) in self
                .beta
                .iter_mut()
                .zip(&wins)
                .zip(roles)
                .filter(|(_, &r)| r == UnitRole::Plastic)
            {
                *bt += p.competition_rate * (w as f32 / batch as f32 - share);
            }
        }
        if let (Some(inh), Some((u, r))) = (self.inhibition.as_mut(), &inhibited) {
            inh.learn(u, r, nh, p.inhibition_rate, p.target_activity);
        }
        if track_coactivity {
            for &(i, b) in &pairs {
                let tr = &mut self.trace[i as usize * d..(i as usize + 1) * d];
                for (t, &xv) in tr.iter_mut().zip(&xb[b as usize * d..(b as usize + 1) * d]) {
                    *t += xv;
                }
            }
        }
        let mean_act = active.iter().map(|&a| frac(a) as f64).sum::<f64>() / nh as f64;
        Ok((wins, mean_act))
    }

    /// Homeostatic settling: every threshold becomes the value the
    /// homeostatic rule converges to on the `n` samples `x`, the one at
    /// which the unit is active (`u > 0`) on `round(ρ n)` of them (its
    /// `(round(ρ n) + 1)`-th largest drive). Structural steps change a
    /// unit's drive at once while `θ` follows slowly; settling after the
    /// last one leaves no unit silent (or always on) because its
    /// threshold lags. Uses the feedforward drive (with an inhibitory
    /// population, the thresholds are left to homeostasis).
    pub fn settle_thresholds(&mut self, x: &[f32], n: usize, rho: f32) -> Result<()> {
        check_len("input", x.len(), n, self.n_in)?;
        check_nonneg_input(x)?;
        if !(rho > 0.0 && rho < 1.0) {
            return Err(Error::Value(format!(
                "target activity must be in (0, 1), got {rho}"
            )));
        }
        if n < 2 || self.inhibition.is_some() {
            return Ok(());
        }
        let nh = self.n_hidden;
        let s = kernels::forward(&self.hidden, x, n)?;
        let k = ((rho * n as f32).round() as usize).clamp(1, n - 1);
        let roles = &self.roles;
        self.theta
            .par_chunks_mut(UNIT_BLOCK)
            .with_min_len(crate::parallel::DEFAULT.min_items(UNIT_BLOCK * n))
            .enumerate()
            .for_each(|(blk, th)| {
                // Columns of `SETTLE_COLS` units gathered together, one
                // contiguous run per sample (one column at a time would
                // stride through the whole drive matrix for every unit).
                let mut cols = vec![0.0f32; SETTLE_COLS * n];
                for (sub, ths) in th.chunks_mut(SETTLE_COLS).enumerate() {
                    let i0 = blk * UNIT_BLOCK + sub * SETTLE_COLS;
                    let w = ths.len();
                    for (b, row) in s.chunks_exact(nh).enumerate() {
                        for (r, &v) in row[i0..i0 + w].iter().enumerate() {
                            cols[r * n + b] = v;
                        }
                    }
                    for (r, t) in ths.iter_mut().enumerate() {
                        if roles[i0 + r] != UnitRole::Plastic {
                            continue; // frozen, or silent in reserve
                        }
                        let col = &mut cols[r * n..(r + 1) * n];
                        // descending: the k largest drives come first
                        let (_, kth, _) = col.select_nth_unstable_by(k, |a, b| b.total_cmp(a));
                        *t = *kth;
                    }
                }
            });
        Ok(())
    }

    /// Structural pruning: remove silent synapses (`w < silent_threshold`),
    /// then keep at most `max_per_unit` synapses per unit (the strongest;
    /// consolidated ones count as strongest). Returns the number pruned.
    pub fn prune(&mut self, p: &Pruning) -> Result<usize> {
        let silent = p.silent_threshold;
        if !(silent.is_finite() && silent >= 0.0) {
            return Err(Error::Value(format!(
                "silent threshold must be finite and >= 0, got {silent}"
            )));
        }
        let pruned = self.hidden.prune_below(silent)?;
        Ok(pruned + self.prune_to_budget(p.max_per_unit)?)
    }

    /// Structural growth: up to `n_grow` new synapses per unit, at random
    /// absent positions or where the co-activity trace is largest (which
    /// then starts afresh), initial weights uniform in `init_weights`.
    /// Returns the number grown.
    pub fn grow(&mut self, g: &Growing) -> Result<usize> {
        let (w_low, w_high) = g.init_weights;
        if !(w_low.is_finite() && w_high.is_finite() && 0.0 <= w_low && w_low <= w_high) {
            return Err(Error::Value(format!(
                "growth weight range [{w_low}, {w_high}) must be finite and non-negative"
            )));
        }
        if g.growth == Growth::Coactivity
            && g.n_grow > 0
            && self.trace.len() != self.n_hidden * self.n_in
        {
            return Err(Error::Value(
                "co-activity growth needs a trace: run hidden learning with tracking first".into(),
            ));
        }
        let init = GrowInit::Uniform(w_low, w_high);
        Ok(match (g.n_grow, g.growth) {
            (0, _) => 0,
            (n, Growth::Random) if !self.all_plastic() => {
                let rows: Vec<usize> = (0..self.n_hidden).filter(|&i| self.is_plastic(i)).collect();
                let (post, pre) = self.random_candidates(&rows, n, g.seed);
                self.hidden.grow(&post, &pre, None, init, g.seed)?
            }
            (n, Growth::Random) => self.hidden.grow_random(n, init, g.seed)?,
            (n, Growth::Coactivity) => {
                let (post, pre) = self.coactive_candidates(n, g.seed);
                let grown = self.hidden.grow(&post, &pre, None, init, g.seed)?;
                // The trace has been used: freed (`n_hidden × n_in`, 72 MB on
                // MNIST, and part of the state) until the next tracking epoch
                // starts afresh.
                self.trace = Vec::new();
                grown
            }
        })
    }

    /// Keep the `max_per_unit` largest weights of every plastic unit (ties:
    /// lower presynaptic index kept). Returns the number pruned.
    pub fn prune_to_budget(&mut self, max_per_unit: usize) -> Result<usize> {
        let h = &self.hidden;
        let roles = &self.roles;
        let w = h.weights().expect("hidden synapses are weighted");
        let mask: Vec<bool> = (0..self.n_hidden)
            .into_par_iter()
            .with_min_len(crate::parallel::DEFAULT.min_items(h.nnz() / self.n_hidden.max(1) + 1))
            .map(|i| {
                let (a, b) = (h.indptr()[i], h.indptr()[i + 1]);
                let len = b - a;
                let mut m = vec![false; len];
                if len > max_per_unit && roles[i] == UnitRole::Plastic {
                    let mut order: Vec<usize> = (0..len).collect();
                    // strongest first, ties to the lower index
                    order.sort_by(|&x, &y| w[a + y].total_cmp(&w[a + x]).then(x.cmp(&y)));
                    for &k in &order[max_per_unit..] {
                        m[k] = true;
                    }
                }
                m
            })
            .flatten()
            .collect();
        self.hidden.prune_mask(&mask)
    }

    /// Up to `n_grow` absent positions per unit with the largest positive
    /// co-activity trace (ties: lower presynaptic index); units with no
    /// positive trace grow at random absent positions.
    fn coactive_candidates(&self, n_grow: usize, seed: u64) -> (Vec<u32>, Vec<u32>) {
        let d = self.n_in;
        let per: Vec<Vec<u32>> = (0..self.n_hidden)
            .into_par_iter()
            .with_min_len(crate::parallel::DEFAULT.min_items(d))
            .map(|i| {
                if !self.is_plastic(i) {
                    return Vec::new(); // frozen or in reserve: no growth
                }
                let (idx, _) = self.hidden.row(i);
                let tr = &self.trace[i * d..(i + 1) * d];
                let mut absent: Vec<u32> = (0..d as u32)
                    .filter(|j| idx.binary_search(j).is_err())
                    .collect();
                let positive = absent.iter().any(|&j| tr[j as usize] > 0.0);
                if positive {
                    absent.retain(|&j| tr[j as usize] > 0.0);
                    absent.sort_by(|&a, &b| {
                        tr[b as usize].total_cmp(&tr[a as usize]).then(a.cmp(&b))
                    });
                } else {
                    let mut rng = stream_rng(seed ^ 0x9e37_79b9_7f4a_7c15, i as u64);
                    absent.shuffle(&mut rng);
                }
                absent.truncate(n_grow);
                absent
            })
            .collect();
        let mut post = Vec::new();
        let mut pre = Vec::new();
        for (i, js) in per.into_iter().enumerate() {
            for j in js {
                post.push(i as u32);
                pre.push(j);
            }
        }
        (post, pre)
    }
}
