//! Reserved capacity for continual learning: the role of every hidden unit.
//!
//! A class-incremental stream must not overwrite what earlier classes
//! learned. The layer therefore holds part of its units in reserve:
//!
//! * **plastic** units compete, learn, grow and are pruned (all units in an
//!   ordinary fit);
//! * **consolidated** units have specialised on earlier classes: pruned to
//!   their final budget (the strongest synapses stay), then frozen. They
//!   keep their synapses and threshold, still code every input, but never
//!   enter the competition again, so nothing writes to them;
//! * **reserve** units have no synapses and a zero threshold, so they are
//!   silent (`f(0) = 0`) and cost nothing until recruited: they grow random
//!   initial synapses and become plastic when new classes arrive.
//!
//! The synapse budget a reserve unit would hold is the free budget reported
//! by the estimator.

use super::StructuralNet;
use crate::error::{Error, Result};
use crate::rng::stream_rng;
use crate::synapses::GrowInit;
use rand::seq::SliceRandom;
use rayon::prelude::*;

named_enum! {
    /// What a hidden unit does in learning.
    pub enum UnitRole("unit role") {
        /// Competes and learns (every unit of an ordinary fit).
        Plastic = "plastic",
        /// Specialised and frozen: codes, never learns again.
        Consolidated = "consolidated",
        /// No synapses, silent, waiting to be recruited.
        Reserve = "reserve",
    }
}

impl StructuralNet {
    /// The role of every hidden unit.
    pub fn roles(&self) -> &[UnitRole] {
        &self.roles
    }

    /// Number of units with role `role`.
    pub fn count_role(&self, role: UnitRole) -> usize {
        self.roles.iter().filter(|&&r| r == role).count()
    }

    /// Whether unit `i` learns.
    #[inline]
    pub(super) fn is_plastic(&self, i: usize) -> bool {
        self.roles[i] == UnitRole::Plastic
    }

    /// Whether every unit is plastic (an ordinary fit: no masks needed).
    pub(super) fn all_plastic(&self) -> bool {
        self.roles.iter().all(|&r| r == UnitRole::Plastic)
    }

    /// Put the `n` last plastic units in reserve: their synapses are
    /// removed, their threshold and competitive bias set to 0. Returns the
    /// number of synapses removed.
    pub fn reserve_units(&mut self, n: usize) -> Result<usize> {
        let plastic: Vec<usize> = (0..self.n_hidden).filter(|&i| self.is_plastic(i)).collect();
        if n >= plastic.len() {
            return Err(Error::Value(format!(
                "cannot reserve {n} of {} plastic units: at least one must learn",
                plastic.len()
            )));
        }
        for &i in &plastic[plastic.len() - n..] {
            self.roles[i] = UnitRole::Reserve;
            self.theta[i] = 0.0;
            self.beta[i] = 0.0;
        }
        self.drop_synapses_of(UnitRole::Reserve)
    }

    /// Recruit the `n` first reserve units: each grows `per_unit` synapses
    /// at random positions (row `i` draws stream `i` of `seed`), weights
    /// uniform in `init_weights`, and becomes plastic. Returns the number
    /// of units recruited (fewer when the reserve runs out).
    pub fn recruit(
        &mut self,
        n: usize,
        per_unit: usize,
        init_weights: (f32, f32),
        seed: u64,
    ) -> Result<usize> {
        let (lo, hi) = init_weights;
        if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi) {
            return Err(Error::Value(format!(
                "initial weight range [{lo}, {hi}) must be finite and non-negative"
            )));
        }
        let rows: Vec<usize> = (0..self.n_hidden)
            .filter(|&i| self.roles[i] == UnitRole::Reserve)
            .take(n)
            .collect();
        let per_unit = per_unit.min(self.n_in);
        crate::alloc::check_fits::<(u32, f32)>(
            rows.len().saturating_mul(per_unit),
            "the recruited units' synapses",
        )?;
        let (post, pre) = self.random_candidates(&rows, per_unit, seed);
        self.hidden
            .grow(&post, &pre, None, GrowInit::Uniform(lo, hi), seed)?;
        for &i in &rows {
            self.roles[i] = UnitRole::Plastic;
            self.theta[i] = 0.0;
            self.beta[i] = 0.0;
        }
        Ok(rows.len())
    }

    /// Consolidate every plastic unit: prune its silent synapses and keep
    /// its `max_per_unit` strongest, then freeze it. Returns the number of
    /// units consolidated.
    pub fn consolidate(&mut self, silent_threshold: f32, max_per_unit: usize) -> Result<usize> {
        if !(silent_threshold.is_finite() && silent_threshold >= 0.0) {
            return Err(Error::Value(format!(
                "silent threshold must be finite and >= 0, got {silent_threshold}"
            )));
        }
        let roles = &self.roles;
        self.hidden
            .retain(|i, _, w| roles[i] != UnitRole::Plastic || w.abs() >= silent_threshold);
        self.prune_to_budget(max_per_unit)?;
        let mut n = 0;
        for r in self.roles.iter_mut().filter(|r| **r == UnitRole::Plastic) {
            *r = UnitRole::Consolidated;
            n += 1;
        }
        Ok(n)
    }

    /// Remove every synapse of the units with role `role`.
    fn drop_synapses_of(&mut self, role: UnitRole) -> Result<usize> {
        let roles = &self.roles;
        Ok(self.hidden.retain(|i, _, _| roles[i] != role))
    }

    /// Set the roles (a saved state), checking that reserve units are silent.
    pub(super) fn set_roles(&mut self, roles: Vec<UnitRole>) -> Result<()> {
        crate::error::check_len("unit roles", roles.len(), self.n_hidden, 1)?;
        if !roles.contains(&UnitRole::Plastic) {
            return Err(Error::Value(
                "at least one hidden unit must be plastic".into(),
            ));
        }
        for (i, &r) in roles.iter().enumerate() {
            if r == UnitRole::Reserve && !self.hidden.row(i).0.is_empty() {
                return Err(Error::Value(format!(
                    "reserve unit {i} has synapses (reserve units are silent)"
                )));
            }
        }
        self.roles = roles;
        Ok(())
    }

    /// Up to `n` absent positions per unit of `rows`, drawn uniformly
    /// without replacement (unit `i` from stream `i` of `seed`).
    pub(super) fn random_candidates(
        &self,
        rows: &[usize],
        n: usize,
        seed: u64,
    ) -> (Vec<u32>, Vec<u32>) {
        let d = self.n_in as u32;
        let per: Vec<Vec<u32>> = rows
            .par_iter()
            .map(|&i| {
                let (idx, _) = self.hidden.row(i);
                let mut absent: Vec<u32> =
                    (0..d).filter(|j| idx.binary_search(j).is_err()).collect();
                absent.shuffle(&mut stream_rng(seed ^ 0x5851_f42d_4c95_7f2d, i as u64));
                absent.truncate(n);
                absent
            })
            .collect();
        let mut post = Vec::new();
        let mut pre = Vec::new();
        for (&i, js) in rows.iter().zip(per) {
            for j in js {
                post.push(i as u32);
                pre.push(j);
            }
        }
        (post, pre)
    }
}
