//! The Hebbian weight change of the winners' input synapses.
//!
//! Instar learning with postsynaptically gated decay: for a unit `i` that
//! won `c_i` samples of the batch, with `s_ij = Σ_b y_bi x_bj` the summed
//! presynaptic rates of its wins,
//!
//! * additive: `Δw_ij = η (s_ij − c_i w_ij)`; potentiation does not depend on
//!   the weight, depression grows with it (van Rossum, Bi & Turrigiano 2000).
//!   From the paper's small initial weights every synapse of a unit moves
//!   by the same fraction `1 − (1 − η)^n` of the way to `E[x_j | win]`
//!   after `n` wins, so the weights pile up just below that bound;
//! * multiplicative: `Δw_ij = η w_ij (s_ij − c_i w_ij)`, i.e.
//!   `Δ log w_ij ≈ η (x_bj − w_ij)` per win: both potentiation and
//!   depression are proportional to the synapse's current strength, as
//!   measured for spines, whose changes scale with their size (Matsuzaki
//!   et al. 2004; Loewenstein, Kuras & Rumpel 2011). A weight is then a
//!   product of factors `1 + η (x_bj − w_ij)`, one per win, and its
//!   logarithm a sum (the multiplicative-dynamics account of lognormal
//!   spine sizes), while the fixed point `w_ij = E[x_j | win]` and the
//!   soft bound (growth stops as `w` reaches the input it sees) are the
//!   additive rule's: the path differs, not the destination, so the weights
//!   spread in `ln w` only as far as the inputs' `E[x_j | win]` and the
//!   number of wins do (on MNIST's default model they do not become
//!   lognormal, see `benches/RESULTS.md`). Zero is absorbing: grown
//!   synapses start positive.
//!
//! Consolidated synapses (`w ≥ w_consolidate`) are frozen; the caller
//! clamps the result to `[0, w_max]`.

use crate::synapses::SynapseMatrix;

named_enum! {
    /// How the Hebbian change depends on the synapse's current weight.
    #[derive(Default)]
    pub enum WeightDependence("weight_dependence") {
        /// `Δw = η (x − w)` per win: potentiation independent of `w`.
        #[default]
        Additive = "additive",
        /// `Δw = η w (x − w)` per win: changes proportional to `w`.
        Multiplicative = "multiplicative",
    }
}

/// The change of one synapse of weight `w` whose unit won `c` samples in
/// which its input summed to `s`.
#[inline]
pub fn hebbian_delta(dep: WeightDependence, eta: f32, w: f32, s: f32, c: f32) -> f32 {
    let d = eta * (s - c * w);
    match dep {
        WeightDependence::Additive => d,
        WeightDependence::Multiplicative => w * d,
    }
}

/// The changed rows (ascending) and their deltas in storage order, for the
/// wins `pairs` (`(unit, sample)`, grouped by unit, samples ascending) of
/// the batch `xb` (`batch × d`).
pub(super) fn winner_deltas(
    hidden: &SynapseMatrix,
    pairs: &[(u32, u32)],
    xb: &[f32],
    d: usize,
    eta: f32,
    dep: WeightDependence,
    frozen: Option<f32>,
) -> (Vec<u32>, Vec<f32>) {
    let indptr = hidden.indptr();
    let indices = hidden.indices();
    let weights = hidden.weights().expect("hidden synapses are weighted");
    let mut rows = Vec::new();
    let mut delta = Vec::new();
    for group in pairs.chunk_by(|a, b| a.0 == b.0) {
        let i = group[0].0 as usize;
        let c = group.len() as f32;
        rows.push(i as u32);
        for k in indptr[i]..indptr[i + 1] {
            let w = weights[k];
            if frozen.is_some_and(|t| w >= t) {
                delta.push(0.0);
                continue;
            }
            let j = indices[k] as usize;
            let s: f32 = group.iter().map(|&(_, b)| xb[b as usize * d + j]).sum();
            delta.push(hebbian_delta(dep, eta, w, s, c));
        }
    }
    (rows, delta)
}
