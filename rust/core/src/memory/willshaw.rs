//! Integer dendritic potentials of the Willshaw rule and the output
//! selection on them.
//!
//! Under the clipped Hebb rule a potential is the number of potentiated
//! synapses from the active state units, an integer in `0..=|s|`. Counting
//! in `u8` (states of at most 255 units) or `u16` (at most 65,535) instead
//! of `f64` keeps the potentials of a 100,000-unit memory in 100 kB (L2)
//! instead of 800 kB, so the scattered increments from the rows stay in
//! cache; the scratch is reused across queries (cleared with one `memset`,
//! not reallocated), and the selection reads the counts with vectorisable
//! block maxima and a histogram instead of a sort. The selected units are
//! exactly those of [`super::retrieval::select`] on the `f64` potentials of
//! [`super::rules::Weights::potentials`]: the integers are the same values.
//!
//! A threshold that allows at most a few misses (the natural threshold
//! `θ = |s|` of a clean or subset query allows none) needs no potentials at
//! all: a unit reaching `θ` is listed in at least one of any `|s| − θ + 1`
//! rows, so those rows give the candidates and the other rows only confirm
//! or drop them by galloping search ([`by_intersection`]). After two rows of
//! a sparse memory few candidates remain, so most of each row is never read.

use super::retrieval::Mode;
use super::AssocStore;

/// An unsigned counter for the potentials.
pub trait Count: Copy + Default + Ord + Send + Sync + 'static {
    const MAX: usize;
    fn from_usize(v: usize) -> Self;
    fn to_usize(self) -> usize;
    fn inc(&mut self);
    fn dec(&mut self);
}

macro_rules! count_impl {
    ($t:ty) => {
        impl Count for $t {
            const MAX: usize = <$t>::MAX as usize;
            #[inline]
            fn from_usize(v: usize) -> Self {
                v as $t
            }
            #[inline]
            fn to_usize(self) -> usize {
                self as usize
            }
            #[inline]
            fn inc(&mut self) {
                *self = self.wrapping_add(1);
            }
            #[inline]
            fn dec(&mut self) {
                *self = self.wrapping_sub(1);
            }
        }
    };
}
count_impl!(u8);
count_impl!(u16);
count_impl!(u32);

/// Willshaw potentials of the state `s` (sorted address units) into `x`
/// (length `n`, overwritten): the number of potentiated synapses from `s`
/// to each content unit, without the in-block synapses (`i ≠ j` in the same
/// block of `block` units) when `block > 1` (hypercolumn retrieval in
/// auto-association). `s.len()` must not exceed `T::MAX`.
pub fn potentials<T: Count>(store: &AssocStore, s: &[u32], block: usize, x: &mut [T]) {
    debug_assert!(s.len() <= T::MAX);
    let excl = store.is_auto() && block > 1;
    x.fill(T::default());
    if store.is_inverted() {
        // Rows list the silent synapses: x_j = |s| − #silent(s → j).
        for &i in s {
            for &j in store.row(i as usize) {
                x[j as usize].inc();
            }
        }
        let k = s.len();
        for v in x.iter_mut() {
            *v = T::from_usize(k - v.to_usize());
        }
    } else {
        for &i in s {
            for &j in store.row(i as usize) {
                x[j as usize].inc();
            }
        }
    }
    if excl {
        // Remove the potentiated synapses inside each active unit's block
        // (the row is sorted, so they are one slice of it).
        let n = store.n();
        for &i in s {
            let i = i as usize;
            let b0 = (i / block) * block;
            let b1 = (b0 + block).min(n);
            let row = store.row(i);
            let lo = row.partition_point(|&j| (j as usize) < b0);
            let hi = row.partition_point(|&j| (j as usize) < b1);
            if store.is_inverted() {
                // Potentiated = the block's units not listed as silent.
                let silent = &row[lo..hi];
                let mut t = 0usize;
                for j in b0..b1 {
                    if t < silent.len() && silent[t] as usize == j {
                        t += 1;
                    } else if j != i {
                        x[j].dec();
                    }
                }
            } else {
                for &j in &row[lo..hi] {
                    if j as usize != i {
                        x[j as usize].dec();
                    }
                }
            }
        }
    }
}

/// Rows that intersection is used for: at most this many misses allowed.
const MAX_MISSES: usize = 3;

/// First position `>= from` in the sorted `row` whose value is `>= v`
/// (exponential then binary search).
#[inline]
fn gallop(row: &[u32], from: usize, v: u32) -> usize {
    // Invariant: every index in from..lo holds a value < v.
    let (mut lo, mut step) = (from, 1usize);
    let mut hi = from;
    while hi < row.len() && row[hi] < v {
        lo = hi + 1;
        hi = from + step;
        step *= 2;
    }
    let hi = hi.min(row.len());
    lo + row[lo..hi].partition_point(|&x| x < v)
}

/// First position `>= from` in the sorted `row` (values `< n`) whose value
/// is `>= v`, starting at the position `v` would have if the row's values
/// were spread evenly (they are random units): usually the answer is a
/// cache line or two away, where a search from `from` would touch a dozen.
#[inline]
pub(super) fn seek(row: &[u32], from: usize, v: u32, n: usize) -> usize {
    let len = row.len();
    let guess = ((v as u64 * len as u64) / n.max(1) as u64) as usize;
    let g = guess.clamp(from, len);
    if g < len && row[g] < v {
        return gallop(row, g, v);
    }
    // The answer lies in from..=g (row[g] >= v, or g = len): gallop back.
    let (mut hi, mut step) = (g, 1usize);
    loop {
        let lo = hi.saturating_sub(step).max(from);
        if lo == from || row[lo] < v {
            return lo + row[lo..hi].partition_point(|&x| x < v);
        }
        hi = lo;
        step *= 2;
    }
}

/// Read, for each candidate, the entry of each of the rows where it should
/// be ([`seek`]'s first guess). The reads do not depend on one another, so
/// the processor has their cache misses in flight together, instead of one
/// after the other as the searches that follow would (each search needs the
/// value it read before it knows where to look next).
fn touch_ahead(rows: &[&[u32]], cand: &[(u32, u32)], n: usize) {
    const MAX_READS: usize = 512;
    if rows.len() * cand.len() > MAX_READS {
        return;
    }
    let mut acc = 0u32;
    for row in rows {
        let len = row.len();
        if len == 0 {
            continue;
        }
        for &(j, _) in cand {
            let g = ((j as u64 * len as u64) / n.max(1) as u64) as usize;
            acc = acc.wrapping_add(row[g.min(len - 1)]);
        }
    }
    std::hint::black_box(acc);
}

/// Willshaw threshold retrieval `{j : x_j >= t}` without potentials, for a
/// plain (not inverted) store without excluded blocks, when `t` allows at
/// most [`MAX_MISSES`] of the `|s|` active units to miss; `None` when it
/// does not apply. Exactly the units the counting kernel selects.
pub fn by_intersection(store: &AssocStore, s: &[u32], t: f64) -> Option<Vec<u32>> {
    let (k, n) = (s.len(), store.n());
    if store.is_inverted() || t.is_nan() || t <= 0.0 || t > k as f64 {
        return None;
    }
    let t = t.ceil() as usize; // counts are integers
    let misses = k - t;
    if misses > MAX_MISSES {
        return None;
    }
    // Shortest rows first: fewest candidates, earliest pruning.
    let mut rows: Vec<&[u32]> = s.iter().map(|&i| store.row(i as usize)).collect();
    rows.sort_by_key(|r| r.len());
    // Candidates with their counts: the union of the first misses + 1 rows.
    let mut cand: Vec<(u32, u32)> = rows[0].iter().map(|&j| (j, 1)).collect();
    for row in &rows[1..=misses] {
        let mut out = Vec::with_capacity(cand.len() + row.len());
        let (mut a, mut b) = (0usize, 0usize);
        while a < cand.len() || b < row.len() {
            if b >= row.len() || (a < cand.len() && cand[a].0 < row[b]) {
                out.push(cand[a]);
                a += 1;
            } else if a >= cand.len() || row[b] < cand[a].0 {
                out.push((row[b], 1));
                b += 1;
            } else {
                out.push((cand[a].0, cand[a].1 + 1));
                a += 1;
                b += 1;
            }
        }
        cand = out;
    }
    // Each further row confirms candidates; one that can no longer reach t
    // with the rows left is dropped.
    for (r, row) in rows.iter().enumerate().skip(misses + 1) {
        let left = (k - r - 1) as u32;
        let mut pos = 0usize;
        // Many candidates: walk the row (it streams); few: jump to where
        // each should be (a cache miss or two each, the rest never read).
        let walk = cand.len() * 64 > row.len();
        if !walk && r + 1 < k {
            touch_ahead(&rows[r..], &cand, n);
        }
        cand.retain_mut(|(j, c)| {
            pos = if walk {
                pos + row[pos..].iter().take_while(|&&x| x < *j).count()
            } else {
                seek(row, pos, *j, n)
            };
            if pos < row.len() && row[pos] == *j {
                *c += 1;
            }
            *c + left >= t as u32
        });
        if cand.is_empty() {
            break;
        }
    }
    Some(
        cand.into_iter()
            .filter(|&(_, c)| c as usize >= t)
            .map(|(j, _)| j)
            .collect(),
    )
}

/// Units with `x_j >= t`, ascending; `t >= 1`. Blocks of 64 counts are
/// skipped on their maximum (vectorised), so a sparse output costs one pass
/// of block maxima over `x`.
fn at_least<T: Count>(x: &[T], t: T) -> Vec<u32> {
    const B: usize = 64;
    let mut out = Vec::new();
    for (b, chunk) in x.chunks(B).enumerate() {
        let top = chunk.iter().fold(T::default(), |a, &v| a.max(v));
        if top >= t {
            for (o, &v) in chunk.iter().enumerate() {
                if v >= t {
                    out.push((b * B + o) as u32);
                }
            }
        }
    }
    out
}

/// The active units selected from the integer potentials `x` for a state of
/// `active` units, as [`super::retrieval::select`] selects them from the
/// same potentials in `f64` under the Willshaw rule.
pub fn select<T: Count>(x: &[T], mode: Mode, active: usize) -> Vec<u32> {
    let all = || (0..x.len() as u32).collect::<Vec<u32>>();
    // Units with x >= t for a real threshold t.
    let over = |t: f64| -> Vec<u32> {
        if t <= 0.0 {
            all()
        } else if t > T::MAX as f64 {
            Vec::new()
        } else {
            // x >= t  <=>  x >= ceil(t) for integers x; t >= tiny > 0 here.
            at_least(x, T::from_usize(t.ceil() as usize))
        }
    };
    match mode {
        Mode::Threshold(Some(t)) => over(t),
        Mode::Threshold(None) => over(active as f64),
        Mode::Wta(0) => Vec::new(),
        Mode::Wta(l) => {
            // The l-th largest potential: the largest v with at least l
            // counts >= v, found from the top by vectorised counting passes
            // (a good retrieval needs one or two; a histogram's increments
            // of the same few bins would form one long dependency chain).
            let l = l.min(x.len());
            let top = x.iter().fold(T::default(), |a, &v| a.max(v)).to_usize();
            let t = (1..=top)
                .rev()
                .find(|&v| {
                    let v = T::from_usize(v);
                    x.iter().filter(|&&c| c >= v).count() >= l
                })
                .unwrap_or(0);
            over(t as f64)
        }
        Mode::Hypercolumn(h) => super::retrieval::hypercolumn_winners(x, h),
    }
}
