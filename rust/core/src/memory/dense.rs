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
//! [`MAX_BYTES`].

use rayon::prelude::*;

/// Cost of one stored synapse in the sparse kernel (ns, measured).
pub const SPARSE_COST: f64 = 6.0;
/// Cost of one column of one row in the dense add (ns, measured).
pub const DENSE_COST: f64 = 1.7;
/// Cost of one entry while building the rows (ns; a zero fill plus the
/// stored synapses' increments).
pub const BUILD_COST: f64 = 2.0;
/// Largest dense table built (bytes).
pub const MAX_BYTES: usize = 256 << 20;

/// Whether dense rows pay off for a store of `m × n` synapses holding
/// `entries` stored synapses, when the queries will read `rows_read` rows.
pub fn worth_it(m: usize, n: usize, entries: usize, rows_read: usize) -> bool {
    if m == 0 || n == 0 || m.saturating_mul(n).saturating_mul(8) > MAX_BYTES {
        return false;
    }
    let per_row = entries as f64 / m as f64;
    let sparse = rows_read as f64 * per_row * SPARSE_COST;
    let dense = rows_read as f64 * n as f64 * DENSE_COST + (m * n) as f64 * BUILD_COST;
    dense < sparse
}

/// The `m × n` increments, row-major: row `i` is filled by `fill(i, row)`
/// (rows in parallel; each row depends only on its own index, so the table
/// does not depend on the number of threads).
pub fn build(m: usize, n: usize, fill: impl Fn(usize, &mut [f64]) + Sync) -> Vec<f64> {
    let mut rows = vec![0.0f64; m * n];
    rows.par_chunks_mut(n.max(1))
        .enumerate()
        .for_each(|(i, row)| fill(i, row));
    rows
}

/// `x += row` (the dense step of the potentials).
#[inline]
pub fn add_row(x: &mut [f64], row: &[f64]) {
    for (v, &a) in x.iter_mut().zip(row) {
        *v += a;
    }
}
