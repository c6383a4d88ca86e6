//! Energy accounting of plasticity (van Rossum & Pache 2024).
//!
//! The metabolic cost of learning is modelled as `M_α = Σ_synapses Σ_updates |Δw|^α`:
//! `α = 0` counts synaptic writes (`M0`), `α = 1` sums the absolute changes
//! (`M1`). Counters live next to the weights and are advanced by the kernels
//! that write them, never recomputed afterwards.

/// Running totals of what plasticity did to a set of synapses.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EnergyCounters {
    /// Number of synaptic weight writes with a non-zero change (`M0`).
    pub writes: u64,
    /// Sum of absolute weight changes over all writes (`M1`).
    pub abs_change: f64,
    /// Synapses created by structural plasticity.
    pub grown: u64,
    /// Synapses removed by structural plasticity.
    pub pruned: u64,
}

impl EnergyCounters {
    /// Add `writes` writes that changed the weights by `abs_change` in total.
    #[inline]
    pub fn record(&mut self, writes: u64, abs_change: f64) {
        self.writes += writes;
        self.abs_change += abs_change;
    }

    /// Add another set of counters to this one.
    pub fn merge(&mut self, other: &EnergyCounters) {
        self.writes += other.writes;
        self.abs_change += other.abs_change;
        self.grown += other.grown;
        self.pruned += other.pruned;
    }
}

/// Count one weight write of absolute change `change` into a per-task
/// `(writes, Σ|Δw|)` tally; a zero change is no write.
#[inline(always)]
pub fn tally(acc: &mut (u64, f64), change: f32) {
    if change != 0.0 {
        acc.0 += 1;
        acc.1 += change as f64;
    }
}

/// The minimal energy to get from one weight configuration to another:
/// every synapse that differs is written once, by exactly its difference.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MinimalEnergy {
    /// Synapses whose final weight differs from the initial one (`M0_min`).
    pub writes: u64,
    /// `Σ |w_final − w_initial|` (`M1_min`).
    pub abs_change: f64,
}

impl MinimalEnergy {
    /// Minimal energy between two dense weight vectors of equal length.
    pub fn between_dense(initial: &[f32], fin: &[f32]) -> MinimalEnergy {
        let mut m = MinimalEnergy::default();
        for (a, b) in initial.iter().zip(fin) {
            if a != b {
                m.writes += 1;
                m.abs_change += (*b as f64 - *a as f64).abs();
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_energy_counts_only_changed_synapses() {
        let m = MinimalEnergy::between_dense(&[0.0, 1.0, 2.0], &[0.0, 1.5, 1.0]);
        assert_eq!(m.writes, 2);
        assert!((m.abs_change - 1.5).abs() < 1e-12);
    }
}
