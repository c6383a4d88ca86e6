//! The saved state of a [`Network`]: configuration, weights, Adam moments
//! and counters. Membranes, traces and the archive are not kept: a
//! restored network starts its next sequence from rest, as every sequence
//! does with `reset_each_sequence`.

use super::config::Config;
use super::network::{Network, Stats};
use crate::energy::EnergyCounters;
use crate::error::{Error, Result};
use crate::state::Persist;
use crate::synapses::SynapseState;
use crate::SynapseMatrix;
use serde::{Deserialize, Serialize};

/// Adam moments and step counts of the input/recurrent and readout synapses
/// (all empty for gradient descent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AdamState {
    pub m1: Vec<f32>,
    pub m2: Vec<f32>,
    pub steps: Vec<u32>,
    pub m1_out: Vec<f32>,
    pub m2_out: Vec<f32>,
    pub steps_out: Vec<u32>,
}

/// Everything a [`Network`] learned, with its configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkState {
    pub config: Config,
    /// Rows = presynaptic neurons.
    pub synapses: SynapseState,
    pub w_out: Vec<f32>,
    pub feedback: Vec<f32>,
    pub sign: Vec<i8>,
    pub adam: AdamState,
    pub readout_counters: EnergyCounters,
    pub stats: Stats,
}

impl Network {
    /// Adam moments and step counts.
    pub fn adam_state(&self) -> AdamState {
        AdamState {
            m1: self.m1.clone(),
            m2: self.m2.clone(),
            steps: self.nsteps.clone(),
            m1_out: self.m1_out.clone(),
            m2_out: self.m2_out.clone(),
            steps_out: self.nsteps_out.clone(),
        }
    }

    /// Restore Adam moments (lengths must match, or all be empty).
    fn set_adam_state(&mut self, s: AdamState) -> Result<()> {
        let ok = s.m1.len() == self.m1.len()
            && s.m2.len() == self.m2.len()
            && s.steps.len() == self.nsteps.len()
            && s.m1_out.len() == self.m1_out.len()
            && s.m2_out.len() == self.m2_out.len()
            && s.steps_out.len() == self.nsteps_out.len();
        if !ok {
            return Err(Error::Shape("Adam state does not fit the network".into()));
        }
        self.m1 = s.m1;
        self.m2 = s.m2;
        self.nsteps = s.steps;
        self.m1_out = s.m1_out;
        self.m2_out = s.m2_out;
        self.nsteps_out = s.steps_out;
        Ok(())
    }
}

impl Persist for Network {
    type State = NetworkState;
    const KIND: &'static str = "EPropNetwork";
    const VERSION: u32 = 1;

    fn state(&self) -> NetworkState {
        NetworkState {
            config: self.cfg.clone(),
            synapses: self.syn.state(),
            w_out: self.w_out.clone(),
            feedback: self.feedback.clone(),
            sign: self.sign.clone(),
            adam: self.adam_state(),
            readout_counters: self.out_counters,
            stats: self.stats,
        }
    }

    fn from_state(s: NetworkState) -> Result<Self> {
        let syn = SynapseMatrix::from_state(s.synapses)?;
        let mut net = Network::new(s.config, syn, s.w_out, s.feedback, s.sign)?;
        net.set_adam_state(s.adam)?;
        net.out_counters = s.readout_counters;
        net.stats = s.stats;
        Ok(net)
    }
}
