//! The network, its plasticity state, its energy counters and the
//! preallocated buffers of the training step.

use super::config::Config;
use super::{PathMode, SPLIT, STREAM_INIT, STREAM_PATH};
use crate::energy::MinimalEnergy;
use crate::error::{Error, Result};
use crate::rng::stream_rng;
use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

/// Energy spent on one weight layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, PartialEq)]
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

/// Copies split across threads when large ([`crate::parallel::copy_of`]):
/// every training call copies the network.
impl Clone for Layer {
    fn clone(&self) -> Self {
        use crate::parallel::copy_of;
        Layer {
            n_in: self.n_in,
            n_out: self.n_out,
            w: copy_of(&self.w),
            w_init: copy_of(&self.w_init),
            long: copy_of(&self.long),
            short: copy_of(&self.short),
            energy: self.energy,
        }
    }
}

impl Layer {
    #[inline]
    pub fn stride(&self) -> usize {
        self.n_in + 1
    }
    pub(super) fn big(&self) -> bool {
        SPLIT.parallel(self.w.len())
    }
}

/// Per-layer preallocated buffers of the training step.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Scratch {
    /// Masked presynaptic activity (batch 1) and scaled masked errors.
    pub a: Vec<f32>,
    pub u: Vec<f32>,
    /// Sorted factor magnitudes for the rank-1 threshold.
    pub fa: Vec<f32>,
    pub fb: Vec<f32>,
    /// The radix sort's second buffer and the threshold's candidates.
    pub tmp: Vec<f32>,
    pub cand: Vec<f32>,
    /// Per-row threshold and counters `(writes, Σ|Δw|)`.
    pub thr: Vec<f32>,
    pub rows: Vec<(u64, f64)>,
    /// Batch > 1: the materialised update and a selection copy.
    pub grad: Vec<f32>,
    pub sel: Vec<f32>,
}

impl Scratch {
    fn new(n_in: usize, n_out: usize, batch: usize) -> Self {
        let dense = if batch > 1 { n_out * (n_in + 1) } else { 0 };
        Scratch {
            a: vec![0.0; n_in + 1],
            u: vec![0.0; n_out],
            fa: vec![0.0; n_in + 1],
            fb: vec![0.0; n_out],
            tmp: vec![0.0; (n_in + 1).max(n_out)],
            cand: vec![0.0; super::select::CANDIDATES.min((n_in + 1) * n_out)],
            thr: vec![0.0; n_out],
            rows: vec![(0, 0.0); n_out],
            grad: vec![0.0; dense],
            sel: vec![0.0; dense],
        }
    }
}

/// The network, its plasticity state and its energy counters.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    pub(super) cfg: Config,
    pub(super) layers: Vec<Layer>,
    /// Plastic-unit masks of the hidden layers (index = hidden layer − 1).
    pub(super) paths: Vec<Vec<bool>>,
    pub(super) samples_seen: u64,
    pub(super) calls: u64,
    pub(super) seed: u64,
    // ---- scratch (not state) ----
    pub(super) act: Vec<Vec<f32>>,
    pub(super) delta: Vec<Vec<f32>>,
    pub(super) score: Vec<f32>,
    pub(super) idx: Vec<u32>,
    pub(super) scratch: Vec<Scratch>,
    /// Fused forward: the next sample's input and first-layer products.
    pub(super) next_in: Vec<f32>,
    pub(super) z0: Vec<f32>,
    pub(super) z0_ready: bool,
    pub(super) fuse_next: bool,
}

/// Weights of every layer from `N(0, init_std)`, one stream per layer.
fn initial_layers(cfg: &Config, seed: u64) -> Result<Vec<Layer>> {
    let normal =
        Normal::new(0.0f32, cfg.init_std).map_err(|e| Error::Value(format!("init_std: {e}")))?;
    let caching = cfg.caching.is_some();
    Ok((0..cfg.n_layers())
        .map(|l| {
            let (n_in, n_out) = (cfg.sizes[l], cfg.sizes[l + 1]);
            let mut rng = stream_rng(seed, STREAM_INIT + l as u64);
            let w: Vec<f32> = (0..n_out * (n_in + 1))
                .map(|_| normal.sample(&mut rng))
                .collect();
            Layer {
                n_in,
                n_out,
                w_init: w.clone(),
                long: if caching { w.clone() } else { Vec::new() },
                short: if caching {
                    vec![0.0; w.len()]
                } else {
                    Vec::new()
                },
                w,
                energy: LayerEnergy::default(),
            }
        })
        .collect())
}

/// Plastic-unit masks: a uniform `k`-subset per hidden layer for fixed
/// paths (partial Fisher-Yates), all false for error-chosen ones.
fn initial_paths(cfg: &Config, seed: u64) -> Vec<Vec<bool>> {
    let Some(k) = cfg.plastic_units else {
        return Vec::new();
    };
    (1..cfg.sizes.len() - 1)
        .map(|h| {
            let n = cfg.sizes[h];
            let mut mask = vec![false; n];
            if cfg.path_mode == PathMode::Fixed {
                let mut rng = stream_rng(seed, STREAM_PATH + h as u64);
                let mut order: Vec<usize> = (0..n).collect();
                for i in 0..k {
                    let j = rng.random_range(i..n);
                    order.swap(i, j);
                    mask[order[i]] = true;
                }
            }
            mask
        })
        .collect()
}

impl Mlp {
    /// A new network with weights drawn from `N(0, init_std)` (stream per layer).
    pub fn new(cfg: Config, seed: u64) -> Result<Mlp> {
        cfg.validate()?;
        let layers = initial_layers(&cfg, seed)?;
        let paths = initial_paths(&cfg, seed);
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

    fn alloc_scratch(&mut self) {
        let cfg = &self.cfg;
        let b = cfg.batch_size;
        self.act = (0..cfg.sizes.len())
            .map(|l| vec![0.0; b * cfg.activation_len(l)])
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
            .map(|l| Scratch::new(cfg.sizes[l], cfg.sizes[l + 1], b))
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

    /// `(M0, M1, M0_min, M1_min)` summed over the layers.
    pub(super) fn totals(&self) -> (u64, f64, u64, f64) {
        let mut t = (0u64, 0.0f64, 0u64, 0.0f64);
        for (l, m) in self.layers.iter().zip(self.minimal_energy()) {
            t.0 += l.energy.writes;
            t.1 += l.energy.abs_change;
            t.2 += m.writes;
            t.3 += m.abs_change;
        }
        t
    }
}
