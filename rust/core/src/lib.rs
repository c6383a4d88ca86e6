//! # synaplast-core
//!
//! The pure-Rust core of synaplast: sparse synapse storage with structural
//! plasticity, the kernels that read and write it, and the energy accounting
//! every plasticity rule reports. No Python here: the binding crate
//! (`rust/python`) is a thin layer over this one.
//!
//! Conventions used throughout:
//! * matrices of synapses are stored **by postsynaptic neuron** (one compressed
//!   row per neuron, sorted unique presynaptic indices);
//! * dense activity arrays are row-major `(batch, units)` `f32` slices;
//! * every parallel kernel sums in an order that does not depend on the number
//!   of threads, so results are bit-identical for 1 and N threads;
//! * randomness comes from [`rng::stream_rng`], a seeded ChaCha stream per
//!   independent unit of work (row, sample), again independent of threads.

// Index loops mirror the equations (w_ij, x_bj) and are kept on purpose.
#![allow(clippy::needless_range_loop)]

#[macro_use]
pub mod named;
mod alloc;
pub mod cancel;
pub mod competitive;
pub mod energy;
pub mod eprop;
pub mod error;
pub mod math;
pub mod memory;
pub mod parallel;
pub mod rng;
pub mod state;
pub mod structural_classifier;
pub mod synapses;
pub mod winners;

pub use energy::EnergyCounters;
pub use eprop::Network as EPropNetwork;
pub use error::{Error, Result};
pub use memory::{AssocStore, Patterns};
pub use state::Persist;
pub use structural_classifier::StructuralNet;
pub use synapses::{Clamp, GrowInit, SynapseMatrix};

#[cfg(test)]
pub(crate) mod test_util {
    /// Run `f` on a fresh pool of `threads` rayon threads (thread-count
    /// invariance tests).
    pub fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a test thread pool")
            .install(f)
    }
}
