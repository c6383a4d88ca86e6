//! Dense rows of weight increments, for counter stores whose weight matrix
//! is effectively dense.
//!
//! The sparse kernel of [`super::rules::Weights::potentials`] adds, for each
//! active address unit `i`, the increment `w(M11) − w(0)` of every stored
//! synapse of row `i`: an indexed read of the counter, a rule-dependent
//! evaluation and a scattered add per synapse. When most pairs of units have
//! co-occurred (BCPNN on a small modular memory: ~80 % of the pairs), the
//! same sum is a plain `n`-wide vector add of a precomputed row, which
//! streams and vectorises. The rows hold exactly the increments the sparse
//! kernel adds (`0.0` where it adds nothing: silent or excluded synapses),
//! so the potentials and the selected units are the same bit for bit
//! (adding `0.0` leaves every value except `-0.0` unchanged, and `-0.0`
//! compares equal to `0.0`).
//!
//! **Where the switch is.** [`worth_it`] compares the estimated costs of one
//! pass of the queries: sparse `entries_read × SPARSE_COST`, dense
//! `rows_read × n × DENSE_COST + m × n × BUILD_COST` (building the rows
//! once). Measured with `cargo bench --bench memory -- bcpnn_kernel` (one
//! step for each of the 1,775 cues of ptBCPNN2's 32 x 32 workload, one
//! thread, 2-core Xeon under the same load for both): the sparse kernel
//! took 288 ms = 6.0 ns per stored synapse read, the dense one 99 ms =
//! 1.7 ns per column of a row, so the dense kernel is chosen once a row
//! holds more than about 28 % of the columns (this workload: 82 %, 2.9x
//! faster per step) and the queries read enough rows to pay for building
//! the table. The rows take `8·m·n` bytes; they are never built past
//! [`MAX_BYTES`]. A table of one-byte count codes (below) costs
//! `rows_read × n × CODED_COST + m × n × CODED_BUILD_COST` and `m·n`
//! bytes: in one criterion run (load 10–13) the sparse kernel took 491 ms
//! = 10.3 ns per stored synapse, the coded one 26 ms = 0.45 ns per column,
//! 23x; scaled to the sparse cost above that is 0.26 ns, taken as 0.3. So a
//! coded table is chosen once a row holds more than about 5 % of the
//! columns (again if the queries read enough rows to pay for building it).
//!
//! **Count codes.** Every rule but Bayes has an increment that depends on
//! the count `a` alone (BCPNN: `ln max(a/M, ε²) − 2 ln ε`), and the counts
//! of a small memory stay small (ptBCPNN2's workload: 1 to about a dozen).
//! When the table holds at most [`CODES`] distinct values (bit patterns,
//! `0.0` for an empty entry included), each entry is kept as a one-byte
//! code into a table of those values, written straight from the stored
//! counts, an eighth of the `f64` rows (1 MB instead of 8 MB for
//! 1,024 × 1,024, which fits the L2 cache). The add then looks each code up
//! (with AVX-512 in registers: one `permutex2var` per 8 columns for up to
//! 16 values, two and a blend for up to 32) and adds the same `f64` in the
//! same order, so the potentials are unchanged bit for bit. It also runs
//! column-block-major: 32 columns stay in registers while every active row
//! is added, in the order of the state as before. Measured on ptBCPNN2's
//! workload (one thread, CPU time, A/B against the `f64` rows in one
//! session): retrieval of the 1,775 cues 0.11–0.15 s → 0.04 s, together with
//! a vectorised hypercolumn arg-max and a BCPNN-specific removal of the
//! dropped in-block synapses.

use rayon::prelude::*;

/// Cost of one stored synapse in the sparse kernel (ns, measured).
pub const SPARSE_COST: f64 = 6.0;
/// Cost of one column of one row in the dense add (ns, measured).
pub const DENSE_COST: f64 = 1.7;
/// Cost of one entry while building the rows (ns; a zero fill plus the
/// stored synapses' increments).
pub const BUILD_COST: f64 = 2.0;
/// Cost of one column of one row of count codes (ns, measured relative to
/// the sparse kernel, see the module documentation).
pub const CODED_COST: f64 = 0.3;
/// Cost of one entry while building the count codes (ns; a scan of the
/// counts and a one-byte write, taken high).
pub const CODED_BUILD_COST: f64 = 1.0;
/// Largest dense table built (bytes).
pub const MAX_BYTES: usize = 256 << 20;

/// Whether dense rows (`coded`: one-byte count codes) pay off for a store
/// of `m × n` synapses holding `entries` stored synapses, when the queries
/// will read `rows_read` rows.
pub fn worth_it(m: usize, n: usize, entries: usize, rows_read: usize, coded: bool) -> bool {
    let (bytes, cost, build) = if coded {
        (1, CODED_COST, CODED_BUILD_COST)
    } else {
        (8, DENSE_COST, BUILD_COST)
    };
    if m == 0 || n == 0 || m.saturating_mul(n).saturating_mul(bytes) > MAX_BYTES {
        return false;
    }
    let per_row = entries as f64 / m as f64;
    let sparse = rows_read as f64 * per_row * SPARSE_COST;
    let dense = rows_read as f64 * n as f64 * cost + (m * n) as f64 * build;
    dense < sparse
}

/// Most distinct increments kept as one-byte codes.
pub const CODES: usize = 32;

/// The `m × n` increments, row-major.
pub enum Dense {
    /// Plain `f64` rows.
    Rows { n: usize, rows: Vec<f64> },
    /// One-byte codes into `values` (at most [`CODES`] distinct increments).
    Codes {
        n: usize,
        codes: Vec<u8>,
        values: Box<[f64; CODES]>,
        /// Number of distinct values (the codes are below it).
        distinct: usize,
    },
}

impl Dense {
    /// The increments as `f64` rows, row `i` filled by `fill(i, row)` (a
    /// zeroed row; rows in parallel, each depending only on its own index,
    /// so the table does not depend on the number of threads).
    pub fn build(m: usize, n: usize, fill: impl Fn(usize, &mut [f64]) + Sync) -> Dense {
        let mut rows = vec![0.0f64; m * n];
        rows.par_chunks_mut(n.max(1))
            .enumerate()
            .for_each(|(i, row)| fill(i, row));
        Dense::Rows { n, rows }
    }

    /// The increments as codes into `values` (at most [`CODES`]), row `i`
    /// written by `fill(i, row)` (every entry, codes below `values.len()`).
    pub fn from_codes(
        m: usize,
        n: usize,
        values: &[f64],
        fill: impl Fn(usize, &mut [u8]) + Sync,
    ) -> Dense {
        assert!(values.len() <= CODES);
        let mut codes = vec![0u8; m * n];
        codes
            .par_chunks_mut(n.max(1))
            .enumerate()
            .for_each(|(i, row)| fill(i, row));
        let mut lut = [0.0f64; CODES];
        lut[..values.len()].copy_from_slice(values);
        Dense::Codes {
            n,
            codes,
            values: Box::new(lut),
            distinct: values.len(),
        }
    }

    /// Whether the increments are kept as one-byte codes.
    pub fn is_coded(&self) -> bool {
        matches!(self, Dense::Codes { .. })
    }

    /// `x += row i` for each `i` of `s`, in the order of `s` for every
    /// column (the dense step of the potentials).
    pub fn add_rows(&self, s: &[u32], x: &mut [f64]) {
        match self {
            Dense::Rows { n, rows } => {
                for &i in s {
                    let i = i as usize;
                    add_row(x, &rows[i * n..(i + 1) * n]);
                }
            }
            Dense::Codes {
                n,
                codes,
                values,
                distinct,
            } => {
                debug_assert_eq!(x.len(), *n);
                #[cfg(target_arch = "x86_64")]
                if crate::math::simd::has_avx512() {
                    // SAFETY: the CPU has AVX-512F (checked at run time); the
                    // codes were made below `distinct`.
                    unsafe { avx512::add_codes(codes, *n, s, values, *distinct, x) };
                    return;
                }
                add_codes(codes, *n, s, values, x);
            }
        }
    }
}

/// `x += row` (the dense step of the potentials).
#[inline]
pub fn add_row(x: &mut [f64], row: &[f64]) {
    for (v, &a) in x.iter_mut().zip(row) {
        *v += a;
    }
}

/// Portable code kernel: `x_j += values[codes(i, j)]`, row by row.
pub fn add_codes(codes: &[u8], n: usize, s: &[u32], values: &[f64; CODES], x: &mut [f64]) {
    for &i in s {
        let i = i as usize;
        for (v, &c) in x.iter_mut().zip(&codes[i * n..(i + 1) * n]) {
            *v += values[c as usize % CODES];
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub(super) mod avx512 {
    use super::CODES;
    use std::arch::x86_64::*;

    /// The table in registers, and the shifts that bring byte `k` of a
    /// broadcast `u64` to the bottom of lane `k`.
    struct Lut {
        t: [__m512d; 4],
        shifts: __m512i,
        bit4: __m512i,
    }

    /// Lane `k`: code `k` of the 8 at `p` in its low byte (the bits above
    /// are ignored by the lookups). A broadcast load and a shift keep the
    /// shuffle port free for the lookups.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn spread(l: &Lut, p: *const u8) -> __m512i {
        // SAFETY: the caller guarantees 8 readable bytes at `p`.
        let q = unsafe { (p as *const i64).read_unaligned() };
        _mm512_srlv_epi64(_mm512_set1_epi64(q), l.shifts)
    }

    /// `values[c]` for the 8 codes at `p`, codes `< 16` (wide: `< 32`).
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn lookup<const WIDE: bool>(l: &Lut, p: *const u8) -> __m512d {
        let idx = unsafe { spread(l, p) };
        let lo = _mm512_permutex2var_pd(l.t[0], idx, l.t[1]);
        if !WIDE {
            return lo;
        }
        let hi = _mm512_permutex2var_pd(l.t[2], idx, l.t[3]);
        _mm512_mask_blend_pd(_mm512_test_epi64_mask(idx, l.bit4), lo, hi)
    }

    /// [`super::add_codes`] column-block-major: 32 (then 8) columns are
    /// kept in registers while the rows of `s` are added in order, so each
    /// column gets the same additions in the same order.
    ///
    /// # Safety
    /// The CPU must have AVX-512F; every code must be `< distinct <= CODES`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn add_codes(
        codes: &[u8],
        n: usize,
        s: &[u32],
        values: &[f64; CODES],
        distinct: usize,
        x: &mut [f64],
    ) {
        assert!(x.len() == n && s.iter().all(|&i| (i as usize + 1) * n <= codes.len()));
        let v = values.as_ptr();
        // SAFETY: 32 values.
        let l = unsafe {
            Lut {
                t: [
                    _mm512_loadu_pd(v),
                    _mm512_loadu_pd(v.add(8)),
                    _mm512_loadu_pd(v.add(16)),
                    _mm512_loadu_pd(v.add(24)),
                ],
                shifts: _mm512_setr_epi64(0, 8, 16, 24, 32, 40, 48, 56),
                bit4: _mm512_set1_epi64(16),
            }
        };
        let narrow = distinct <= 16;
        // SAFETY: as this function's.
        unsafe {
            if narrow {
                blocks::<false>(&l, codes, n, s, x)
            } else {
                blocks::<true>(&l, codes, n, s, x)
            }
        }
        let j0 = n / 8 * 8;
        for j in j0..n {
            for &i in s {
                x[j] += values[codes[i as usize * n + j] as usize % CODES];
            }
        }
    }

    /// The columns `0..n / 8 * 8` of [`add_codes`].
    #[target_feature(enable = "avx512f")]
    unsafe fn blocks<const WIDE: bool>(l: &Lut, codes: &[u8], n: usize, s: &[u32], x: &mut [f64]) {
        let (c, xp) = (codes.as_ptr(), x.as_mut_ptr());
        let mut j = 0;
        // SAFETY (loads and stores): every row of `s` lies in `codes`
        // (asserted by the caller); `j + 32 <= n` / `j + 8 <= n` bound the
        // columns.
        while j + 32 <= n {
            unsafe {
                let mut a = [
                    _mm512_loadu_pd(xp.add(j)),
                    _mm512_loadu_pd(xp.add(j + 8)),
                    _mm512_loadu_pd(xp.add(j + 16)),
                    _mm512_loadu_pd(xp.add(j + 24)),
                ];
                for &i in s {
                    let r = c.add(i as usize * n + j);
                    a[0] = _mm512_add_pd(a[0], lookup::<WIDE>(l, r));
                    a[1] = _mm512_add_pd(a[1], lookup::<WIDE>(l, r.add(8)));
                    a[2] = _mm512_add_pd(a[2], lookup::<WIDE>(l, r.add(16)));
                    a[3] = _mm512_add_pd(a[3], lookup::<WIDE>(l, r.add(24)));
                }
                for (t, a) in a.iter().enumerate() {
                    _mm512_storeu_pd(xp.add(j + 8 * t), *a);
                }
            }
            j += 32;
        }
        while j + 8 <= n {
            unsafe {
                let mut a = _mm512_loadu_pd(xp.add(j));
                for &i in s {
                    a = _mm512_add_pd(a, lookup::<WIDE>(l, c.add(i as usize * n + j)));
                }
                _mm512_storeu_pd(xp.add(j), a);
            }
            j += 8;
        }
    }
}
