//! The saved state of an [`AssocStore`].

use super::counters::{AssocStore, StoreConfig};
use super::Patterns;
use crate::energy::EnergyCounters;
use crate::error::{Error, Result};
use crate::state::Persist;
use serde::{Deserialize, Serialize};

/// The counters as compressed rows, the unit counts and the pair count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreState {
    pub config: StoreConfig,
    /// A binary store lists its silent synapses instead of the potentiated ones.
    pub inverted: bool,
    /// Row `i` (address unit `i`) lists `indices[indptr[i]..indptr[i + 1]]`.
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    /// `M11` of every listed synapse (`None` for binary stores).
    pub counts: Option<Vec<u32>>,
    /// Unit counts `M1(i)` and `M1(j)`, and the number of stored pairs.
    pub mu1: Vec<u64>,
    pub mv1: Vec<u64>,
    pub n_pairs: u64,
    pub counters: EnergyCounters,
}

impl Persist for AssocStore {
    type State = StoreState;
    const KIND: &'static str = "AssocStore";
    const VERSION: u32 = 1;

    fn state(&self) -> StoreState {
        let mut indptr = Vec::with_capacity(self.m + 1);
        indptr.push(0);
        let mut indices = Vec::with_capacity(self.stored_entries());
        for r in &self.rows {
            indices.extend_from_slice(r);
            indptr.push(indices.len());
        }
        StoreState {
            config: self.config(),
            inverted: self.inverted,
            indptr,
            indices,
            counts: (!self.binary).then(|| self.counts.iter().flatten().copied().collect()),
            mu1: self.mu1.clone(),
            mv1: self.mv1.clone(),
            n_pairs: self.n_pairs,
            counters: self.counters,
        }
    }

    /// Validates every part; the shape is checked against the saved rows and
    /// unit counts before anything of that size is allocated.
    fn from_state(s: StoreState) -> Result<Self> {
        let StoreConfig { m, n, binary, .. } = s.config;
        if s.indptr.len() != m.saturating_add(1) {
            return Err(Error::Shape(format!(
                "indptr has {} entries, expected {}",
                s.indptr.len(),
                m.saturating_add(1)
            )));
        }
        if s.mu1.len() != m || s.mv1.len() != n {
            return Err(Error::Shape("unit counts do not match the shape".into()));
        }
        if s.inverted && !binary {
            return Err(Error::Value("only binary stores can be inverted".into()));
        }
        if s.mu1.iter().chain(s.mv1.iter()).any(|&c| c > s.n_pairs) {
            return Err(Error::Value("a unit count exceeds the pair count".into()));
        }
        let mut store = AssocStore::with_config(&s.config)?;
        let pats = Patterns::new(n, s.indptr, s.indices)?;
        match (binary, s.counts) {
            (true, Some(_)) => return Err(Error::Value("binary stores have no counts".into())),
            (false, None) => return Err(Error::Value("counter stores need counts".into())),
            (false, Some(c)) => {
                check_counts(&c, pats.indices.len(), s.n_pairs)?;
                for i in 0..m {
                    store.counts[i] = c[pats.indptr[i]..pats.indptr[i + 1]].to_vec();
                }
            }
            (true, None) => {}
        }
        for i in 0..m {
            store.rows[i] = pats.row(i).to_vec();
        }
        store.inverted = s.inverted;
        store.mu1 = s.mu1;
        store.mv1 = s.mv1;
        store.n_pairs = s.n_pairs;
        store.counters = s.counters;
        Ok(store)
    }
}

fn check_counts(c: &[u32], entries: usize, n_pairs: u64) -> Result<()> {
    if c.len() != entries {
        return Err(Error::Shape("counts and indices differ in length".into()));
    }
    if c.iter().any(|&x| x == 0 || x as u64 > n_pairs) {
        return Err(Error::Value(
            "counts must lie in [1, number of pairs]".into(),
        ));
    }
    Ok(())
}
