//! The stored hidden code the readout trains on: compressed rows of 16-bit
//! unit indices and bfloat16 activities.
//!
//! The readout's epochs stream the code from memory (on MNIST 450 million
//! entries, read twice per epoch), so its bytes per entry are the cost: an
//! entry is 4 bytes instead of 8.
//!
//! * **Activities** keep 8 significant bits ([`crate::math::bf16`]: relative
//!   error at most 2^-8, far below the noise of the delta rule's steps).
//! * **Unit indices** are 16 bits within a page of [`PAGE`] units. A readout
//!   with at most 65,536 inputs has one page; a wider one stores, per row,
//!   where each later page's entries begin.
//!
//! Both halves of an entry share one 32-bit word ([`Entry`]), so a pass
//! reads one stream per row, and the activity is the word with its index
//! bits cleared.

use crate::error::{check_len, Result};
use crate::math::bf16::{bf16_is_finite, from_bf16, to_bf16};
use rayon::prelude::*;

/// Units per page of 16-bit indices.
pub const PAGE: usize = 1 << 16;

/// One stored entry: the bfloat16 activity in the high half, the unit's
/// index within its page in the low half.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Entry(u32);

impl Entry {
    /// The entry of the unit with index `low` in its page and the bfloat16
    /// activity `q`.
    #[inline(always)]
    pub fn new(low: u16, q: u16) -> Self {
        Entry((q as u32) << 16 | low as u32)
    }

    /// The unit's index within its page.
    #[inline(always)]
    pub fn unit(self) -> u16 {
        self.0 as u16
    }

    /// The activity's bfloat16 bits.
    #[inline(always)]
    pub fn bits(self) -> u16 {
        (self.0 >> 16) as u16
    }

    /// The activity (exact: bfloat16 is the upper half of an `f32`).
    #[inline(always)]
    pub fn rate(self) -> f32 {
        f32::from_bits(self.0 & 0xffff_0000)
    }
}

/// The entries of one chunk of rows, and per row the offsets (from the
/// row's start) where pages `1..n_pages` begin (none with one page).
#[derive(Debug, Clone, Default)]
pub(super) struct Chunk {
    entries: Vec<Entry>,
    splits: Vec<u32>,
}

/// One row of a code: the concatenated pages' entries (ascending within a
/// page) and where each page after the first begins.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CodeRow<'a> {
    pub entries: &'a [Entry],
    pub(super) splits: &'a [u32],
}

impl<'a> CodeRow<'a> {
    /// A row of one page.
    #[cfg(test)]
    pub(super) fn single_page(entries: &'a [Entry]) -> Self {
        CodeRow {
            entries,
            splits: &[],
        }
    }

    /// Stored entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the row has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Pages the row spans.
    pub fn n_pages(&self) -> usize {
        self.splits.len() + 1
    }

    /// Where page `p`'s entries lie in the row.
    pub fn page_bounds(&self, p: usize) -> (usize, usize) {
        let lo = if p == 0 {
            0
        } else {
            self.splits[p - 1] as usize
        };
        let hi = self.splits.get(p).map_or(self.len(), |&s| s as usize);
        (lo, hi)
    }

    /// The entries of page `p` (units `p · PAGE + index`).
    pub fn page(&self, p: usize) -> &'a [Entry] {
        let (lo, hi) = self.page_bounds(p);
        &self.entries[lo..hi]
    }

    /// `(unit, activity)` of every entry, ascending.
    pub fn units(&self) -> impl Iterator<Item = (usize, f32)> + 'a {
        let row = *self;
        (0..row.n_pages()).flat_map(move |p| {
            row.page(p)
                .iter()
                .map(move |e| (p * PAGE + e.unit() as usize, e.rate()))
        })
    }
}

/// The rows of one chunk while they are built.
pub(super) struct ChunkBuilder {
    chunk: Chunk,
    lens: Vec<usize>,
    n_pages: usize,
    row_start: usize,
    page: usize,
}

impl ChunkBuilder {
    /// Rows of a readout with `width` presynaptic units.
    pub(super) fn new(width: usize) -> Self {
        ChunkBuilder {
            chunk: Chunk::default(),
            lens: Vec::new(),
            n_pages: width.div_ceil(PAGE).max(1),
            row_start: 0,
            page: 0,
        }
    }

    /// Whether room has been made for entries yet.
    pub(super) fn has_room(&self) -> bool {
        self.chunk.entries.capacity() > 0
    }

    /// Room for `n` more entries.
    pub(super) fn reserve(&mut self, n: usize) {
        self.chunk.entries.reserve(n);
    }

    /// Append the entry of `unit` (ascending within the row) with the
    /// activity `h` rounded to bfloat16, unless it rounds to zero (a code
    /// stores non-zero activities only).
    #[inline]
    pub(super) fn push(&mut self, unit: usize, h: f32) {
        let q = to_bf16(h);
        if from_bf16(q) == 0.0 {
            return;
        }
        if self.n_pages > 1 {
            while unit >= (self.page + 1) * PAGE {
                self.next_page();
            }
        }
        self.chunk.entries.push(Entry::new(unit as u16, q)); // (the low 16 bits)
    }

    fn next_page(&mut self) {
        let at = self.chunk.entries.len() - self.row_start;
        self.chunk.splits.push(at as u32);
        self.page += 1;
    }

    /// Close the row being built.
    pub(super) fn end_row(&mut self) {
        while self.page + 1 < self.n_pages {
            self.next_page();
        }
        self.lens.push(self.chunk.entries.len() - self.row_start);
        self.row_start = self.chunk.entries.len();
        self.page = 0;
    }
}

/// What the readout sees of a set of samples, in compressed rows: sample
/// `b` has the active presynaptic units and their activities (all non-zero)
/// of [`Self::row`]. Units are the hidden units, then with the direct
/// pathway the inputs.
///
/// The entries stay in the chunks they were built in (every chunk but the
/// last holds `per_chunk` samples): on MNIST the code is gigabytes, and
/// copying the chunks into one array doubled the peak memory of a fit.
#[derive(Debug, Clone, Default)]
pub struct SparseCode {
    /// Presynaptic units of the readout ([`super::StructuralNet::n_readout_in`]).
    pub n_hidden: usize,
    indptr: Vec<usize>,
    per_chunk: usize,
    chunks: Vec<Chunk>,
}

impl SparseCode {
    /// A code of no samples, built chunk by chunk with [`Self::push_chunk`].
    pub(super) fn new(n_hidden: usize, per_chunk: usize) -> Self {
        SparseCode {
            n_hidden,
            indptr: vec![0],
            per_chunk: per_chunk.max(1),
            chunks: Vec::new(),
        }
    }

    /// A code of `n` samples without entries.
    pub(super) fn empty(n_hidden: usize, per_chunk: usize, n: usize) -> Self {
        let mut code = SparseCode::new(n_hidden, per_chunk);
        for _ in 0..n.div_ceil(code.per_chunk) {
            let mut rows = ChunkBuilder::new(n_hidden);
            let k = code.n_samples();
            for _ in k..(k + code.per_chunk).min(n) {
                rows.end_row();
            }
            code.push_chunk(rows);
        }
        code
    }

    fn n_pages(&self) -> usize {
        self.n_hidden.div_ceil(PAGE).max(1)
    }

    /// Append the rows of one chunk (`per_chunk` rows unless it is the last).
    pub(super) fn push_chunk(&mut self, rows: ChunkBuilder) {
        if rows.lens.is_empty() {
            return;
        }
        for &l in &rows.lens {
            let last = *self.indptr.last().expect("starts with 0");
            self.indptr.push(last + l);
        }
        let mut chunk = rows.chunk;
        // (what the chunk grew into beyond its entries goes back)
        chunk.entries.shrink_to_fit();
        chunk.splits.shrink_to_fit();
        self.chunks.push(chunk);
    }

    /// The code of a dense `(batch, n_hidden)` activity (zeros, also those
    /// that round to zero, dropped).
    pub fn from_dense(h: &[f32], batch: usize, n_hidden: usize) -> Result<Self> {
        check_len("hidden activity", h.len(), batch, n_hidden)?;
        let mut rows = ChunkBuilder::new(n_hidden);
        for b in 0..batch {
            for (j, &v) in h[b * n_hidden..(b + 1) * n_hidden].iter().enumerate() {
                rows.push(j, v);
            }
            rows.end_row();
        }
        let mut code = SparseCode::new(n_hidden, batch);
        code.push_chunk(rows);
        Ok(code)
    }

    /// Number of samples.
    pub fn n_samples(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    /// Active units and their activity for sample `b`.
    pub fn row(&self, b: usize) -> CodeRow<'_> {
        let k = b / self.per_chunk;
        let (s, e) = (self.indptr[b], self.indptr[b + 1]);
        let base = self.indptr[k * self.per_chunk];
        let chunk = &self.chunks[k];
        let per_row = self.n_pages() - 1;
        let r = b - k * self.per_chunk;
        CodeRow {
            entries: &chunk.entries[s - base..e - base],
            splits: &chunk.splits[r * per_row..(r + 1) * per_row],
        }
    }

    /// Per unit, its mean activity over the samples (absent entries count
    /// as 0), estimated on at most `max_rows` rows evenly spread over the
    /// code (all of them when there are no more). The rows are summed in
    /// fixed parts whatever the number of threads: the same bits anywhere.
    pub fn unit_means(&self, max_rows: usize) -> Vec<f64> {
        const PARTS: usize = 16;
        let (n, w) = (self.n_samples(), self.n_hidden);
        let step = n.div_ceil(max_rows.max(1)).max(1);
        let rows: Vec<usize> = (0..n).step_by(step).collect();
        if rows.is_empty() {
            return vec![0.0; w];
        }
        let per = rows.len().div_ceil(PARTS);
        let sums: Vec<Vec<f64>> = rows
            .par_chunks(per)
            .map(|part| {
                let mut acc = vec![0.0f64; w];
                for &b in part {
                    for (j, h) in self.row(b).units() {
                        acc[j] += h as f64;
                    }
                }
                acc
            })
            .collect();
        let mut mean = vec![0.0f64; w];
        for acc in &sums {
            for (m, a) in mean.iter_mut().zip(acc) {
                *m += a;
            }
        }
        for m in &mut mean {
            *m /= rows.len() as f64;
        }
        mean
    }

    /// Stored active entries.
    pub fn nnz(&self) -> usize {
        self.chunks.iter().map(|c| c.entries.len()).sum()
    }

    /// Whether the chunks hold exactly the entries the row offsets say.
    pub(super) fn is_consistent(&self) -> bool {
        let n = self.n_samples();
        let per_row = self.n_pages() - 1;
        self.indptr.first() == Some(&0)
            && self.indptr.windows(2).all(|p| p[0] <= p[1])
            && self.chunks.len() == n.div_ceil(self.per_chunk)
            && self.chunks.iter().enumerate().all(|(k, c)| {
                let (b0, b1) = (k * self.per_chunk, ((k + 1) * self.per_chunk).min(n));
                c.entries.len() == self.indptr[b1] - self.indptr[b0]
                    && c.splits.len() == (b1 - b0) * per_row
            })
    }

    /// `None` if row `b` is sorted, unique, in range and finite (on a
    /// consistent code), else what is wrong.
    pub(super) fn row_fault(&self, b: usize) -> Option<&'static str> {
        let row = self.row(b);
        if row.splits.windows(2).any(|s| s[0] > s[1])
            || row.splits.last().is_some_and(|&s| s as usize > row.len())
        {
            return Some("has pages out of order");
        }
        for p in 0..row.n_pages() {
            let page = row.page(p);
            if page.windows(2).any(|q| q[0].unit() >= q[1].unit())
                || page
                    .last()
                    .is_some_and(|e| p * PAGE + e.unit() as usize >= self.n_hidden)
            {
                return Some("is not sorted, unique and in range");
            }
        }
        if row.entries.iter().any(|e| !bf16_is_finite(e.bits())) {
            return Some("contains NaN or infinity");
        }
        None
    }

    /// The dense `(n_samples, n_hidden)` activity (as stored, rounded).
    pub fn to_dense(&self) -> Vec<f32> {
        let mut h = vec![0.0f32; self.n_samples() * self.n_hidden];
        for b in 0..self.n_samples() {
            for (j, v) in self.row(b).units() {
                h[b * self.n_hidden + j] = v;
            }
        }
        h
    }
}

/// Codes are equal when they hold the same rows, however they are chunked.
impl PartialEq for SparseCode {
    fn eq(&self, other: &Self) -> bool {
        self.n_hidden == other.n_hidden
            && self.n_samples() == other.n_samples()
            && (0..self.n_samples()).all(|b| self.row(b) == other.row(b))
    }
}

/// Where each block of `block` presynaptic units starts in `row`:
/// `out.len()` offsets (one per block and the row's length last). `block`
/// divides [`PAGE`], so a block lies in one page; inside it the start is
/// found by galloping from the previous block's start, so a row costs about
/// `2 log2(entries per block)` comparisons per block instead of a binary
/// search over the whole row for each block.
pub(super) fn row_block_starts(row: CodeRow<'_>, block: usize, out: &mut [u32]) {
    debug_assert!(PAGE.is_multiple_of(block));
    let idx = row.entries;
    let n_blocks = out.len() - 1;
    let mut pos = 0usize;
    out[0] = 0;
    for blk in 1..n_blocks {
        let unit = blk * block;
        let p = unit / PAGE;
        let (seg_lo, seg_hi) = if p < row.n_pages() {
            row.page_bounds(p)
        } else {
            (row.len(), row.len())
        };
        let bound = (unit - p * PAGE) as u16;
        if bound == 0 {
            pos = seg_lo;
        } else {
            // Gallop: the first step past `bound`, then search the last gap.
            let mut step = 1usize;
            let mut lo = pos.max(seg_lo);
            while lo + step <= seg_hi && idx[lo + step - 1].unit() < bound {
                lo += step;
                step *= 2;
            }
            let hi = (lo + step).min(seg_hi);
            pos = lo + idx[lo..hi].partition_point(|e| e.unit() < bound);
        }
        out[blk] = pos as u32;
    }
    out[n_blocks] = idx.len() as u32;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wide code: rows over three pages, some pages empty.
    fn wide() -> (Vec<f32>, usize, usize) {
        let (batch, width) = (4, 2 * PAGE + 100);
        let mut h = vec![0.0f32; batch * width];
        let units: [&[usize]; 4] = [
            &[0, 5, PAGE - 1, PAGE, PAGE + 7, 2 * PAGE + 99],
            &[],
            &[2 * PAGE, 2 * PAGE + 3],
            &[3, PAGE - 2, PAGE - 1],
        ];
        for (b, us) in units.iter().enumerate() {
            for (k, &j) in us.iter().enumerate() {
                h[b * width + j] = 0.25 + k as f32 * 0.5;
            }
        }
        (h, batch, width)
    }

    #[test]
    fn wide_codes_keep_their_pages() {
        let (h, batch, width) = wide();
        let code = SparseCode::from_dense(&h, batch, width).unwrap();
        assert!(code.is_consistent());
        assert_eq!(code.nnz(), 11);
        assert_eq!(code.to_dense(), h);
        assert!((0..batch).all(|b| code.row_fault(b).is_none()));
        let row = code.row(0);
        assert_eq!(row.n_pages(), 3);
        let page1: Vec<u16> = row.page(1).iter().map(|e| e.unit()).collect();
        assert_eq!(page1, vec![0, 7]);
        let units: Vec<usize> = code.row(3).units().map(|e| e.0).collect();
        assert_eq!(units, vec![3, PAGE - 2, PAGE - 1]);
        // A code of no entries is consistent too, and equal codes compare equal.
        assert!(SparseCode::empty(width, 3, 5).is_consistent());
        assert_eq!(code, SparseCode::from_dense(&h, batch, width).unwrap());
    }

    #[test]
    fn block_starts_find_every_block_across_pages() {
        let (h, batch, width) = wide();
        let code = SparseCode::from_dense(&h, batch, width).unwrap();
        let block = 1024;
        let n_blocks = width.div_ceil(block);
        for b in 0..batch {
            let row = code.row(b);
            let mut out = vec![0u32; n_blocks + 1];
            row_block_starts(row, block, &mut out);
            let units: Vec<usize> = row.units().map(|e| e.0).collect();
            for (blk, &o) in out.iter().enumerate().take(n_blocks) {
                let want = units.partition_point(|&j| j < blk * block);
                assert_eq!(o as usize, want, "row {b}, block {blk}");
            }
            assert_eq!(out[n_blocks] as usize, units.len());
        }
    }

    #[test]
    fn unit_means_are_the_dense_column_means() {
        let (h, batch, width) = wide();
        let code = SparseCode::from_dense(&h, batch, width).unwrap();
        let mean = |rows: &[usize], j: usize| {
            rows.iter().map(|&b| h[b * width + j] as f64).sum::<f64>() / rows.len() as f64
        };
        let all = code.unit_means(batch);
        let every_other = code.unit_means(2); // rows 0 and 2
        for j in 0..width {
            assert_eq!(all[j], mean(&[0, 1, 2, 3], j));
            assert_eq!(every_other[j], mean(&[0, 2], j));
        }
        assert_eq!(
            SparseCode::empty(width, 3, 0).unit_means(8),
            vec![0.0; width]
        );
    }
}
