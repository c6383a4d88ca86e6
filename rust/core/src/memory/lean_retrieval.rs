//! Retrieval from a [`LeanStore`]: integer Willshaw potentials over the
//! shard's columns.
//!
//! A Willshaw potential is the number of potentiated synapses from the
//! active state units, so each query's potentials of this shard's columns
//! are counted from its (at most a few dozen) active rows, exactly as
//! [`super::willshaw::potentials`] counts them over all columns, and the
//! selection is [`super::willshaw::select`] on those counts: the units and
//! values are those of the single-process memory, restricted to the shard.

use super::lean::{segments, LeanStore};
use super::retrieval::{check_shape, self_block_of, serial_len, Mode, RetrieveParams};
use super::willshaw::{self, Count};
use super::Patterns;
use crate::error::{Error, Result};
use rayon::prelude::*;

/// Units selected per query from a shard: query `q` selected the content
/// units `units[indptr[q]..indptr[q + 1]]` (ascending, of the whole
/// memory), whose potentials are `counts[..]` at the same positions.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Selected {
    pub indptr: Vec<usize>,
    pub units: Vec<u32>,
    pub counts: Vec<u32>,
}

/// Per-thread scratch: the counts of the shard's columns.
#[derive(Default)]
struct Scratch {
    x8: Vec<u8>,
    x16: Vec<u16>,
    x32: Vec<u32>,
}

impl LeanStore {
    /// The checks of a retrieval against this memory: the Willshaw rule
    /// (the other rules need counters), and every check of the counter store.
    pub fn check_retrieval(&self, p: &RetrieveParams) -> Result<()> {
        if p.rule.needs_counts() {
            return Err(Error::Type(format!(
                "rule {:?} needs synapse counters, but this memory keeps binary synapses only",
                p.rule
            )));
        }
        check_shape(self.n, self.auto, p)
    }

    fn check_queries(&self, q: &Patterns) -> Result<()> {
        if q.dim != self.m {
            return Err(Error::Shape(format!(
                "queries have {} units, the memory's addresses have {}",
                q.dim, self.m
            )));
        }
        if self.pending_entries() > 0 {
            return Err(Error::Value(
                "the lean store has pending writes: flush() before retrieving".into(),
            ));
        }
        Ok(())
    }

    /// Counts of the state `s` onto this shard's columns into `x` (length
    /// `hi − lo`, overwritten), without the in-block synapses (`i ≠ j` in the
    /// same block of `block` units) when `block > 1` in auto-association.
    /// `s.len()` must not exceed `T::MAX`.
    fn counts<T: Count>(&self, s: &[u32], block: usize, x: &mut [T]) {
        debug_assert!(s.len() <= T::MAX);
        x.fill(T::default());
        let excl = self.auto && block > 1;
        for &i in s {
            for (b, seg) in segments(&self.rows[i as usize], self.n_sub) {
                let x = &mut x[b * self.sub..];
                if excl {
                    let (i, base) = (i as usize, self.lo + b * self.sub);
                    for &o in seg {
                        let j = base + o as usize;
                        if !(i / block == j / block && i != j) {
                            x[o as usize].inc();
                        }
                    }
                } else {
                    for &o in seg {
                        x[o as usize].inc();
                    }
                }
            }
        }
    }

    /// Estimated work of `nq` queries with `active` active units in all.
    fn work(&self, active: usize, nq: usize) -> u64 {
        let per_row = self.nonsilent() as f64 / self.m.max(1) as f64;
        (active as f64 * per_row) as u64 + (nq as u64) * (self.hi - self.lo) as u64
    }

    /// One-step Willshaw potentials of this shard's columns (`batch × (hi − lo)`,
    /// row-major): the columns `lo..hi` of the counter store's potentials.
    pub fn potentials(&self, queries: &Patterns, p: &RetrieveParams) -> Result<Vec<f64>> {
        self.check_retrieval(p)?;
        self.check_queries(queries)?;
        let width = self.hi - self.lo;
        let what = "the potentials (queries x units)";
        let size = crate::error::size_mul(queries.len(), width, what)?;
        crate::alloc::check_fits::<f64>(size, what)?;
        let mut out = crate::alloc::filled(size, 0.0f64, what)?;
        let block = self_block_of(self.n, self.auto, p.mode);
        let min_len = serial_len(
            queries.len(),
            self.work(queries.indices.len(), queries.len()),
        );
        out.par_chunks_mut(width.max(1))
            .enumerate()
            .with_min_len(min_len)
            .for_each_init(Vec::new, |x: &mut Vec<u32>, (q, out)| {
                x.resize(width, 0);
                self.counts(queries.row(q), block, x);
                for (o, &c) in out.iter_mut().zip(x.iter()) {
                    *o = c as f64;
                }
            });
        Ok(out)
    }

    /// One-step threshold or l-WTA selection among this shard's columns.
    /// Threshold: the units whose potential reaches the threshold (the
    /// number of active query units by default), exactly the single-process
    /// memory's units in `lo..hi`. l-WTA: this shard's candidates, the units
    /// at or above the shard's own `l`-th largest potential (ties
    /// included), so the global `l`-th largest is among the union of the
    /// shards' candidates. Hypercolumn retrieval needs the potentials.
    pub fn select(&self, queries: &Patterns, p: &RetrieveParams) -> Result<Selected> {
        self.check_retrieval(p)?;
        self.check_queries(queries)?;
        if let Mode::Hypercolumn(_) = p.mode {
            return Err(Error::Value(
                "hypercolumn retrieval selects from the whole potentials, not a shard".into(),
            ));
        }
        let min_len = serial_len(
            queries.len(),
            self.work(queries.indices.len(), queries.len()),
        );
        let rows: Vec<(Vec<u32>, Vec<u32>)> = (0..queries.len())
            .into_par_iter()
            .with_min_len(min_len)
            .map_init(Scratch::default, |sc, q| {
                let s = queries.row(q);
                if s.len() <= u8::MAX as usize {
                    self.select_one(s, p.mode, &mut sc.x8)
                } else if s.len() <= u16::MAX as usize {
                    self.select_one(s, p.mode, &mut sc.x16)
                } else {
                    self.select_one(s, p.mode, &mut sc.x32)
                }
            })
            .collect();
        let mut out = Selected {
            indptr: Vec::with_capacity(rows.len() + 1),
            ..Selected::default()
        };
        out.indptr.push(0);
        for (units, counts) in rows {
            out.units.extend(units);
            out.counts.extend(counts);
            out.indptr.push(out.units.len());
        }
        Ok(out)
    }

    /// The selected units of the state `s` and their counts.
    fn select_one<T: Count>(&self, s: &[u32], mode: Mode, x: &mut Vec<T>) -> (Vec<u32>, Vec<u32>) {
        let width = self.hi - self.lo;
        x.resize(width, T::default());
        // Threshold and l-WTA never drop self-connections under Willshaw.
        self.counts(s, 0, x);
        let mode = match mode {
            Mode::Wta(l) => Mode::Wta(l.min(width)),
            m => m,
        };
        let local = willshaw::select(x, mode, s.len());
        let counts = local
            .iter()
            .map(|&j| x[j as usize].to_usize() as u32)
            .collect();
        let lo = self.lo as u32;
        (local.into_iter().map(|j| j + lo).collect(), counts)
    }
}
