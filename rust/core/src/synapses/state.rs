//! The saved state of a [`SynapseMatrix`].

use super::SynapseMatrix;
use crate::energy::EnergyCounters;
use crate::error::Result;
use crate::state::Persist;
use serde::{Deserialize, Serialize};

/// Compressed rows, weights and counters of a [`SynapseMatrix`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynapseState {
    pub n_post: usize,
    pub n_pre: usize,
    pub binary: bool,
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub weights: Option<Vec<f32>>,
    pub counters: EnergyCounters,
}

impl Persist for SynapseMatrix {
    type State = SynapseState;
    const KIND: &'static str = "SynapseMatrix";
    const VERSION: u32 = 1;

    fn state(&self) -> SynapseState {
        SynapseState {
            n_post: self.n_post,
            n_pre: self.n_pre,
            binary: self.is_binary(),
            indptr: self.indptr.clone(),
            indices: self.indices.clone(),
            weights: self.weights.clone(),
            counters: self.counters,
        }
    }

    /// Rebuilt through [`SynapseMatrix::from_csr`], which checks every index.
    fn from_state(s: SynapseState) -> Result<Self> {
        let mut m = SynapseMatrix::from_csr(
            s.n_post,
            s.n_pre,
            &s.indptr,
            &s.indices,
            s.weights.as_deref(),
            s.binary,
        )?;
        m.set_counters(s.counters);
        Ok(m)
    }
}
