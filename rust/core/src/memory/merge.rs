//! Merging two memories: the memory that stored both sets of pairs.
//!
//! A memory's state is a sum over its stored pairs (synapse counters, unit
//! counts, the pair count), so two memories of the same shape and kind that
//! stored disjoint sets of pairs add up exactly: integer counts add, a
//! clipped (Willshaw) synapse is potentiated if it is in either. The result
//! equals, bit for bit, the memory that stored all pairs in one call, so
//! blocks of a pattern stream larger than memory can be stored separately
//! (in other processes) and merged.

use super::counters::{merge_union, AssocStore};
use crate::error::{Error, Result};
use rayon::prelude::*;

/// Row `(ia, ca)` plus row `(ib, cb)` (sorted units with their counts),
/// and the number of units new in `ib`.
fn add_counts(ia: &[u32], ca: &[u32], ib: &[u32], cb: &[u32]) -> (Vec<u32>, Vec<u32>, u64) {
    let mut out_i = Vec::with_capacity(ia.len() + ib.len());
    let mut out_c = Vec::with_capacity(ia.len() + ib.len());
    let (mut a, mut b, mut grown) = (0usize, 0usize, 0u64);
    while a < ia.len() || b < ib.len() {
        if b >= ib.len() || (a < ia.len() && ia[a] < ib[b]) {
            out_i.push(ia[a]);
            out_c.push(ca[a]);
            a += 1;
        } else if a >= ia.len() || ib[b] < ia[a] {
            out_i.push(ib[b]);
            out_c.push(cb[b]);
            grown += 1;
            b += 1;
        } else {
            out_i.push(ia[a]);
            out_c.push(ca[a] + cb[b]);
            a += 1;
            b += 1;
        }
    }
    out_i.shrink_to_fit();
    out_c.shrink_to_fit();
    (out_i, out_c, grown)
}

impl AssocStore {
    /// The potentiated synapses of row `i` (the complement of the listed
    /// ones in an inverted binary store).
    fn potentiated_row(&self, i: usize) -> Vec<u32> {
        if !self.inverted {
            return self.rows[i].clone();
        }
        let row = &self.rows[i];
        let mut a = 0usize;
        (0..self.n as u32)
            .filter(|&j| {
                let silent = a < row.len() && row[a] == j;
                a += usize::from(silent);
                !silent
            })
            .collect()
    }

    /// Add the pairs stored in `other`, a memory of the same shape and kind.
    /// Afterwards this memory is (bit for bit, energy counters included) the
    /// one that stored both sets of pairs; a compressed binary store comes
    /// back uncompressed (call [`Self::compress`] again). Checks everything
    /// before changing anything; a cancelled call changes nothing.
    pub fn merge(&mut self, other: &AssocStore) -> Result<()> {
        if self.config() != other.config() {
            return Err(Error::Shape(format!(
                "cannot merge memories of different shape or kind: {:?} and {:?}",
                self.config(),
                other.config()
            )));
        }
        if self.n_pairs + other.n_pairs > u32::MAX as u64 {
            return Err(Error::Value(format!(
                "at most {} pairs can be stored (u32 counters)",
                u32::MAX
            )));
        }
        let cancel = crate::cancel::current();
        type NewRow = Option<(Vec<u32>, Vec<u32>, u64)>;
        let new_rows: Vec<NewRow> = (0..self.m)
            .into_par_iter()
            .map(|i| {
                if cancel.is_cancelled() {
                    return None;
                }
                if self.binary {
                    let (mine, theirs) = (self.potentiated_row(i), other.potentiated_row(i));
                    let (r, added) = merge_union(&mine, &theirs);
                    Some((r, Vec::new(), added))
                } else {
                    let (r, c, g) = add_counts(
                        &self.rows[i],
                        &self.counts[i],
                        &other.rows[i],
                        &other.counts[i],
                    );
                    Some((r, c, g))
                }
            })
            .collect();
        cancel.check()?; // still unchanged
        let mut added = 0u64;
        for (i, new) in new_rows.into_iter().enumerate() {
            let (r, c, g) = new.ok_or_else(crate::cancel::interrupted)?;
            self.rows[i] = r;
            if !self.binary {
                self.counts[i] = c;
            }
            added += g;
        }
        self.inverted = false;
        for (a, b) in self.mu1.iter_mut().zip(&other.mu1) {
            *a += b;
        }
        for (a, b) in self.mv1.iter_mut().zip(&other.mv1) {
            *a += b;
        }
        self.n_pairs += other.n_pairs;
        if self.binary {
            // A clipped synapse is written once: the ones new to this memory.
            self.counters.record(added, added as f64);
        } else {
            // Every co-activation of `other` incremented one counter.
            self.counters
                .record(other.counters.writes, other.counters.abs_change);
            self.counters.grown += added;
        }
        Ok(())
    }
}
