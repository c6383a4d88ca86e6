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
            // The l-th largest potential from a histogram of the counts.
            let l = l.min(x.len());
            let top = x.iter().fold(T::default(), |a, &v| a.max(v)).to_usize();
            let mut hist = vec![0usize; top + 1];
            for &v in x {
                hist[v.to_usize()] += 1;
            }
            let mut seen = 0usize;
            let mut t = 0usize;
            for v in (0..=top).rev() {
                seen += hist[v];
                if seen >= l {
                    t = v;
                    break;
                }
            }
            over(t as f64)
        }
        Mode::Hypercolumn(h) => {
            let size = x.len() / h;
            (0..h)
                .map(|g| {
                    let block = &x[g * size..(g + 1) * size];
                    let mut best = 0usize;
                    for (t, v) in block.iter().enumerate() {
                        if *v > block[best] {
                            best = t;
                        }
                    }
                    (g * size + best) as u32
                })
                .collect()
        }
    }
}
