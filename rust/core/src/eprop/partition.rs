//! Splitting a network by recurrent neuron, for running it over several
//! processes (MPI ranks): a partition holds a contiguous block of recurrent
//! neurons with their incoming synapses (every presynaptic row, restricted
//! to the block's columns) and a copy of the readout and feedback weights.
//! Stepping all partitions and exchanging their spikes after every step
//! ([`Network::run_exchanging`]) computes exactly what the whole network
//! computes: each synapse does the same arithmetic, each neuron sums its
//! inputs in the same (presynaptic) order, and every partition computes the
//! readout, error and readout learning from all spikes in the same order.
//! [`Network::absorb`] writes what the partitions learned back into the
//! whole network; [`Network::absorb_stats`] only their counts (all that a
//! run without learning changes).

use super::archive::Archive;
use super::network::{Network, Stats};
use super::state::NetworkState;
use crate::error::{Error, Result};
use crate::state::Persist;
use crate::synapses::SynapseMatrix;

/// `lo..hi` must be a non-empty block of the `n_rec` recurrent neurons.
pub(super) fn check_block(lo: usize, hi: usize, n_rec: usize) -> Result<()> {
    if lo >= hi || hi > n_rec {
        return Err(Error::Value(format!(
            "a partition needs 0 <= lo < hi <= n_rec = {n_rec}, got {lo}..{hi}"
        )));
    }
    Ok(())
}

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
        check_block(lo, hi, n_rec)?;
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

    /// Take over what the partitions of this network learned since they were
    /// made ([`Network::partition`] or [`Network::random_partition`]): each
    /// entry of `parts` is a partition's state ([`Persist::state`]) and its
    /// synapse index; together they must hold every synapse once. `local` is
    /// this process's partition: the readout (the same in every partition)
    /// and the archive's width (so that the memory reports match one
    /// process's) are taken from it. Weights and Adam moments are copied;
    /// counts are added (steps once). The result is the network at rest, as
    /// restored from its state. On error nothing changes.
    pub fn absorb(&mut self, local: &Network, parts: &[(NetworkState, Vec<usize>)]) -> Result<()> {
        if !self.z_all.is_empty() {
            return Err(Error::Value("a partition cannot absorb partitions".into()));
        }
        if local.cfg != self.cfg {
            return Err(Error::Value(
                "the local partition has another configuration".into(),
            ));
        }
        if parts.is_empty() {
            return Err(Error::Value("absorb needs at least one partition".into()));
        }
        let head = local.state();
        let mut whole = self.state();
        let nnz = whole.synapses.indices.len();
        let adam = !whole.adam.m1.is_empty();
        let mut seen = vec![false; nnz];
        for (k, (part, map)) in parts.iter().enumerate() {
            check_part(&whole, &head, part, map, &mut seen)
                .map_err(|e| Error::Value(format!("partition {k}: {e}")))?;
            let w = whole.synapses.weights.as_mut().expect("checked: weighted");
            let pw = part.synapses.weights.as_deref().unwrap_or(&[]);
            for (i, &s) in map.iter().enumerate() {
                w[s] = pw[i];
                if adam {
                    whole.adam.m1[s] = part.adam.m1[i];
                    whole.adam.m2[s] = part.adam.m2[i];
                    whole.adam.steps[s] = part.adam.steps[i];
                }
            }
            whole.synapses.counters.merge(&part.synapses.counters);
            whole.stats.add_block(&part.stats);
        }
        if seen.iter().any(|&s| !s) {
            return Err(Error::Value(
                "the partitions do not hold every synapse of the network".into(),
            ));
        }
        whole.stats.steps = whole.stats.steps.saturating_add(parts[0].0.stats.steps);
        whole.w_out.clone_from(&head.w_out);
        whole.adam.m1_out.clone_from(&head.adam.m1_out);
        whole.adam.m2_out.clone_from(&head.adam.m2_out);
        whole.adam.steps_out.clone_from(&head.adam.steps_out);
        whole.readout_counters.merge(&head.readout_counters);
        let mut net = Network::from_state(whole)?;
        net.archive = Archive::new(net.z.len(), net.cfg.n_out, local.archive.width);
        *self = net;
        Ok(())
    }

    /// Add the counts of runs of all partitions of this network (one entry
    /// each, e.g. from [`Network::take_stats`]) as [`Network::absorb`] adds
    /// them (steps once), without their weights: a run without learning
    /// changes nothing else that the whole network keeps, so predictions on
    /// partitions need only this, not their states. All entries must count
    /// the same steps. On error nothing changes.
    pub fn absorb_stats(&mut self, parts: &[Stats]) -> Result<()> {
        if !self.z_all.is_empty() {
            return Err(Error::Value("a partition cannot absorb partitions".into()));
        }
        let Some(first) = parts.first() else {
            return Err(Error::Value(
                "absorb_stats needs at least one partition".into(),
            ));
        };
        if parts.iter().any(|p| p.steps != first.steps) {
            return Err(Error::Value(
                "the partitions' counts are of different numbers of steps".into(),
            ));
        }
        for p in parts {
            self.stats.add_block(p);
        }
        self.stats.steps = self.stats.steps.saturating_add(first.steps);
        Ok(())
    }

    /// This network's counts, which restart from zero (so that a partition's
    /// counts are absorbed once).
    pub fn take_stats(&mut self) -> Stats {
        std::mem::take(&mut self.stats)
    }

    /// The first recurrent neuron and the number of neurons this network
    /// holds (`(0, n_rec)` unless it is a partition).
    pub fn neurons(&self) -> (usize, usize) {
        (self.first, self.z.len())
    }
}

impl Stats {
    /// Add one block's counts: sums (saturating: they may come from
    /// untrusted bytes), the largest archive; not the steps, which every
    /// block counts alike.
    fn add_block(&mut self, part: &Stats) {
        self.events = self.events.saturating_add(part.events);
        self.trace_updates = self.trace_updates.saturating_add(part.trace_updates);
        self.optimizer_calls = self.optimizer_calls.saturating_add(part.optimizer_calls);
        self.spikes = self.spikes.saturating_add(part.spikes);
        self.peak_archive_steps = self.peak_archive_steps.max(part.peak_archive_steps);
    }
}

/// A partition's state fits the whole network's (`whole`), agrees with the
/// local partition's (`head`) on the readout, and maps each of its synapses
/// onto a synapse of the same row and the same column offset, not taken yet.
fn check_part(
    whole: &NetworkState,
    head: &NetworkState,
    part: &NetworkState,
    map: &[usize],
    seen: &mut [bool],
) -> Result<()> {
    if part.config != whole.config {
        return Err(Error::Value("another configuration".into()));
    }
    let (syn, psyn) = (&whole.synapses, &part.synapses);
    let n = map.len();
    let weights = psyn.weights.as_ref().map_or(0, Vec::len);
    let adam_len = if whole.adam.m1.is_empty() { 0 } else { n };
    let a = &part.adam;
    if psyn.indptr.len() != syn.indptr.len()
        || psyn.indptr.first() != Some(&0)
        || psyn.indptr.last() != Some(&n)
        || psyn.indices.len() != n
        || weights != n
        || [a.m1.len(), a.m2.len(), a.steps.len()] != [adam_len; 3]
    {
        return Err(Error::Shape(format!(
            "its synapses and learning state do not match its {n} synapse indices"
        )));
    }
    if part.w_out.len() != whole.w_out.len()
        || [a.m1_out.len(), a.m2_out.len(), a.steps_out.len()]
            != [
                whole.adam.m1_out.len(),
                whole.adam.m2_out.len(),
                whole.adam.steps_out.len(),
            ]
    {
        return Err(Error::Shape("its readout does not fit the network".into()));
    }
    if part.w_out != head.w_out || part.adam.m1_out != head.adam.m1_out {
        return Err(Error::Value(
            "its readout weights differ from the local partition's".into(),
        ));
    }
    let mut offset: Option<i64> = None;
    for p in 0..psyn.indptr.len() - 1 {
        let (lo, hi) = (psyn.indptr[p], psyn.indptr[p + 1]);
        if lo > hi || hi > n {
            return Err(Error::Shape("its synapse rows are not ordered".into()));
        }
        for i in lo..hi {
            let s = map[i];
            if !(syn.indptr[p]..syn.indptr[p + 1]).contains(&s) || seen[s] {
                return Err(Error::Value(format!(
                    "synapse index {s} is not a free synapse of row {p}"
                )));
            }
            let shift = syn.indices[s] as i64 - psyn.indices[i] as i64;
            if *offset.get_or_insert(shift) != shift {
                return Err(Error::Value(
                    "its synapse columns are not one block of the network's".into(),
                ));
            }
            seen[s] = true;
        }
    }
    Ok(())
}
