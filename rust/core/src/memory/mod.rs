//! Neural associative memories (Willshaw, optimal Bayesian, BCPNN and linear rules).
//!
//! Patterns are binary and sparse, so they travel as compressed rows
//! ([`Patterns`]: one sorted list of active units per pattern). The memory
//! keeps what the learning rules need and nothing more ([`AssocStore`]):
//!
//! * the **synapse counters** `M11(i, j)` (how many stored pairs had address
//!   unit `i` and content unit `j` active together), stored sparsely *by
//!   presynaptic (address) unit*: one sorted list of content units per address
//!   unit, with a `u32` count each. Only co-activations that occurred take
//!   memory. For the Willshaw rule (clipped Hebb) the counts are dropped and
//!   only the list of potentiated synapses is kept (`u32` index each);
//! * the **unit counts** `M1(i)` of the address units, `M1(j)` of the content
//!   units, and the number of stored pairs `M`. Every other counter follows:
//!   `M10 = M1(i) − M11`, `M01 = M1(j) − M11`, `M00 = M − M1(i) − M1(j) + M11`.
//!
//! Weights are computed from the counters when they are read (see
//! [`rules`]), so a rule never has to be re-learned when more pairs arrive or
//! when the query-noise parameters change. The store is pre-major (not
//! post-major like [`crate::SynapseMatrix`]) because retrieval scatters the
//! rows of the few active query units into the dendritic potentials.
//!
//! A column shard of a Willshaw memory can instead be a [`LeanStore`]:
//! `u16` offsets inside sub-blocks of its columns, 2 bytes per potentiated
//! synapse, with pending buffers so storing never holds a second copy.
//!
//! Structural compression ([`AssocStore::compress`]) keeps the minority state
//! of binary synapses: the potentiated synapses while the matrix load
//! `p1 ≤ 0.5`, the silent ones once `p1 > 0.5`.

mod counters;
mod dense;
mod lean;
mod lean_retrieval;
#[cfg(test)]
mod lean_tests;
mod merge;
pub mod retrieval;
pub mod rules;
mod state;
#[cfg(test)]
mod tests;
pub mod willshaw;

pub use counters::{AssocStore, StoreConfig};
pub use lean::LeanStore;
pub use lean_retrieval::Selected;
pub use retrieval::{Mode, Retrieval, RetrieveParams, Retrieved};
pub use rules::Rule;
pub use state::StoreState;

use crate::error::{Error, Result};

/// Binary patterns as compressed rows: row `r` holds the active units
/// `indices[indptr[r]..indptr[r + 1]]`, strictly increasing and `< dim`.
#[derive(Debug, Clone, PartialEq)]
pub struct Patterns {
    pub dim: usize,
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
}

impl Patterns {
    /// Validated compressed rows.
    pub fn new(dim: usize, indptr: Vec<usize>, indices: Vec<u32>) -> Result<Self> {
        if dim > u32::MAX as usize {
            return Err(Error::Value(format!(
                "at most {} units are supported, got {dim}",
                u32::MAX
            )));
        }
        if indptr.is_empty() || indptr[0] != 0 {
            return Err(Error::Shape("indptr must start with 0".into()));
        }
        if *indptr.last().unwrap_or(&0) != indices.len() {
            return Err(Error::Shape(format!(
                "indptr ends at {} but there are {} indices",
                indptr.last().unwrap_or(&0),
                indices.len()
            )));
        }
        for r in 0..indptr.len() - 1 {
            let (a, b) = (indptr[r], indptr[r + 1]);
            // b past the end is a decreasing entry further on: refuse it here,
            // before slicing.
            if b < a || b > indices.len() {
                return Err(Error::Shape("indptr must be non-decreasing".into()));
            }
            let row = &indices[a..b];
            for (t, &j) in row.iter().enumerate() {
                if j as usize >= dim {
                    return Err(Error::Index(format!(
                        "pattern {r} has unit {j}, but patterns have {dim} units"
                    )));
                }
                if t > 0 && row[t - 1] >= j {
                    return Err(Error::Value(format!(
                        "pattern {r}: active units must be strictly increasing"
                    )));
                }
            }
        }
        Ok(Patterns {
            dim,
            indptr,
            indices,
        })
    }

    /// Build from a list of rows (each strictly increasing); for tests and kernels.
    pub fn from_rows(dim: usize, rows: &[Vec<u32>]) -> Result<Self> {
        let mut indptr = Vec::with_capacity(rows.len() + 1);
        indptr.push(0);
        let mut indices = Vec::new();
        for r in rows {
            indices.extend_from_slice(r);
            indptr.push(indices.len());
        }
        Self::new(dim, indptr, indices)
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.indptr.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Active units of pattern `r`.
    #[inline]
    pub fn row(&self, r: usize) -> &[u32] {
        &self.indices[self.indptr[r]..self.indptr[r + 1]]
    }
}
