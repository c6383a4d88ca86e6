//! The saved state of a [`StructuralNet`].

use super::{Inhibition, StructuralNet, UnitRole};
use crate::energy::EnergyCounters;
use crate::error::{Error, Result};
use crate::state::Persist;
use crate::synapses::SynapseState;
use crate::SynapseMatrix;
use serde::{Deserialize, Serialize};

/// Synapses, thresholds, readout, co-activity trace and inhibitory population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StructuralState {
    pub hidden: SynapseState,
    pub theta: Vec<f32>,
    pub beta: Vec<f32>,
    /// Class-major `(n_classes, n_readout_in)`.
    pub readout: Vec<f32>,
    pub readout_bias: Vec<f32>,
    pub readout_counters: EnergyCounters,
    pub n_classes: usize,
    /// Direct input→readout pathway.
    pub direct: bool,
    /// Empty, or `n_hidden × n_in`.
    pub trace: Vec<f32>,
    pub inhibition: Option<Inhibition>,
    /// Role of every hidden unit (reserve capacity for continual learning).
    pub roles: Vec<UnitRole>,
}

impl Persist for StructuralNet {
    type State = StructuralState;
    const KIND: &'static str = "StructuralNet";
    const VERSION: u32 = 3;

    fn state(&self) -> StructuralState {
        StructuralState {
            hidden: self.hidden.state(),
            theta: self.theta.clone(),
            beta: self.beta.clone(),
            readout: self.readout(),
            readout_bias: self.readout_bias.clone(),
            readout_counters: self.readout_counters,
            n_classes: self.n_classes,
            direct: self.direct,
            trace: self.trace.clone(),
            inhibition: self.inhibition.clone(),
            roles: self.roles.clone(),
        }
    }

    fn from_state(s: StructuralState) -> Result<Self> {
        let hidden = SynapseMatrix::from_state(s.hidden)?;
        let mut net = StructuralNet::from_parts(
            hidden,
            s.theta,
            s.beta,
            s.readout,
            s.readout_bias,
            s.n_classes,
            s.direct,
        )?;
        if !(s.trace.is_empty() || s.trace.len() == net.n_hidden * net.n_in)
            || s.trace.iter().any(|t| !(t.is_finite() && *t >= 0.0))
        {
            return Err(Error::Value(
                "the co-activity trace must be empty or n_hidden x n_in finite values >= 0".into(),
            ));
        }
        net.trace = s.trace;
        if let Some(inh) = s.inhibition {
            let mut checked =
                Inhibition::from_parts(net.n_hidden, inh.n_inh, inh.e_to_i, inh.i_to_e)?;
            checked.counters = inh.counters;
            net.set_inhibition(Some(checked))?;
        }
        net.set_roles(s.roles)?;
        net.readout_counters = s.readout_counters;
        Ok(net)
    }
}
