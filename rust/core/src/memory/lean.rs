//! A lean column shard of a Willshaw (clipped Hebb) memory.
//!
//! [`AssocStore`](super::AssocStore) keeps a `u32` content unit per
//! potentiated synapse and rebuilds every touched row on each call, so a
//! shard holding 7·10^8 synapses needs 2.9 GB plus a second copy of the rows
//! while it stores. A shard of a memory sharded by content units owns only
//! the contiguous columns `lo..hi`, so a column fits in a small offset:
//! [`LeanStore`] splits its columns into `n_sub` sub-blocks of at most
//! 65,535 units and keeps each address row as one boxed `[u16]`:
//!
//! ```text
//! [len_0, …, len_{n_sub−1}, offsets of sub-block 0…, offsets of sub-block 1…, …]
//! ```
//!
//! (an empty row is an empty box): 2 bytes per potentiated synapse, plus
//! 2·`n_sub` bytes and a 16-byte box per non-empty row.
//!
//! Storing appends each row's new content units (shard-local, unsorted, with
//! repeats) to the row's pending buffer; a row is rebuilt (sort, dedup and
//! merge into the compact row) only once its pending buffer holds at least
//! `1/PENDING_RATIO` of the row's entries, so each entry is copied about
//! `PENDING_RATIO` times in all instead of once per stored block, and the
//! pending buffers stay a small fraction of the row memory. [`LeanStore::flush`]
//! merges what is left; retrieval needs a flushed store. The final rows are
//! the set union of everything stored, so they do not depend on when rows
//! were merged, on block sizes or on the number of threads.

use super::counters::StoreConfig;
use super::Patterns;
use crate::energy::EnergyCounters;
use crate::error::{Error, Result};
use crate::math::CsrTranspose;
use rayon::prelude::*;

/// Widest sub-block: offsets (`< sub`) and segment lengths (`<= sub`) fit in `u16`.
pub const MAX_SUB: usize = u16::MAX as usize;

/// A row's pending entries are merged once there are at least this many…
const MIN_PENDING: usize = 16;
/// …and at least the row's entries over this ratio: each entry is then
/// copied about this many times while its row grows, and the pending
/// buffers (4 bytes per entry) hold at most about 2/ratio of the rows' bytes.
const PENDING_RATIO: usize = 16;

/// Least work (entries gathered plus rows visited) of a parallel task of
/// storing, as in the counter store.
const STORE_SPLIT: crate::parallel::Split = crate::parallel::Split::new(10_000);

/// The potentiated synapses onto the content units `lo..hi` of an `m × n`
/// Willshaw memory, with the unit counts and pair count of the whole memory.
#[derive(Debug, Clone, PartialEq)]
pub struct LeanStore {
    pub(super) m: usize,
    pub(super) n: usize,
    pub(super) auto: bool,
    pub(super) lo: usize,
    pub(super) hi: usize,
    /// Sub-block width and count: `n_sub · sub >= hi − lo`, `sub <= MAX_SUB`.
    pub(super) sub: usize,
    pub(super) n_sub: usize,
    pub(super) rows: Vec<Box<[u16]>>,
    /// Shard-local content units (`j − lo`) not yet merged into `rows`.
    pending: Vec<Vec<u32>>,
    pending_len: usize,
    /// Potentiated synapses in `rows`.
    entries: u64,
    pub(super) mu1: Vec<u64>,
    pub(super) mv1: Vec<u64>,
    pub(super) n_pairs: u64,
    counters: EnergyCounters,
}

/// Sub-block count and width for `width` columns, sub-blocks of at most
/// `max_sub` units.
fn sub_blocks(width: usize, max_sub: usize) -> (usize, usize) {
    if width == 0 {
        return (0, 0);
    }
    let n_sub = width.div_ceil(max_sub);
    (n_sub, width.div_ceil(n_sub))
}

/// The sorted offsets of each sub-block of a row, in sub-block order.
pub(super) fn segments(row: &[u16], n_sub: usize) -> impl Iterator<Item = (usize, &[u16])> {
    let mut at = n_sub;
    (0..if row.is_empty() { 0 } else { n_sub }).map(move |b| {
        let len = row[b] as usize;
        let seg = &row[at..at + len];
        at += len;
        (b, seg)
    })
}

/// The row `row` with the shard-local units `new` (unsorted, with repeats;
/// sorted and deduplicated here) merged in, and the number of entries added.
fn merge_row(row: &[u16], new: &mut [u32], n_sub: usize, sub: usize) -> (Box<[u16]>, u64) {
    new.sort_unstable();
    let old_len = row.len().saturating_sub(n_sub);
    let mut out: Vec<u16> = Vec::with_capacity(n_sub + old_len + new.len());
    out.resize(n_sub, 0);
    let mut p = 0usize;
    let empty: &[u16] = &[];
    let mut old_segs = segments(row, n_sub);
    for b in 0..n_sub {
        let old = old_segs.next().map_or(empty, |(_, s)| s);
        let (base, end) = ((b * sub) as u32, ((b + 1) * sub) as u32);
        let start = out.len();
        let mut a = 0usize;
        while p < new.len() && new[p] < end {
            let v = (new[p] - base) as u16;
            // The old entries below v, in one copy (new entries are few).
            let below = old[a..].partition_point(|&x| x < v);
            out.extend_from_slice(&old[a..a + below]);
            a += below;
            if a < old.len() && old[a] == v {
                a += 1;
            }
            out.push(v);
            // The repeats of v.
            while p < new.len() && new[p] == v as u32 + base {
                p += 1;
            }
        }
        out.extend_from_slice(&old[a..]);
        out[b] = (out.len() - start) as u16;
    }
    let added = (out.len() - n_sub - old_len) as u64;
    (out.into_boxed_slice(), added)
}

impl LeanStore {
    /// An empty shard of the Willshaw memory `c` (which must be binary)
    /// holding the content units `lo..hi`.
    pub fn new(c: &StoreConfig, lo: usize, hi: usize) -> Result<Self> {
        Self::with_sub_blocks(c, lo, hi, MAX_SUB)
    }

    /// [`Self::new`] with sub-blocks of at most `max_sub` (`<= MAX_SUB`)
    /// units: small memories exercise several sub-blocks in tests.
    pub(super) fn with_sub_blocks(
        c: &StoreConfig,
        lo: usize,
        hi: usize,
        max_sub: usize,
    ) -> Result<Self> {
        debug_assert!((1..=MAX_SUB).contains(&max_sub));
        let StoreConfig { m, n, binary, auto } = *c;
        if !binary {
            return Err(Error::Value(
                "a lean store keeps binary (Willshaw) synapses only".into(),
            ));
        }
        c.check()?;
        c.check_columns(lo, hi)?;
        let (n_sub, sub) = sub_blocks(hi - lo, max_sub);
        // a row's box, its pending buffer and its unit count, and a column's count
        let per_row = std::mem::size_of::<Box<[u16]>>() + std::mem::size_of::<Vec<u32>>() + 8;
        crate::alloc::check_fits::<u8>(
            m.saturating_mul(per_row)
                .saturating_add(n.saturating_mul(8)),
            "the lean store's rows",
        )?;
        Ok(LeanStore {
            m,
            n,
            auto,
            lo,
            hi,
            sub,
            n_sub,
            rows: vec![Box::default(); m],
            pending: vec![Vec::new(); m],
            pending_len: 0,
            entries: 0,
            mu1: vec![0; m],
            mv1: vec![0; n],
            n_pairs: 0,
            counters: EnergyCounters::default(),
        })
    }

    /// Store the pairs `(u[r], v[r])` (for auto-association the same
    /// patterns twice), keeping the synapses onto this shard's columns.
    /// Everything is validated before anything changes; once storing starts
    /// the call runs to its end (it is not cancelled half-way: a sharded
    /// memory stores into a pending copy and drops it on failure).
    pub fn store(&mut self, u: &Patterns, v: &Patterns) -> Result<()> {
        let p = super::counters::check_pairs(self.m, self.n, self.auto, self.n_pairs, u, v)?;
        crate::cancel::current().check()?;
        if p == 0 {
            return Ok(());
        }
        let by_unit = CsrTranspose::new(&u.indptr, &u.indices, self.m, false);
        let (start, by_unit) = (by_unit.indptr, by_unit.rows);
        // Each pair's content units inside this shard, shard-local, in one
        // streaming pass: the rows then read a block a fraction of V's size
        // instead of searching V's rows at random.
        let (lo, hi) = (self.lo as u32, self.hi as u32);
        let mut local_ptr = Vec::with_capacity(v.len() + 1);
        let mut local = Vec::new();
        local_ptr.push(0usize);
        for r in 0..v.len() {
            let row = v.row(r);
            let (a, b) = (
                row.partition_point(|&j| j < lo),
                row.partition_point(|&j| j < hi),
            );
            local.extend(row[a..b].iter().map(|&j| j - lo));
            local_ptr.push(local.len());
        }
        let in_shard = |r: u32| &local[local_ptr[r as usize]..local_ptr[r as usize + 1]];
        let work: u64 = (0..u.len())
            .map(|r| (u.row(r).len() * v.row(r).len()) as u64)
            .sum::<u64>()
            + self.m as u64;
        let min_len = min_items(work, self.m);
        let (n_sub, sub) = (self.n_sub, self.sub);
        // Per row: (entries added to the row, pending entries after).
        let (added, pending): (u64, usize) = self
            .rows
            .par_iter_mut()
            .zip(self.pending.par_iter_mut())
            .enumerate()
            .with_min_len(min_len)
            .map(|(i, (row, pend))| {
                let pats = &by_unit[start[i]..start[i + 1]];
                if pats.is_empty() {
                    return (0, pend.len());
                }
                pend.reserve(pats.iter().map(|&r| in_shard(r).len()).sum());
                for &r in pats {
                    pend.extend_from_slice(in_shard(r));
                }
                let row_entries = row.len().saturating_sub(n_sub);
                if pend.len() >= MIN_PENDING.max(row_entries / PENDING_RATIO) {
                    let (new_row, a) = merge_row(row, pend, n_sub, sub);
                    *row = new_row;
                    *pend = Vec::new();
                    (a, 0)
                } else {
                    (0, pend.len())
                }
            })
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        self.record(added);
        self.pending_len = pending;
        for &i in &u.indices {
            self.mu1[i as usize] += 1;
        }
        for &j in &v.indices {
            self.mv1[j as usize] += 1;
        }
        self.n_pairs += p;
        Ok(())
    }

    /// Merge every pending entry into the rows (retrieval needs this).
    pub fn flush(&mut self) {
        if self.pending_len == 0 {
            return;
        }
        let (n_sub, sub) = (self.n_sub, self.sub);
        let min_len = min_items(self.pending_len as u64 + self.m as u64, self.m);
        let added: u64 = self
            .rows
            .par_iter_mut()
            .zip(self.pending.par_iter_mut())
            .with_min_len(min_len)
            .map(|(row, pend)| {
                if pend.is_empty() {
                    return 0;
                }
                let (new_row, a) = merge_row(row, pend, n_sub, sub);
                *row = new_row;
                *pend = Vec::new();
                a
            })
            .sum();
        self.record(added);
        self.pending_len = 0;
    }

    /// A clipped synapse is written only when it switches 0 -> 1, as in the
    /// counter store (counted when the row is merged: the totals after
    /// [`Self::flush`] are the same whatever the merge times).
    fn record(&mut self, added: u64) {
        self.entries += added;
        self.counters.record(added, added as f64);
    }

    pub fn m(&self) -> usize {
        self.m
    }
    pub fn n(&self) -> usize {
        self.n
    }
    pub fn is_auto(&self) -> bool {
        self.auto
    }
    /// The content units `lo..hi` this shard holds.
    pub fn columns(&self) -> (usize, usize) {
        (self.lo, self.hi)
    }
    pub fn n_pairs(&self) -> u64 {
        self.n_pairs
    }
    pub fn address_counts(&self) -> &[u64] {
        &self.mu1
    }
    pub fn content_counts(&self) -> &[u64] {
        &self.mv1
    }
    pub fn counters(&self) -> &EnergyCounters {
        &self.counters
    }
    /// Potentiated synapses merged into the rows (all of them once flushed).
    pub fn nonsilent(&self) -> u64 {
        self.entries
    }
    /// The mean activity of the stored contents (0 for an empty memory).
    pub fn mean_activity(&self) -> f64 {
        if self.n_pairs > 0 {
            self.mv1.iter().sum::<u64>() as f64 / self.n_pairs as f64
        } else {
            0.0
        }
    }
    /// Entries not yet merged (with repeats).
    pub fn pending_entries(&self) -> usize {
        self.pending_len
    }
    /// Matrix load of the whole memory's `m · n` synapses (this shard's part).
    pub fn p1(&self) -> f64 {
        self.entries as f64 / (self.m as f64 * self.n as f64)
    }
    /// The potentiated synapses of address unit `i` onto this shard's
    /// columns, as ascending content units of the whole memory.
    pub fn row(&self, i: usize) -> Vec<u32> {
        let (lo, sub) = (self.lo as u32, self.sub as u32);
        segments(&self.rows[i], self.n_sub)
            .flat_map(|(b, s)| s.iter().map(move |&o| lo + b as u32 * sub + o as u32))
            .collect()
    }
    /// Bytes held: the rows and their boxes, the pending buffers and their
    /// headers, and the unit counts (allocator overhead not included).
    pub fn memory_bytes(&self) -> usize {
        let rows: usize = self.rows.iter().map(|r| r.len() * 2).sum();
        let pend: usize = self.pending.iter().map(|p| p.capacity() * 4).sum();
        rows + pend
            + self.rows.len() * std::mem::size_of::<Box<[u16]>>()
            + self.pending.len() * std::mem::size_of::<Vec<u32>>()
            + (self.mu1.len() + self.mv1.len()) * 8
    }
}

/// Minimum items per rayon job for `items` of `work` in all.
fn min_items(work: u64, items: usize) -> usize {
    let work = usize::try_from(work).unwrap_or(usize::MAX);
    if STORE_SPLIT.parallel(work) {
        STORE_SPLIT.min_items(work / items.max(1))
    } else {
        items.max(1)
    }
}
