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

mod caching;
mod config;
mod forward;
pub mod kernels;
mod network;
pub mod select;
mod state;
mod step;
#[cfg(test)]
mod tests;
mod train;
mod update;

pub use config::{Activation, Caching, Config, OutputKind, PathMode, Sampling, Selection};
pub use network::{Layer, LayerEnergy, Mlp};
pub use state::{LayerState, MlpState};
pub use train::{Checkpoint, Schedule, TrainOutcome, TrainSpec};

/// Layers are processed row-parallel from twice this many weights on.
const SPLIT: crate::parallel::Split = crate::parallel::Split::new(1 << 16);
/// Samples per GEMM block (and per parallel task) of batched forward passes.
const FORWARD_BLOCK: usize = 256;
/// Random stream numbers (the layer index is added).
const STREAM_INIT: u64 = 0;
const STREAM_PATH: u64 = 1 << 20;
const STREAM_SAMPLE: u64 = 1 << 40;
const STREAM_SHUFFLE: u64 = 1 << 62;
