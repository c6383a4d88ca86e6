//! Competitive plasticity: energy-saving online learning in multilayer
//! perceptrons (van Rossum & Pache 2024; Li & van Rossum 2020).
//!
//! A fully connected MLP (`sizes = [n_in, hidden..., n_out]`, a bias input
//! to every layer) is trained by gradient descent, one sample (or a small
//! batch) at a time, while plasticity is *restricted* to save metabolic
//! energy:
//!
//! * **top fraction**: of the candidate updates of each layer only the largest
//!   fraction `p` of `|Δw|` is written, chosen within the layer or within
//!   each postsynaptic neuron ([`select`] explains the exact rule and why no
//!   full sort is needed);
//! * **path**: only `plastic_units` hidden units per hidden layer are plastic,
//!   their incoming and outgoing synapses; fixed at initialisation or chosen
//!   every step as the units with the largest backpropagated error;
//! * **synaptic caching**: updates accumulate in a transient component `s`
//!   (`w = l + s`) that decays and costs `c·Σ|s|` per step to maintain; when
//!   any `|s|` of a neuron exceeds `θ`, the neuron consolidates (`l += s`).
//!
//! Energy is counted inside the update loop, per weight layer: `M0` (writes),
//! `M1` (`Σ|Δw|`), and for caching the consolidation writes/energy and the
//! maintenance energy. Weights are dense (`n_out × (n_in + 1)`, bias last):
//! the restriction is about which synapses are written, not about storage.
//! The training step allocates nothing; large layers are processed row-parallel
//! with rayon, each row by the same code, so results do not depend on the
//! number of threads.

pub mod kernels;
pub mod select;
#[cfg(test)]
mod tests;

use crate::energy::MinimalEnergy;
use crate::error::{check_len, Error, Result};
use crate::rng::stream_rng;
use rand::Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use std::cmp::Ordering;

/// Layers with at least this many weights are processed row-parallel.
const PAR_MIN: usize = 1 << 17;
/// Samples per GEMM block (and per parallel task) of batched forward passes.
const FORWARD_BLOCK: usize = 256;
/// Random stream numbers (the layer index is added).
const STREAM_INIT: u64 = 0;
const STREAM_PATH: u64 = 1 << 20;
const STREAM_SAMPLE: u64 = 1 << 40;
const STREAM_SHUFFLE: u64 = 1 << 62;

/// Hidden-unit non-linearity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// `max(z, 0) + slope·min(z, 0)`.
    LeakyRelu(f32),
    Relu,
    /// Logistic `1 / (1 + e^{-z})`.
    Sigmoid,
}

impl Activation {
    #[inline]
    fn f(self, z: f32) -> f32 {
        match self {
            Activation::LeakyRelu(a) => {
                if z > 0.0 {
                    z
                } else {
                    a * z
                }
            }
            Activation::Relu => z.max(0.0),
            Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
        }
    }
    /// [`Activation::f`] on every element, the match hoisted out of the
    /// loop and the leaky branch replaced by a select so the loop vectorises.
    fn apply(self, v: &mut [f32]) {
        match self {
            Activation::LeakyRelu(a) => v.iter_mut().for_each(|z| {
                let s = a * *z;
                *z = if *z > 0.0 { *z } else { s };
            }),
            Activation::Relu => v.iter_mut().for_each(|z| *z = z.max(0.0)),
            Activation::Sigmoid => v.iter_mut().for_each(|z| *z = 1.0 / (1.0 + (-*z).exp())),
        }
    }
    /// Derivative expressed through the output `y = f(z)` (as the reference).
    #[inline]
    fn df(self, y: f32) -> f32 {
        match self {
            Activation::LeakyRelu(a) => {
                if y > 0.0 {
                    1.0
                } else {
                    a
                }
            }
            Activation::Relu => {
                if y > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Sigmoid => y * (1.0 - y),
        }
    }
}

/// Output layer and loss; both give the error `δ = onehot − y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// Linear outputs, mean squared error on one-hot targets.
    LinearMse,
    /// Softmax outputs, cross-entropy.
    SoftmaxXent,
}

/// Where the top fraction of `|Δw|` is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    Layer,
    Neuron,
}

/// How the plastic hidden units ("path") are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathMode {
    /// A random subset fixed at initialisation.
    Fixed,
    /// Re-chosen every step: the units with the largest `|δ|` (ties: lower index).
    Error,
}

/// Order in which training samples are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// Uniformly with replacement (the reference).
    Replacement,
    /// A fresh permutation every pass over the data.
    Shuffle,
}

/// Synaptic caching parameters (Li & van Rossum 2020).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Caching {
    /// Factor applied to the transient weights after every step (`e^{-1/τ}`; 1: no decay).
    pub decay: f32,
    /// Maintenance cost per unit transient weight per step (`c`).
    pub maintenance_cost: f64,
    /// Consolidation threshold on `|s|` (`θ`).
    pub threshold: f32,
}

/// Network and plasticity configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `[n_in, hidden..., n_out]`, at least one hidden layer.
    pub sizes: Vec<usize>,
    pub activation: Activation,
    pub output: OutputKind,
    pub learning_rate: f32,
    pub init_std: f32,
    /// Top fraction `p ∈ (0, 1]` per weight layer (`sizes.len() − 1` values).
    pub fractions: Vec<f64>,
    pub selection: Selection,
    /// Plastic hidden units per hidden layer (`None`: all).
    pub plastic_units: Option<usize>,
    pub path_mode: PathMode,
    pub caching: Option<Caching>,
    /// Samples per update (the mean error over the batch is used).
    pub batch_size: usize,
    /// The output error is clipped to `±error_clip` (`f32::INFINITY`: never).
    pub error_clip: f32,
}

impl Config {
    /// Check every field; the error names the offending one.
    pub fn validate(&self) -> Result<()> {
        if self.sizes.len() < 3 {
            return Err(Error::Value(format!(
                "sizes needs inputs, at least one hidden layer and outputs, got {:?}",
                self.sizes
            )));
        }
        if self.sizes.contains(&0) {
            return Err(Error::Value(format!(
                "layer sizes must be positive, got {:?}",
                self.sizes
            )));
        }
        let mut total: usize = 0;
        for l in 0..self.sizes.len() - 1 {
            let n = (self.sizes[l] + 1)
                .checked_mul(self.sizes[l + 1])
                .and_then(|n| total.checked_add(n));
            match n {
                Some(n) if n <= (1usize << 34) => total = n,
                _ => return Err(Error::Value("the network is too large".into())),
            }
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::Value(format!(
                "learning_rate must be a positive finite number, got {}",
                self.learning_rate
            )));
        }
        if !(self.init_std.is_finite() && self.init_std >= 0.0) {
            return Err(Error::Value(format!(
                "init_std must be finite and >= 0, got {}",
                self.init_std
            )));
        }
        if let Activation::LeakyRelu(a) = self.activation {
            if !a.is_finite() {
                return Err(Error::Value("leaky ReLU slope must be finite".into()));
            }
        }
        if self.fractions.len() != self.sizes.len() - 1 {
            return Err(Error::Shape(format!(
                "{} update fractions for {} weight layers",
                self.fractions.len(),
                self.sizes.len() - 1
            )));
        }
        for &p in &self.fractions {
            if !(p > 0.0 && p <= 1.0) {
                return Err(Error::Value(format!(
                    "update_fraction must be in (0, 1], got {p}"
                )));
            }
        }
        if let Some(k) = self.plastic_units {
            let smallest = self.sizes[1..self.sizes.len() - 1]
                .iter()
                .copied()
                .min()
                .unwrap_or(0);
            if k == 0 || k > smallest {
                return Err(Error::Value(format!(
                    "plastic_units must be in [1, {smallest}] (the hidden layer size), got {k}"
                )));
            }
        }
        if let Some(c) = self.caching {
            if !(c.decay.is_finite() && c.decay > 0.0 && c.decay <= 1.0) {
                return Err(Error::Value(format!(
                    "cache decay factor must be in (0, 1], got {}",
                    c.decay
                )));
            }
            if !(c.maintenance_cost.is_finite() && c.maintenance_cost >= 0.0) {
                return Err(Error::Value(format!(
                    "maintenance_cost must be finite and >= 0, got {}",
                    c.maintenance_cost
                )));
            }
            if c.threshold.is_nan() || c.threshold < 0.0 {
                return Err(Error::Value(format!(
                    "consolidation_threshold must be >= 0, got {}",
                    c.threshold
                )));
            }
        }
        if self.batch_size == 0 {
            return Err(Error::Value("batch_size must be >= 1".into()));
        }
        if self.error_clip.is_nan() || self.error_clip <= 0.0 {
            return Err(Error::Value(format!(
                "error_clip must be > 0, got {}",
                self.error_clip
            )));
        }
        Ok(())
    }

    fn n_layers(&self) -> usize {
        self.sizes.len() - 1
    }
}

/// Energy spent on one weight layer.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LayerEnergy {
    /// Non-zero weight changes written (`M0`); with caching: transient writes.
    pub writes: u64,
    /// `Σ|Δw|` of those writes (`M1`); with caching: transient changes.
    pub abs_change: f64,
    /// Synapses written by consolidation (non-zero `s` moved into `l`).
    pub consolidation_writes: u64,
    /// `Σ|Δl|` of consolidations.
    pub consolidation_energy: f64,
    /// `c · Σ_steps Σ|s|`.
    pub maintenance_energy: f64,
    /// Neuron consolidation events.
    pub consolidations: u64,
}

/// One weight layer: `n_out` rows of `n_in + 1` weights (bias last).
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub n_in: usize,
    pub n_out: usize,
    pub w: Vec<f32>,
    pub w_init: Vec<f32>,
    /// Persistent component `l` (caching only, else empty).
    pub long: Vec<f32>,
    /// Transient component `s` (caching only, else empty).
    pub short: Vec<f32>,
    pub energy: LayerEnergy,
}

impl Layer {
    #[inline]
    pub fn stride(&self) -> usize {
        self.n_in + 1
    }
    fn big(&self) -> bool {
        self.w.len() >= PAR_MIN
    }
}

/// A test-set evaluation during training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Checkpoint {
    /// Training samples seen so far (all calls).
    pub samples: u64,
    /// Accuracy on the evaluation set.
    pub accuracy: f64,
    /// Total `M0` and `M1` so far (all layers).
    pub writes: u64,
    pub abs_change: f64,
    /// `M0_min`, `M1_min` from the initial weights to the current ones.
    pub min_writes: u64,
    pub min_abs_change: f64,
}

/// Data and stopping rule of one training call.
#[derive(Debug, Clone, Copy)]
pub struct TrainSpec<'a> {
    /// `n × n_in` inputs, row-major.
    pub x: &'a [f32],
    /// `n` class indices in `0..n_out`.
    pub y: &'a [u32],
    pub sampling: Sampling,
    /// Samples to draw at most in this call.
    pub max_samples: u64,
    /// Evaluation set `(x, y)`; needed for `target_accuracy`.
    pub eval: Option<(&'a [f32], &'a [u32])>,
    /// Evaluate every this many training samples (counted over all calls).
    pub eval_every: u64,
    pub target_accuracy: Option<f64>,
    /// Seed of the sampling stream (combined with the call number).
    pub seed: u64,
}

/// What one training call did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainOutcome {
    /// Samples drawn in this call.
    pub samples: u64,
    /// Whether the target accuracy was reached.
    pub reached: bool,
    pub history: Vec<Checkpoint>,
}

/// The sample drawn at global step `t`: a pure function of `(seed, t)`.
struct Sampler {
    sampling: Sampling,
    seed: u64,
    n: usize,
    order: Vec<u32>,
    epoch: u64,
}

impl Sampler {
    fn draw(&mut self, t: u64) -> usize {
        let n = self.n;
        match self.sampling {
            Sampling::Replacement => stream_rng(self.seed, STREAM_SAMPLE + t).random_range(0..n),
            Sampling::Shuffle => {
                let epoch = t / n as u64;
                if epoch != self.epoch {
                    self.order.clear();
                    self.order.extend(0..n as u32);
                    let mut rng = stream_rng(self.seed, STREAM_SHUFFLE + epoch);
                    for i in (1..n).rev() {
                        let j = rng.random_range(0..=i);
                        self.order.swap(i, j);
                    }
                    self.epoch = epoch;
                }
                self.order[(t % n as u64) as usize] as usize
            }
        }
    }
}

/// Where a training call stands: the sampler, the prefetched next sample
/// (fused first-layer products) and the samples drawn so far.
struct Run {
    sampler: Sampler,
    next: Option<usize>,
    samples: u64,
}

/// A weight row and its `(writes, Σ|Δw|)` counter.
type RowOut<'a> = (&'a mut [f32], &'a mut (u64, f64));

/// Apply `row` to each `st`-wide weight row of `target` with its tally
/// `(writes, Σ|Δw|)`, in parallel when `par`. Rows are independent, so the
/// result is the same either way.
fn for_each_row<F>(par: bool, target: &mut [f32], st: usize, tallies: &mut [(u64, f64)], row: F)
where
    F: Fn((usize, RowOut<'_>)) + Sync + Send,
{
    if par {
        target
            .par_chunks_mut(st)
            .zip(tallies.par_iter_mut())
            .enumerate()
            .for_each(row);
    } else {
        target
            .chunks_mut(st)
            .zip(tallies.iter_mut())
            .enumerate()
            .for_each(row);
    }
}

/// Factors below this can give products that underflow to zero, which the
/// factorised write count would miss.
const TINY_FACTOR: f32 = 1.0 / (1u64 << 60) as f32;

/// `(non-zeros, Σ|v|, any non-zero |v| < TINY_FACTOR)` of a factor vector;
/// eight partial sums in a fixed order (vectorisable, thread-independent).
fn factor_stats(v: &[f32]) -> (u64, f64, bool) {
    let mut nnz = 0u64;
    let mut tiny = false;
    let mut acc = [0.0f64; 8];
    let chunks = v.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            let m = c[k].abs();
            acc[k] += m as f64;
            nnz += (m != 0.0) as u64;
            tiny |= m != 0.0 && m < TINY_FACTOR;
        }
    }
    for (k, &x) in rest.iter().enumerate() {
        let m = x.abs();
        acc[k] += m as f64;
        nnz += (m != 0.0) as u64;
        tiny |= m != 0.0 && m < TINY_FACTOR;
    }
    (nnz, acc.iter().sum(), tiny)
}

/// Per-layer preallocated buffers of the training step.
#[derive(Debug, Clone, Default, PartialEq)]
struct Scratch {
    /// Masked presynaptic activity (batch 1) and scaled masked errors.
    a: Vec<f32>,
    u: Vec<f32>,
    /// Sorted factor magnitudes for the rank-1 threshold.
    fa: Vec<f32>,
    fb: Vec<f32>,
    /// Per-row threshold and counters `(writes, Σ|Δw|)`.
    thr: Vec<f32>,
    rows: Vec<(u64, f64)>,
    /// Batch > 1: the materialised update and a selection copy.
    grad: Vec<f32>,
    sel: Vec<f32>,
}

/// The network, its plasticity state and its energy counters.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    cfg: Config,
    layers: Vec<Layer>,
    /// Plastic-unit masks of the hidden layers (index = hidden layer − 1).
    paths: Vec<Vec<bool>>,
    samples_seen: u64,
    calls: u64,
    seed: u64,
    // ---- scratch (not state) ----
    act: Vec<Vec<f32>>,
    delta: Vec<Vec<f32>>,
    score: Vec<f32>,
    idx: Vec<u32>,
    scratch: Vec<Scratch>,
    /// Fused forward: the next sample's input and first-layer products.
    next_in: Vec<f32>,
    z0: Vec<f32>,
    z0_ready: bool,
    fuse_next: bool,
}

fn activation_len(cfg: &Config, l: usize) -> usize {
    // Hidden and input layers carry the bias 1 at the end.
    if l + 1 == cfg.sizes.len() {
        cfg.sizes[l]
    } else {
        cfg.sizes[l] + 1
    }
}

impl Mlp {
    /// A new network with weights drawn from `N(0, init_std)` (stream per layer).
    pub fn new(cfg: Config, seed: u64) -> Result<Mlp> {
        cfg.validate()?;
        let normal = Normal::new(0.0f32, cfg.init_std)
            .map_err(|e| Error::Value(format!("init_std: {e}")))?;
        let mut layers = Vec::with_capacity(cfg.n_layers());
        for l in 0..cfg.n_layers() {
            let (n_in, n_out) = (cfg.sizes[l], cfg.sizes[l + 1]);
            let mut rng = stream_rng(seed, STREAM_INIT + l as u64);
            let w: Vec<f32> = (0..n_out * (n_in + 1))
                .map(|_| normal.sample(&mut rng))
                .collect();
            layers.push(Layer {
                n_in,
                n_out,
                w_init: w.clone(),
                long: if cfg.caching.is_some() {
                    w.clone()
                } else {
                    Vec::new()
                },
                short: if cfg.caching.is_some() {
                    vec![0.0; w.len()]
                } else {
                    Vec::new()
                },
                w,
                energy: LayerEnergy::default(),
            });
        }
        let mut paths = Vec::new();
        if let Some(k) = cfg.plastic_units {
            for h in 1..cfg.sizes.len() - 1 {
                let n = cfg.sizes[h];
                let mut mask = vec![false; n];
                if cfg.path_mode == PathMode::Fixed {
                    // Partial Fisher-Yates: a uniform k-subset.
                    let mut rng = stream_rng(seed, STREAM_PATH + h as u64);
                    let mut order: Vec<usize> = (0..n).collect();
                    for i in 0..k {
                        let j = rng.random_range(i..n);
                        order.swap(i, j);
                        mask[order[i]] = true;
                    }
                }
                paths.push(mask);
            }
        }
        let mut m = Mlp {
            cfg,
            layers,
            paths,
            samples_seen: 0,
            calls: 0,
            seed,
            act: Vec::new(),
            delta: Vec::new(),
            score: Vec::new(),
            idx: Vec::new(),
            scratch: Vec::new(),
            next_in: Vec::new(),
            z0: Vec::new(),
            z0_ready: false,
            fuse_next: false,
        };
        m.alloc_scratch();
        Ok(m)
    }

    /// Rebuild from saved state (see the getters); checks every length.
    #[allow(clippy::too_many_arguments)]
    pub fn from_state(
        cfg: Config,
        seed: u64,
        weights: Vec<Vec<f32>>,
        init: Vec<Vec<f32>>,
        long: Vec<Vec<f32>>,
        short: Vec<Vec<f32>>,
        energy: Vec<LayerEnergy>,
        paths: Vec<Vec<bool>>,
        samples_seen: u64,
        calls: u64,
    ) -> Result<Mlp> {
        let mut m = Mlp::new(cfg, seed)?;
        let nl = m.layers.len();
        if weights.len() != nl || init.len() != nl || energy.len() != nl {
            return Err(Error::Shape(format!(
                "state has {} weight layers, the configuration {nl}",
                weights.len()
            )));
        }
        let caching = m.cfg.caching.is_some();
        if caching && (long.len() != nl || short.len() != nl) {
            return Err(Error::Shape("caching state lacks l or s".into()));
        }
        for (l, layer) in m.layers.iter_mut().enumerate() {
            check_len("weights", weights[l].len(), layer.n_out, layer.stride())?;
            check_len(
                "initial weights",
                init[l].len(),
                layer.n_out,
                layer.stride(),
            )?;
            if caching {
                check_len("long weights", long[l].len(), layer.n_out, layer.stride())?;
                check_len("short weights", short[l].len(), layer.n_out, layer.stride())?;
            }
        }
        if paths.len() != m.paths.len()
            || paths.iter().zip(&m.paths).any(|(a, b)| a.len() != b.len())
        {
            return Err(Error::Shape("path masks do not fit the network".into()));
        }
        if let Some(k) = m.cfg.plastic_units {
            if m.cfg.path_mode == PathMode::Fixed
                && paths.iter().any(|p| p.iter().filter(|&&b| b).count() != k)
            {
                return Err(Error::Value(format!(
                    "fixed path masks must hold {k} plastic units"
                )));
            }
        }
        let finite = |v: &Vec<Vec<f32>>| v.iter().all(|x| x.iter().all(|w| w.is_finite()));
        if !finite(&weights) || !finite(&init) || !finite(&long) || !finite(&short) {
            return Err(Error::Value("state holds non-finite weights".into()));
        }
        let mut long = long.into_iter();
        let mut short = short.into_iter();
        for ((layer, (w, wi)), e) in m
            .layers
            .iter_mut()
            .zip(weights.into_iter().zip(init))
            .zip(energy)
        {
            layer.w = w;
            layer.w_init = wi;
            layer.energy = e;
            if caching {
                layer.long = long.next().unwrap_or_default();
                layer.short = short.next().unwrap_or_default();
            }
        }
        m.paths = paths;
        m.samples_seen = samples_seen;
        m.calls = calls;
        Ok(m)
    }

    fn alloc_scratch(&mut self) {
        let cfg = &self.cfg;
        let b = cfg.batch_size;
        self.act = (0..cfg.sizes.len())
            .map(|l| vec![0.0; b * activation_len(cfg, l)])
            .collect();
        self.delta = (1..cfg.sizes.len())
            .map(|l| vec![0.0; b * cfg.sizes[l]])
            .collect();
        let widest = cfg.sizes.iter().copied().max().unwrap_or(0);
        self.score = vec![0.0; widest];
        self.idx = vec![0; widest];
        self.next_in = vec![0.0; cfg.sizes[0] + 1];
        self.z0 = vec![0.0; cfg.sizes[1]];
        self.scratch = (0..cfg.n_layers())
            .map(|l| {
                let (n_in, n_out) = (cfg.sizes[l], cfg.sizes[l + 1]);
                let dense = if b > 1 { n_out * (n_in + 1) } else { 0 };
                Scratch {
                    a: vec![0.0; n_in + 1],
                    u: vec![0.0; n_out],
                    fa: vec![0.0; n_in + 1],
                    fb: vec![0.0; n_out],
                    thr: vec![0.0; n_out],
                    rows: vec![(0, 0.0); n_out],
                    grad: vec![0.0; dense],
                    sel: vec![0.0; dense],
                }
            })
            .collect();
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }
    pub fn paths(&self) -> &[Vec<bool>] {
        &self.paths
    }
    pub fn samples_seen(&self) -> u64 {
        self.samples_seen
    }
    pub fn calls(&self) -> u64 {
        self.calls
    }
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// `(M0_min, M1_min)` of each layer, from the initial to the current weights.
    pub fn minimal_energy(&self) -> Vec<MinimalEnergy> {
        self.layers
            .iter()
            .map(|l| MinimalEnergy::between_dense(&l.w_init, &l.w))
            .collect()
    }

    fn totals(&self) -> (u64, f64, u64, f64) {
        let mut t = (0u64, 0.0f64, 0u64, 0.0f64);
        for (l, m) in self.layers.iter().zip(self.minimal_energy()) {
            t.0 += l.energy.writes;
            t.1 += l.energy.abs_change;
            t.2 += m.writes;
            t.3 += m.abs_change;
        }
        t
    }

    // ------------------------------------------------------------ inference

    fn check_x(&self, x: &[f32], what: &str) -> Result<usize> {
        let n_in = self.cfg.sizes[0];
        if !x.len().is_multiple_of(n_in) {
            return Err(Error::Shape(format!(
                "{what} has {} values, not a multiple of {n_in} features",
                x.len()
            )));
        }
        // Exponent bits all set <=> NaN or infinity; integer ops on chunks
        // without early exit so the scan vectorises.
        const EXP: u32 = 0x7f80_0000;
        if x.chunks(1024).any(|c| {
            c.iter()
                .fold(0u32, |m, v| m | ((v.to_bits() & EXP) == EXP) as u32)
                != 0
        }) {
            return Err(Error::Value(format!("{what} contains NaN or infinity")));
        }
        Ok(x.len() / n_in)
    }

    /// Network outputs (`n × n_out`; softmax probabilities for cross-entropy,
    /// linear outputs otherwise): one GEMM per layer and block of samples,
    /// blocks in parallel.
    pub fn forward(&self, x: &[f32]) -> Result<Vec<f32>> {
        let n = self.check_x(x, "X")?;
        Ok(self.forward_unchecked(x, n))
    }

    fn forward_unchecked(&self, x: &[f32], n: usize) -> Vec<f32> {
        let sizes = &self.cfg.sizes;
        let n_out = *sizes.last().unwrap_or(&0);
        let n_in = sizes[0];
        let mut out = vec![0.0f32; n * n_out];
        if n == 0 || n_out == 0 {
            return out;
        }
        let packed: Vec<kernels::Panels> = self
            .layers
            .iter()
            .map(|l| kernels::Panels::pack(&l.w, l.n_in, l.n_out))
            .collect();
        // Inputs are read in place; the buffers hold hidden activities only.
        let widest = sizes[1..].iter().copied().max().unwrap_or(0);
        // Fixed blocks of samples, each a GEMM per layer: a sample's outputs
        // do not depend on the block it is in, so neither on the thread count.
        out.par_chunks_mut(FORWARD_BLOCK * n_out)
            .enumerate()
            .for_each_init(
                || {
                    (
                        vec![0.0f32; FORWARD_BLOCK * widest],
                        vec![0.0f32; FORWARD_BLOCK * widest],
                    )
                },
                |(cur, next), (blk, o)| {
                    let nb = o.len() / n_out;
                    let s0 = blk * FORWARD_BLOCK;
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
                        self.cfg.activation.apply(z);
                        std::mem::swap(cur, next);
                        src = &cur[..nb * layer.n_out];
                    }
                    if self.cfg.output == OutputKind::SoftmaxXent {
                        o.chunks_mut(n_out).for_each(softmax);
                    }
                },
            );
        out
    }

    /// Fraction of samples whose largest output is the label (first maximum wins).
    pub fn accuracy(&self, x: &[f32], y: &[u32]) -> Result<f64> {
        let n = self.check_x(x, "X")?;
        self.check_y(y, n, "y")?;
        Ok(self.accuracy_unchecked(x, y, n))
    }

    fn accuracy_unchecked(&self, x: &[f32], y: &[u32], n: usize) -> f64 {
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

    fn check_y(&self, y: &[u32], n: usize, what: &str) -> Result<()> {
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

    // ------------------------------------------------------------- training

    /// Train on `spec`; on error (bad input, divergence) the network is unchanged.
    pub fn train(&mut self, spec: &TrainSpec<'_>) -> Result<TrainOutcome> {
        let n = self.check_x(spec.x, "X")?;
        self.check_y(spec.y, n, "y")?;
        if n == 0 {
            return Err(Error::Value("X has no samples".into()));
        }
        if spec.eval_every == 0 {
            return Err(Error::Value("eval_every must be >= 1".into()));
        }
        if let Some(t) = spec.target_accuracy {
            if !(0.0..=1.0).contains(&t) {
                return Err(Error::Value(format!(
                    "target_accuracy must be in [0, 1], got {t}"
                )));
            }
            if spec.eval.is_none() {
                return Err(Error::Value(
                    "target_accuracy needs an evaluation set".into(),
                ));
            }
        }
        if let Some((ex, ey)) = spec.eval {
            let ne = self.check_x(ex, "evaluation X")?;
            self.check_y(ey, ne, "evaluation y")?;
            if ne == 0 {
                return Err(Error::Value("the evaluation set is empty".into()));
            }
        }
        let mut work = self.clone();
        let out = work.train_inner(spec, n)?;
        *self = work;
        Ok(out)
    }

    fn train_inner(&mut self, spec: &TrainSpec<'_>, n: usize) -> Result<TrainOutcome> {
        self.calls += 1;
        // The draw of the t-th training sample (over all calls) depends only
        // on (seed, t): training in one call or in chunks gives the same result.
        let mut run = Run {
            sampler: Sampler {
                sampling: spec.sampling,
                seed: spec.seed,
                n,
                order: Vec::new(),
                epoch: u64::MAX,
            },
            next: None,
            samples: 0,
        };
        self.z0_ready = false;
        let mut out = TrainOutcome::default();
        let stop_early = spec.target_accuracy.is_some();
        // With a second thread, the evaluation of a checkpoint runs on a
        // snapshot while training goes on; if the snapshot reaches the
        // target, training resumes from it (it stops there). Either way the
        // outcome equals the sequential one.
        let speculate = stop_early && rayon::current_num_threads() > 1;
        let mut due = self.segment(spec, &mut run)?;
        while due {
            let Some((ex, ey)) = spec.eval else { break };
            let more = run.samples < spec.max_samples;
            let (acc, snapshot, next_due) = if speculate && more {
                let snapshot = self.clone();
                let (acc, next_due) = rayon::join(
                    || snapshot.accuracy_unchecked(ex, ey, ey.len()),
                    || {
                        let before = run.samples;
                        (self.segment(spec, &mut run), before)
                    },
                );
                (acc, Some((snapshot, next_due.1)), Some(next_due.0))
            } else {
                (self.accuracy_unchecked(ex, ey, ey.len()), None, None)
            };
            let at = snapshot.as_ref().map_or(&*self, |(m, _)| m);
            let (w, a, mw, ma) = at.totals();
            out.history.push(Checkpoint {
                samples: at.samples_seen,
                accuracy: acc,
                writes: w,
                abs_change: a,
                min_writes: mw,
                min_abs_change: ma,
            });
            if spec.target_accuracy.is_some_and(|t| acc >= t) {
                if let Some((m, samples)) = snapshot {
                    *self = m;
                    run.samples = samples;
                }
                out.reached = true;
                break;
            }
            due = match next_due {
                Some(r) => r?,
                None if more => self.segment(spec, &mut run)?,
                None => false,
            };
        }
        out.samples = run.samples;
        Ok(out)
    }

    /// Train until an evaluation is due (`Ok(true)`) or `max_samples` are
    /// drawn without one (`Ok(false)`).
    fn segment(&mut self, spec: &TrainSpec<'_>, run: &mut Run) -> Result<bool> {
        let n_in = self.cfg.sizes[0];
        let bsz = self.cfg.batch_size;
        // Batch 1 without caching: the update of each first-layer row is
        // fused with that row's forward product for the next sample (one
        // pass over the largest matrix per sample instead of two).
        let fuse = bsz == 1 && self.cfg.caching.is_none();
        let mut batch_idx = [0usize; 1];
        let mut big_idx = Vec::new();
        let batch_idx: &mut [usize] = if bsz == 1 {
            &mut batch_idx
        } else {
            big_idx.resize(bsz, 0);
            &mut big_idx
        };
        while run.samples < spec.max_samples {
            let nb = (spec.max_samples - run.samples).min(bsz as u64) as usize;
            for (b, slot) in batch_idx.iter_mut().take(nb).enumerate() {
                let t = self.samples_seen + b as u64;
                *slot = match run.next.take() {
                    Some(i) if b == 0 => i,
                    _ => run.sampler.draw(t),
                };
            }
            for (b, &i) in batch_idx.iter().take(nb).enumerate() {
                let a0 = &mut self.act[0][b * (n_in + 1)..(b + 1) * (n_in + 1)];
                a0[..n_in].copy_from_slice(&spec.x[i * n_in..(i + 1) * n_in]);
                a0[n_in] = 1.0;
            }
            let has_next = fuse && run.samples + 1 < spec.max_samples;
            if has_next {
                let i = run.sampler.draw(self.samples_seen + 1);
                run.next = Some(i);
                self.next_in[..n_in].copy_from_slice(&spec.x[i * n_in..(i + 1) * n_in]);
                self.next_in[n_in] = 1.0;
            }
            self.fuse_next = has_next;
            let labels = &batch_idx[..nb];
            self.step(nb, |b| spec.y[labels[b]] as usize)?;
            let before = self.samples_seen;
            self.samples_seen += nb as u64;
            run.samples += nb as u64;
            if spec.eval.is_some() && self.samples_seen / spec.eval_every > before / spec.eval_every
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// One update from the `nb` samples in `act[0]` with labels `label(b)`.
    fn step(&mut self, nb: usize, label: impl Fn(usize) -> usize) -> Result<()> {
        let nl = self.layers.len();
        let act_fn = self.cfg.activation;
        // ---- forward
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
                    let z = kernels::dot(&layer.w[j * st..(j + 1) * st], a);
                    *o = if last { z } else { act_fn.f(z) };
                };
                if l == 0 && self.z0_ready {
                    for (o, &z) in out[..n_out].iter_mut().zip(&self.z0) {
                        *o = act_fn.f(z);
                    }
                } else if layer.big() {
                    out[..n_out].par_iter_mut().enumerate().for_each(f);
                } else {
                    out[..n_out].iter_mut().enumerate().for_each(f);
                }
                if !last {
                    out[n_out] = 1.0;
                }
            }
        }
        // ---- output error
        let n_out = self.cfg.sizes[nl];
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
                *dk = e.clamp(-self.cfg.error_clip, self.cfg.error_clip);
            }
        }
        // ---- backpropagate (with the weights before this step's update)
        for l in (1..nl).rev() {
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
                        kernels::axpy(acc, &layer.w[k * st..k * st + n_h], e);
                    }
                }
                let y = &self.act[l][b * (n_h + 1)..b * (n_h + 1) + n_h];
                let clip = self.cfg.error_clip;
                for (d, &yj) in acc.iter_mut().zip(y) {
                    *d = (*d * act_fn.df(yj)).clamp(-clip, clip);
                }
            }
        }
        // ---- plastic paths chosen by the error
        if self.cfg.plastic_units.is_some() && self.cfg.path_mode == PathMode::Error {
            let k = self.cfg.plastic_units.unwrap_or(0);
            for h in 1..nl {
                let n = self.cfg.sizes[h];
                let score = &mut self.score[..n];
                score.fill(0.0);
                for b in 0..nb {
                    for (s, d) in score.iter_mut().zip(&self.delta[h - 1][b * n..(b + 1) * n]) {
                        *s += d.abs();
                    }
                }
                let idx = &mut self.idx[..n];
                for (i, v) in idx.iter_mut().enumerate() {
                    *v = i as u32;
                }
                let score = &self.score[..n];
                let rank = |a: &u32, b: &u32| -> Ordering {
                    score[*b as usize]
                        .total_cmp(&score[*a as usize])
                        .then_with(|| a.cmp(b))
                };
                if k < n {
                    idx.select_nth_unstable_by(k - 1, rank);
                }
                let mask = &mut self.paths[h - 1];
                mask.fill(false);
                for &i in &idx[..k] {
                    mask[i as usize] = true;
                }
            }
        }
        // ---- updates
        self.z0_ready = false;
        for l in 0..nl {
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

    fn update_layer(&mut self, l: usize, nb: usize) {
        let nl = self.layers.len();
        let layer = &mut self.layers[l];
        let sc = &mut self.scratch[l];
        let (n_in, n_out, st) = (layer.n_in, layer.n_out, layer.stride());
        let pre_mask: Option<&[bool]> = if l > 0 && !self.paths.is_empty() {
            Some(&self.paths[l - 1])
        } else {
            None
        };
        let post_mask: Option<&[bool]> = if l + 1 < nl && !self.paths.is_empty() {
            Some(&self.paths[l])
        } else {
            None
        };
        let pre_ok = |i: usize| i == n_in || pre_mask.is_none_or(|m| m[i]);
        let post_ok = |j: usize| post_mask.is_none_or(|m| m[j]);
        let eta = self.cfg.learning_rate / nb as f32;
        let p = self.cfg.fractions[l];
        let src = &self.act[l];
        let delta = &self.delta[l];
        let target: &mut Vec<f32> = if self.cfg.caching.is_some() {
            &mut layer.short
        } else {
            &mut layer.w
        };
        let par = target.len() >= PAR_MIN;

        if nb == 1 {
            // Rank-1 update Δw_ji = u_j a_i.
            if pre_mask.is_none() {
                sc.a.copy_from_slice(&src[..st]);
            } else {
                for i in 0..st {
                    sc.a[i] = if pre_ok(i) { src[i] } else { 0.0 };
                }
            }
            for j in 0..n_out {
                sc.u[j] = if post_ok(j) { eta * delta[j] } else { 0.0 };
            }
            let thr_layer = if p >= 1.0 {
                0.0
            } else {
                let mut na = 0;
                for i in (0..st).filter(|&i| pre_ok(i)) {
                    sc.fa[na] = sc.a[i].abs();
                    na += 1;
                }
                let mut nbf = 0;
                for j in (0..n_out).filter(|&j| post_ok(j)) {
                    sc.fb[nbf] = sc.u[j].abs();
                    nbf += 1;
                }
                match self.cfg.selection {
                    Selection::Layer => {
                        let (fa, fb) = (&mut sc.fa[..na], &mut sc.fb[..nbf]);
                        fa.sort_unstable_by(|x, y| x.total_cmp(y));
                        fb.sort_unstable_by(|x, y| y.total_cmp(x));
                        let k = select::kth_index(na * nbf, p);
                        select::kth_product(fa, fb, k)
                    }
                    Selection::Neuron => {
                        let k = select::kth_index(na, p);
                        select::kth_smallest(&mut sc.fa[..na], k)
                    }
                }
            };
            let per_neuron = p < 1.0 && self.cfg.selection == Selection::Neuron;
            for j in 0..n_out {
                sc.thr[j] = if per_neuron {
                    thr_layer * sc.u[j].abs()
                } else {
                    thr_layer
                };
            }
            // Exact factorised counting is possible for an unthresholded
            // update when no product can underflow to zero.
            let (a_nnz, a_abs, a_tiny) = if p >= 1.0 {
                factor_stats(&sc.a)
            } else {
                (0, 0.0, true)
            };
            let plain =
                p >= 1.0 && !a_tiny && sc.u.iter().all(|&v| v == 0.0 || v.abs() >= TINY_FACTOR);
            let (a, u, thr) = (&sc.a, &sc.u, &sc.thr);
            let next: Option<&[f32]> = if l == 0 && self.fuse_next {
                Some(&self.next_in)
            } else {
                None
            };
            let tally = |uj: f32| {
                if uj == 0.0 {
                    (0, 0.0)
                } else {
                    (a_nnz, a_abs * uj.abs() as f64)
                }
            };
            let a_max = if p < 1.0 {
                sc.a.iter().fold(0.0f32, |m, v| m.max(v.abs()))
            } else {
                0.0
            };
            // The update of row j, `(writes, Σ|Δw|)`.
            let update = |j: usize, w: &mut [f32]| {
                let uj = u[j];
                if uj == 0.0 {
                    (0, 0.0)
                } else if plain {
                    kernels::axpy(w, a, uj);
                    tally(uj)
                } else if a_max * uj.abs() < thr[j] {
                    // Rounding is monotone: no product of this row reaches
                    // the threshold, so the row is not touched.
                    (0, 0.0)
                } else {
                    kernels::axpy_thr(w, a, uj, thr[j])
                }
            };
            let row = |(j, ((w, r), z)): (usize, (RowOut<'_>, &mut f32))| match next {
                Some(x) if plain => {
                    *z = kernels::axpy_dot(w, a, u[j], x);
                    *r = tally(u[j]);
                }
                _ => {
                    *r = update(j, w);
                    if let Some(x) = next {
                        *z = kernels::dot(w, x);
                    }
                }
            };
            if l == 0 {
                // The first layer also yields the next sample's products z0,
                // two rows at a time (rows are independent: same result in
                // any grouping or thread count).
                type Pair<'a> = ((&'a mut [f32], &'a mut [(u64, f64)]), &'a mut [f32]);
                let pair = |(c, ((w, r), z)): (usize, Pair<'_>)| {
                    let j = 2 * c;
                    if let (Some(x), true, true) = (next, plain, w.len() == 2 * st) {
                        let (w0, w1) = w.split_at_mut(st);
                        let (z0, z1) = kernels::axpy_dot2(w0, w1, a, (u[j], u[j + 1]), x);
                        (z[0], z[1]) = (z0, z1);
                        (r[0], r[1]) = (tally(u[j]), tally(u[j + 1]));
                        return;
                    }
                    for (k, (wk, (rk, zk))) in w
                        .chunks_mut(st)
                        .zip(r.iter_mut().zip(z.iter_mut()))
                        .enumerate()
                    {
                        row((j + k, ((wk, rk), zk)));
                    }
                };
                let zbuf = &mut self.z0[..];
                if par {
                    target
                        .par_chunks_mut(2 * st)
                        .zip(sc.rows.par_chunks_mut(2))
                        .zip(zbuf.par_chunks_mut(2))
                        .enumerate()
                        .for_each(pair);
                } else {
                    target
                        .chunks_mut(2 * st)
                        .zip(sc.rows.chunks_mut(2))
                        .zip(zbuf.chunks_mut(2))
                        .enumerate()
                        .for_each(pair);
                }
            } else {
                for_each_row(par, target, st, &mut sc.rows, |(j, (w, r))| {
                    *r = update(j, w)
                });
            }
        } else {
            // Materialised update G = η/B Σ_b u_b a_bᵀ (masked).
            let g = &mut sc.grad;
            let fill = |(j, gr): (usize, &mut [f32])| {
                gr.fill(0.0);
                if !post_ok(j) {
                    return;
                }
                for b in 0..nb {
                    let e = eta * delta[b * n_out + j];
                    let a = &src[b * st..(b + 1) * st];
                    for (i, (gi, &ai)) in gr.iter_mut().zip(a).enumerate() {
                        if pre_ok(i) {
                            *gi += e * ai;
                        }
                    }
                }
            };
            if par {
                g.par_chunks_mut(st).enumerate().for_each(fill);
            } else {
                g.chunks_mut(st).enumerate().for_each(fill);
            }
            // Thresholds by selection on a copy of the candidate magnitudes.
            if p >= 1.0 {
                sc.thr.fill(0.0);
            } else {
                match self.cfg.selection {
                    Selection::Layer => {
                        let mut c = 0;
                        for j in (0..n_out).filter(|&j| post_ok(j)) {
                            for i in (0..st).filter(|&i| pre_ok(i)) {
                                sc.sel[c] = g[j * st + i].abs();
                                c += 1;
                            }
                        }
                        let t = select::kth_smallest(&mut sc.sel[..c], select::kth_index(c, p));
                        sc.thr.fill(t);
                    }
                    Selection::Neuron => {
                        for j in 0..n_out {
                            let mut c = 0;
                            for i in (0..st).filter(|&i| pre_ok(i)) {
                                sc.sel[c] = g[j * st + i].abs();
                                c += 1;
                            }
                            sc.thr[j] =
                                select::kth_smallest(&mut sc.sel[..c], select::kth_index(c, p));
                        }
                    }
                }
            }
            let (g, thr) = (&sc.grad, &sc.thr);
            let row = |(j, (w, r)): (usize, (&mut [f32], &mut (u64, f64)))| {
                let mut acc = (0u64, 0.0f64);
                for (wi, &d) in w.iter_mut().zip(&g[j * st..(j + 1) * st]) {
                    let m = d.abs();
                    if m > 0.0 && m >= thr[j] {
                        *wi += d;
                        acc.0 += 1;
                        acc.1 += m as f64;
                    }
                }
                *r = acc;
            };
            for_each_row(par, target, st, &mut sc.rows, row);
        }
        for &(c, s) in &sc.rows {
            layer.energy.writes += c;
            layer.energy.abs_change += s;
        }
    }

    /// Move every transient weight into the persistent one (end of learning),
    /// counting the consolidation energy. No-op without caching.
    pub fn consolidate_all(&mut self) {
        if self.cfg.caching.is_none() {
            return;
        }
        for layer in &mut self.layers {
            let st = layer.stride();
            for j in 0..layer.n_out {
                consolidate_row(layer, j, st);
            }
        }
    }
}

fn consolidate_row(layer: &mut Layer, j: usize, st: usize) {
    let r = j * st..(j + 1) * st;
    let mut moved = false;
    for ((l, s), w) in layer.long[r.clone()]
        .iter_mut()
        .zip(&mut layer.short[r.clone()])
        .zip(&mut layer.w[r])
    {
        if *s != 0.0 {
            layer.energy.consolidation_writes += 1;
            layer.energy.consolidation_energy += s.abs() as f64;
            *l += *s;
            *s = 0.0;
            moved = true;
        }
        *w = *l;
    }
    if moved {
        layer.energy.consolidations += 1;
    }
}

/// After the transient update: maintenance cost, consolidation of neurons
/// whose largest `|s|` exceeds θ, decay, and `w = l + s`.
fn cache_step(layer: &mut Layer, c: Caching) {
    let st = layer.stride();
    let n_out = layer.n_out;
    let mut maint = 0.0f64;
    for j in 0..n_out {
        let s = &layer.short[j * st..(j + 1) * st];
        let (mut sum, mut max) = (0.0f64, 0.0f32);
        for &v in s {
            sum += v.abs() as f64;
            max = max.max(v.abs());
        }
        maint += sum;
        if max > c.threshold {
            consolidate_row(layer, j, st);
        } else {
            let r = j * st..(j + 1) * st;
            for ((w, l), s) in layer.w[r.clone()]
                .iter_mut()
                .zip(&layer.long[r.clone()])
                .zip(&mut layer.short[r])
            {
                if c.decay < 1.0 {
                    *s *= c.decay;
                }
                *w = *l + *s;
            }
        }
    }
    layer.energy.maintenance_energy += c.maintenance_cost * maint;
}

fn softmax(y: &mut [f32]) {
    let m = y.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut s = 0.0f32;
    for v in y.iter_mut() {
        *v = (*v - m).exp();
        s += *v;
    }
    for v in y.iter_mut() {
        *v /= s;
    }
}

fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}
