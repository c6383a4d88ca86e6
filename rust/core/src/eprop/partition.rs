//! Splitting a network by recurrent neuron, for running it over several
//! processes (MPI ranks): a partition holds a contiguous block of recurrent
//! neurons with their incoming synapses (every presynaptic row, restricted
//! to the block's columns) and a copy of the readout and feedback weights.
//! Stepping all partitions and exchanging their spikes after every step
//! ([`Network::run_exchanging`]) computes exactly what the whole network
//! computes: each synapse does the same arithmetic, each neuron sums its
//! inputs in the same (presynaptic) order, and every partition computes the
//! readout, error and readout learning from all spikes in the same order.

use super::network::Network;
use crate::error::{Error, Result};
use crate::synapses::SynapseMatrix;

impl Network {
    /// The recurrent neurons `lo..hi` with their incoming synapses, at rest
    /// (like a network restored from its state), and for each of its
    /// synapses the index of that synapse in this network.
    pub fn partition(&self, lo: usize, hi: usize) -> Result<(Network, Vec<usize>)> {
        let (n_pre, n_rec) = (self.cfg.n_pre(), self.cfg.n_rec);
        if !self.z_all.is_empty() {
            return Err(Error::Value(
                "a partition cannot be partitioned again".into(),
            ));
        }
        if lo >= hi || hi > n_rec {
            return Err(Error::Value(format!(
                "a partition needs 0 <= lo < hi <= n_rec = {n_rec}, got {lo}..{hi}"
            )));
        }
        let indptr = self.syn.indptr();
        let idx = self.syn.indices();
        let w = self.syn.weights().unwrap_or(&[]);
        let mut local_ptr = Vec::with_capacity(n_pre + 1);
        local_ptr.push(0usize);
        let (mut local_idx, mut local_w, mut map) = (Vec::new(), Vec::new(), Vec::new());
        for p in 0..n_pre {
            for s in indptr[p]..indptr[p + 1] {
                let j = idx[s] as usize;
                if (lo..hi).contains(&j) {
                    local_idx.push((j - lo) as u32);
                    local_w.push(w[s]);
                    map.push(s);
                }
            }
            local_ptr.push(local_idx.len());
        }
        let syn = SynapseMatrix::from_csr(
            n_pre,
            hi - lo,
            &local_ptr,
            &local_idx,
            Some(&local_w),
            false,
        )?;
        let mut part = Network::with_neurons(
            self.cfg.clone(),
            syn,
            self.w_out.clone(),
            self.feedback.clone(),
            self.sign.clone(),
            lo..hi,
        )?;
        if !self.m1.is_empty() {
            part.m1 = map.iter().map(|&s| self.m1[s]).collect();
            part.m2 = map.iter().map(|&s| self.m2[s]).collect();
            part.nsteps = map.iter().map(|&s| self.nsteps[s]).collect();
            part.m1_out.clone_from(&self.m1_out);
            part.m2_out.clone_from(&self.m2_out);
            part.nsteps_out.clone_from(&self.nsteps_out);
        }
        Ok((part, map))
    }

    /// The first recurrent neuron and the number of neurons this network
    /// holds (`(0, n_rec)` unless it is a partition).
    pub fn neurons(&self) -> (usize, usize) {
        (self.first, self.z.len())
    }
}
