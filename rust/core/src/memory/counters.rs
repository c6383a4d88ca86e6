//! The sparse counter store of an associative memory.

use super::Patterns;
use crate::energy::EnergyCounters;
use crate::error::{Error, Result};
use crate::math::CsrTranspose;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Synapse counters `M11(i, j)` by address unit, unit counts and pair count.
///
/// `rows[i]` lists the content units `j` whose synapse from address unit `i`
/// has `M11(i, j) > 0` (strictly increasing); `counts[i]` holds those
/// counts unless the store is binary (Willshaw), in which case only the
/// list is kept. A binary store that is `inverted` (after [`Self::compress`]
/// with `p1 > 0.5`) lists the **silent** synapses instead.
#[derive(Debug, Clone, PartialEq)]
pub struct AssocStore {
    pub(super) m: usize,
    pub(super) n: usize,
    pub(super) binary: bool,
    pub(super) auto: bool,
    pub(super) inverted: bool,
    pub(super) rows: Vec<Vec<u32>>,
    pub(super) counts: Vec<Vec<u32>>,
    pub(super) mu1: Vec<u64>,
    pub(super) mv1: Vec<u64>,
    pub(super) n_pairs: u64,
    pub(super) counters: EnergyCounters,
}

/// Row `(idx, cnt)` (counts) with the sorted multiset `new` merged in, and
/// the number of synapses that became non-silent.
fn merge_counts(idx: &[u32], cnt: &[u32], new: &[u32]) -> (Vec<u32>, Vec<u32>, u64) {
    let mut out_i = Vec::with_capacity(idx.len() + new.len());
    let mut out_c = Vec::with_capacity(idx.len() + new.len());
    let (mut a, mut b, mut grown) = (0usize, 0usize, 0u64);
    while a < idx.len() || b < new.len() {
        let take_old = b >= new.len() || (a < idx.len() && idx[a] <= new[b]);
        let j = if take_old { idx[a] } else { new[b] };
        let mut c = 0u32;
        if a < idx.len() && idx[a] == j {
            c = cnt[a];
            a += 1;
        } else {
            grown += 1;
        }
        while b < new.len() && new[b] == j {
            c += 1;
            b += 1;
        }
        out_i.push(j);
        out_c.push(c);
    }
    out_i.shrink_to_fit();
    out_c.shrink_to_fit();
    (out_i, out_c, grown)
}

/// Union of the sorted list `idx` with the sorted multiset `new`, and the
/// number of entries added.
pub(super) fn merge_union(idx: &[u32], new: &[u32]) -> (Vec<u32>, u64) {
    let mut out = Vec::with_capacity(idx.len() + new.len());
    let (mut a, mut b) = (0usize, 0usize);
    let before = idx.len();
    while a < idx.len() || b < new.len() {
        let take_old = b >= new.len() || (a < idx.len() && idx[a] <= new[b]);
        let j = if take_old { idx[a] } else { new[b] };
        if a < idx.len() && idx[a] == j {
            a += 1;
        }
        while b < new.len() && new[b] == j {
            b += 1;
        }
        out.push(j);
    }
    out.shrink_to_fit();
    let added = (out.len() - before) as u64;
    (out, added)
}

/// The sorted list `idx` without the sorted multiset `gone`, and the number
/// of entries removed.
fn remove_sorted(idx: &[u32], gone: &[u32]) -> (Vec<u32>, u64) {
    let mut b = 0usize;
    let mut out: Vec<u32> = idx
        .iter()
        .copied()
        .filter(|&j| {
            while b < gone.len() && gone[b] < j {
                b += 1;
            }
            !(b < gone.len() && gone[b] == j)
        })
        .collect();
    out.shrink_to_fit();
    let removed = (idx.len() - out.len()) as u64;
    (out, removed)
}

/// Whether `len` gathered content units of `n` are counted through a
/// histogram of the `n` units rather than sorted.
#[inline]
fn dense_gather(len: usize, n: usize) -> bool {
    len > 64 && (n as f64) < len as f64 * (len as f64).log2() / 4.0
}

/// Row `(idx, cnt)` with the new co-activations `hist` (`hist[t]`: those
/// of content unit `lo + t`) added: the merged row and counts, the number
/// of synapses that became non-silent, and the co-activations added.
fn merge_histogram(
    idx: &[u32],
    cnt: &[u32],
    hist: &[u32],
    lo: u32,
) -> (Vec<u32>, Vec<u32>, u64, u64) {
    let mut out_i = Vec::with_capacity(idx.len() + hist.len());
    let mut out_c = Vec::with_capacity(idx.len() + hist.len());
    let (mut a, mut grown, mut added) = (0usize, 0u64, 0u64);
    for (t, &h) in hist.iter().enumerate() {
        let j = lo + t as u32;
        // Old entries below the histogram's range (a column shard) stay.
        while a < idx.len() && idx[a] < j {
            out_i.push(idx[a]);
            out_c.push(cnt[a]);
            a += 1;
        }
        if a < idx.len() && idx[a] == j {
            out_i.push(j);
            out_c.push(cnt[a] + h);
            a += 1;
        } else if h > 0 {
            out_i.push(j);
            out_c.push(h);
            grown += 1;
        }
        added += h as u64;
    }
    out_i.extend_from_slice(&idx[a..]);
    out_c.extend_from_slice(&cnt[a..]);
    out_i.shrink_to_fit();
    out_c.shrink_to_fit();
    (out_i, out_c, grown, added)
}

/// Sort `tmp` (content units `< n`, with repeats): a counting sort when `n`
/// is small next to `len·log2(len)` (dense co-activation, as in a small
/// modular memory), else a comparison sort. Same result either way.
fn sort_units(tmp: &mut Vec<u32>, n: usize, hist: &mut Vec<u32>) {
    let len = tmp.len();
    if dense_gather(len, n) {
        hist.clear();
        hist.resize(n, 0);
        for &j in tmp.iter() {
            hist[j as usize] += 1;
        }
        tmp.clear();
        for (j, &c) in hist.iter().enumerate() {
            tmp.extend(std::iter::repeat_n(j as u32, c as usize));
        }
    } else {
        tmp.sort_unstable();
    }
}

/// Least work (entries gathered plus rows visited) of a parallel task of
/// storing: less than twice this runs on one thread. Measured as
/// [`super::retrieval::SPLIT`]: storing costs about 12.6 ns per unit on one
/// core (sorting and merging each row's entries; n = 1,000 to 5,000), so a
/// task is at least about 125 µs; on the idle machine the n = 1,000 store
/// (101,000) already gained 1.2x on 2 threads.
const STORE_SPLIT: crate::parallel::Split = crate::parallel::Split::new(10_000);

/// Shape and kind of a memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Address units.
    pub m: usize,
    /// Content units.
    pub n: usize,
    /// Keep only which synapses are potentiated (Willshaw).
    #[serde(default)]
    pub binary: bool,
    /// Auto-association (`m == n`, every address is its own content).
    #[serde(default)]
    pub auto: bool,
}

impl StoreConfig {
    /// Refuse shapes no store can hold: an empty side, more units than `u32`
    /// indices reach, or an auto-association that is not square.
    pub(super) fn check(&self) -> Result<()> {
        let StoreConfig { m, n, auto, .. } = *self;
        if m == 0 || n == 0 {
            return Err(Error::Value(format!(
                "a memory needs at least one unit per side, got {m} x {n}"
            )));
        }
        if m > u32::MAX as usize || n > u32::MAX as usize {
            return Err(Error::Value(format!(
                "at most {} units per side are supported",
                u32::MAX
            )));
        }
        if auto && m != n {
            return Err(Error::Shape(format!(
                "auto-association needs m == n, got {m} and {n}"
            )));
        }
        Ok(())
    }

    /// Refuse content units `lo..hi` that are not a range of this memory's.
    pub(super) fn check_columns(&self, lo: usize, hi: usize) -> Result<()> {
        if lo > hi || hi > self.n {
            return Err(Error::Value(format!(
                "content units {lo}..{hi} are not a range of the memory's {}",
                self.n
            )));
        }
        Ok(())
    }
}

impl AssocStore {
    /// An empty memory of shape and kind `c`.
    pub fn with_config(c: &StoreConfig) -> Result<Self> {
        Self::new(c.m, c.n, c.binary, c.auto)
    }

    /// The shape and kind of this memory.
    pub fn config(&self) -> StoreConfig {
        StoreConfig {
            m: self.m,
            n: self.n,
            binary: self.binary,
            auto: self.auto,
        }
    }

    /// An empty memory from `m` address units to `n` content units.
    /// `binary`: keep only which synapses are potentiated (Willshaw).
    /// `auto`: auto-association (`m == n`, every address is its own content).
    pub fn new(m: usize, n: usize, binary: bool, auto: bool) -> Result<Self> {
        StoreConfig { m, n, binary, auto }.check()?;
        Ok(AssocStore {
            m,
            n,
            binary,
            auto,
            inverted: false,
            rows: vec![Vec::new(); m],
            counts: if binary {
                Vec::new()
            } else {
                vec![Vec::new(); m]
            },
            mu1: vec![0; m],
            mv1: vec![0; n],
            n_pairs: 0,
            counters: EnergyCounters::default(),
        })
    }

    /// Store the pairs `(u[r], v[r])`. For an auto-associative store pass the
    /// same patterns twice. Validates everything before changing anything;
    /// a cancelled call ([`crate::cancel`]) also leaves the store unchanged.
    pub fn store(&mut self, u: &Patterns, v: &Patterns) -> Result<()> {
        self.store_columns(u, v, 0, self.n)
    }

    /// [`Self::store`] keeping only the synapses onto the content units
    /// `lo..hi`: one column shard of a memory sharded by content units. The
    /// unit counts and the pair count are those of the whole memory (every
    /// rule's per-unit terms read them), so the potentials of the units
    /// `lo..hi` are exactly those of the unsharded memory. The energy
    /// counters count this shard's writes only.
    pub fn store_columns(
        &mut self,
        u: &Patterns,
        v: &Patterns,
        lo: usize,
        hi: usize,
    ) -> Result<()> {
        self.config().check_columns(lo, hi)?;
        let p = check_pairs(self.m, self.n, self.auto, self.n_pairs, u, v)?;
        if p == 0 {
            return Ok(());
        }
        // Inverted index: the patterns in which each address unit is active
        // (counting sort, so the order within a unit is the pattern order).
        let by_unit = CsrTranspose::new(&u.indptr, &u.indices, self.m, false);
        let (start, by_unit) = (by_unit.indptr, by_unit.rows);
        let binary = self.binary;
        let inverted = self.inverted;
        let (lo32, hi32) = (lo as u32, hi as u32);
        let whole = lo == 0 && hi == self.n;
        let n = self.n;
        // The content units of pattern `r` inside this shard's columns.
        let in_shard = |r: u32| -> &[u32] {
            let row = v.row(r as usize);
            if whole {
                row
            } else {
                &row[row.partition_point(|&j| j < lo32)..row.partition_point(|&j| j < hi32)]
            }
        };
        let gather = |i: usize, hist: &mut Vec<u32>| -> Vec<u32> {
            let mut tmp = Vec::new();
            for &r in &by_unit[start[i]..start[i + 1]] {
                tmp.extend_from_slice(in_shard(r));
            }
            sort_units(&mut tmp, n, hist);
            tmp
        };
        // Entries gathered: Σ over pairs of |u| · |v|.
        let work: u64 = (0..u.len())
            .map(|r| (u.row(r).len() * v.row(r).len()) as u64)
            .sum::<u64>()
            + self.m as u64;
        let work = usize::try_from(work).unwrap_or(usize::MAX);
        let min_len = if STORE_SPLIT.parallel(work) {
            STORE_SPLIT.min_items(work / self.m.max(1))
        } else {
            self.m.max(1)
        };
        // Two phases, so that a cancelled call (Ctrl-C, `crate::cancel`,
        // looked at per row) changes nothing: the new rows of the address
        // units active here are built from the old ones in parallel, then
        // moved in. Each row is independent, so the result does not depend
        // on the number of threads.
        type NewRow = Option<(Vec<u32>, Vec<u32>, u64, u64)>;
        let cancel = crate::cancel::current();
        let skip = |i: usize| start[i + 1] == start[i] || cancel.is_cancelled();
        let new_rows: Vec<NewRow> = if binary {
            self.rows
                .par_iter()
                .enumerate()
                .with_min_len(min_len)
                .map_init(Vec::new, |hist, (i, row)| {
                    if skip(i) {
                        return None;
                    }
                    let tmp = gather(i, hist);
                    let (r, c) = if inverted {
                        remove_sorted(row, &tmp)
                    } else {
                        merge_union(row, &tmp)
                    };
                    Some((r, Vec::new(), c, tmp.len() as u64))
                })
                .collect()
        } else {
            self.rows
                .par_iter()
                .zip(self.counts.par_iter())
                .enumerate()
                .with_min_len(min_len)
                .map_init(Vec::new, |hist, (i, (row, cnt))| {
                    if skip(i) {
                        return None;
                    }
                    let pats = &by_unit[start[i]..start[i + 1]];
                    let len: usize = pats.iter().map(|&r| v.row(r as usize).len()).sum();
                    if dense_gather(len, n) {
                        // Count straight into the histogram: the same counts
                        // without sorting the multiset.
                        hist.clear();
                        hist.resize(n, 0);
                        for &r in pats {
                            for &j in in_shard(r) {
                                hist[j as usize] += 1;
                            }
                        }
                        let (r, c, g, t) = merge_histogram(row, cnt, &hist[lo..hi], lo32);
                        return Some((r, c, g, t));
                    }
                    let tmp = gather(i, hist);
                    let (r, c, g) = merge_counts(row, cnt, &tmp);
                    Some((r, c, g, tmp.len() as u64))
                })
                .collect()
        };
        cancel.check()?; // the store is still unchanged
        let (mut changed, mut coact) = (0u64, 0u64);
        for (i, new) in new_rows.into_iter().enumerate() {
            if let Some((r, c, g, t)) = new {
                self.rows[i] = r;
                if !binary {
                    self.counts[i] = c;
                }
                changed += g;
                coact += t;
            }
        }
        for &i in &u.indices {
            self.mu1[i as usize] += 1;
        }
        for &j in &v.indices {
            self.mv1[j as usize] += 1;
        }
        self.n_pairs += p;
        if binary {
            // A clipped synapse is written only when it switches 0 -> 1.
            self.counters.record(changed, changed as f64);
        } else {
            // Every co-activation increments one counter by one.
            self.counters.record(coact, coact as f64);
            self.counters.grown += changed;
        }
        Ok(())
    }

    /// Structural compression of a binary store: keep the potentiated
    /// synapses while `p1 <= 0.5`, the silent ones when `p1 > 0.5`.
    /// Returns whether the representation is now inverted. Counter stores
    /// already keep only the synapses with `M11 > 0` and are left as they are.
    pub fn compress(&mut self) -> bool {
        if !self.binary {
            return false;
        }
        let want = self.p1() > 0.5;
        if want != self.inverted {
            let n = self.n as u32;
            self.rows.par_iter_mut().for_each(|row| {
                let mut out = Vec::with_capacity(n as usize - row.len());
                let mut a = 0usize;
                for j in 0..n {
                    if a < row.len() && row[a] == j {
                        a += 1;
                    } else {
                        out.push(j);
                    }
                }
                *row = out;
            });
            self.inverted = want;
        }
        self.inverted
    }

    pub fn m(&self) -> usize {
        self.m
    }
    pub fn n(&self) -> usize {
        self.n
    }
    pub fn is_binary(&self) -> bool {
        self.binary
    }
    pub fn is_auto(&self) -> bool {
        self.auto
    }
    pub fn is_inverted(&self) -> bool {
        self.inverted
    }
    pub fn n_pairs(&self) -> u64 {
        self.n_pairs
    }
    /// Address unit counts `M1(i)`.
    pub fn address_counts(&self) -> &[u64] {
        &self.mu1
    }
    /// Content unit counts `M1(j)`.
    pub fn content_counts(&self) -> &[u64] {
        &self.mv1
    }
    pub fn counters(&self) -> &EnergyCounters {
        &self.counters
    }
    /// Sorted content units listed for address unit `i`.
    pub fn row(&self, i: usize) -> &[u32] {
        &self.rows[i]
    }
    /// Counts of row `i` (empty for binary stores).
    pub fn row_counts(&self, i: usize) -> &[u32] {
        if self.binary {
            &[]
        } else {
            &self.counts[i]
        }
    }
    /// Entries held (synapses listed).
    pub fn stored_entries(&self) -> usize {
        self.rows.iter().map(|r| r.len()).sum()
    }
    /// Synapses with `M11 > 0` (potentiated synapses).
    pub fn nonsilent(&self) -> u64 {
        let e = self.stored_entries() as u64;
        if self.inverted {
            (self.m as u64) * (self.n as u64) - e
        } else {
            e
        }
    }
    /// Matrix load: fraction of synapses with `M11 > 0`.
    pub fn p1(&self) -> f64 {
        self.nonsilent() as f64 / (self.m as f64 * self.n as f64)
    }
    /// Bytes held by the counters and unit counts.
    pub fn memory_bytes(&self) -> usize {
        let rows: usize = self.rows.iter().map(|r| r.capacity() * 4).sum();
        let cnts: usize = self.counts.iter().map(|r| r.capacity() * 4).sum();
        let headers = (self.rows.len() + self.counts.len()) * std::mem::size_of::<Vec<u32>>();
        rows + cnts + headers + (self.mu1.len() + self.mv1.len()) * 8
    }
    /// `M11(i, j)` (for binary stores: 1 if potentiated, else 0).
    pub fn m11(&self, i: usize, j: usize) -> u64 {
        if i >= self.m || j >= self.n {
            return 0;
        }
        let row = &self.rows[i];
        match row.binary_search(&(j as u32)) {
            Ok(p) => {
                if self.binary {
                    u64::from(!self.inverted)
                } else {
                    self.counts[i][p] as u64
                }
            }
            Err(_) => u64::from(self.binary && self.inverted),
        }
    }
}

/// The number of pairs `u`, `v` hold, checked against an `m × n` memory
/// (auto-associative: contents equal to addresses) that already holds
/// `n_pairs` pairs, before anything is stored.
pub(super) fn check_pairs(
    m: usize,
    n: usize,
    auto: bool,
    n_pairs: u64,
    u: &Patterns,
    v: &Patterns,
) -> Result<u64> {
    if u.dim != m {
        return Err(Error::Shape(format!(
            "addresses have {} units, the memory has {m}",
            u.dim
        )));
    }
    if v.dim != n {
        return Err(Error::Shape(format!(
            "contents have {} units, the memory has {n}",
            v.dim
        )));
    }
    if u.len() != v.len() {
        return Err(Error::Shape(format!(
            "{} addresses but {} contents",
            u.len(),
            v.len()
        )));
    }
    if auto && u != v {
        return Err(Error::Value(
            "an auto-associative memory stores each pattern as its own content".into(),
        ));
    }
    let p = u.len() as u64;
    if n_pairs + p > u32::MAX as u64 {
        return Err(Error::Value(format!(
            "at most {} pairs can be stored (u32 counters)",
            u32::MAX
        )));
    }
    Ok(p)
}
