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

mod archive;
mod config;
mod lanes;
mod network;
mod optimizer;
mod partition;
mod run;
mod state;
#[cfg(test)]
mod tests;
mod traces;

pub use config::{Config, Connectivity, Loss, Optimizer, OptimizerKind, Surrogate};
pub use network::{Network, Stats};
pub use run::{Batch, Exchange, RunOptions, RunOutput};
pub use state::{AdamState, NetworkState};
