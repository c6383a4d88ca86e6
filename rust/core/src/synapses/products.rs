//! Products of sparse synapses with dense activity, parallel with rayon.
//!
//! Both products run the same kernel: the activity of a block of samples is
//! transposed to unit-major order, so each synapse adds `w · x[j, block]` to
//! its postsynaptic neuron's row with one contiguous, vectorised axpy (the
//! loop order scipy uses), and rows are split across threads. Every output
//! element is accumulated in the storage order of its synapses, so results
//! are bit-identical for any number of threads and with or without AVX2.
//! The transposed product uses a presynaptic-major index of the matrix that
//! is built on first use and kept until the structure changes.

use super::SynapseMatrix;
use crate::error::{check_len, Result};
use rayon::prelude::*;

/// Samples per block: the transposed tile is `n × SAMPLE_BLOCK` floats.
const SAMPLE_BLOCK: usize = 256;
/// Postsynaptic rows per parallel task.
const ROWS_PER_TASK: usize = 32;

/// Presynaptic-major view of the synapses: for presynaptic neuron `j`, the
/// postsynaptic neurons `rows[indptr[j]..indptr[j+1]]` (ascending) and the
/// storage position `perm[..]` of each synapse (for its weight).
#[derive(Debug, Clone, Default)]
pub(crate) struct Transposed {
    pub indptr: Vec<usize>,
    pub rows: Vec<u32>,
    pub perm: Vec<u32>,
}

impl Transposed {
    pub(crate) fn memory_bytes(&self) -> usize {
        self.indptr.capacity() * std::mem::size_of::<usize>()
            + (self.rows.capacity() + self.perm.capacity()) * std::mem::size_of::<u32>()
    }
}

/// Transpose a row-major `rows × cols` matrix into `out` (`cols × rows`),
/// in parallel over blocks of output rows; each block reads contiguous runs
/// of the input and keeps its output lines in L1.
fn transpose(a: &[f32], rows: usize, cols: usize, out: &mut [f32]) {
    const T: usize = 32;
    if rows == 0 || cols == 0 {
        return;
    }
    out.par_chunks_mut(T * rows)
        .enumerate()
        .for_each(|(blk, o)| {
            let c0 = blk * T;
            let nc = o.len() / rows;
            for r in 0..rows {
                let src = &a[r * cols + c0..r * cols + c0 + nc];
                for (c, &v) in src.iter().enumerate() {
                    o[c * rows + r] = v;
                }
            }
        });
}

/// Accumulate `out_i = Σ_e w(e) · tile[col(e)]` for the rows `i0..` that
/// `out` covers (`nb` floats per row). Inlined into the feature-specific
/// wrappers below so the axpy is vectorised for each instruction set.
#[inline(always)]
fn rows_kernel<W: Fn(usize) -> f32>(
    indptr: &[usize],
    cols: &[u32],
    weight: &W,
    i0: usize,
    out: &mut [f32],
    nb: usize,
    tile: &[f32],
) {
    for (r, o) in out.chunks_exact_mut(nb).enumerate() {
        let i = i0 + r;
        o.fill(0.0);
        for e in indptr[i]..indptr[i + 1] {
            let j = cols[e] as usize;
            let w = weight(e);
            let x = &tile[j * nb..(j + 1) * nb];
            for (o, &x) in o.iter_mut().zip(x) {
                *o += w * x;
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn rows_kernel_avx2<W: Fn(usize) -> f32>(
    indptr: &[usize],
    cols: &[u32],
    weight: &W,
    i0: usize,
    out: &mut [f32],
    nb: usize,
    tile: &[f32],
) {
    rows_kernel(indptr, cols, weight, i0, out, nb, tile)
}

fn rows_dispatch<W: Fn(usize) -> f32>(
    indptr: &[usize],
    cols: &[u32],
    weight: &W,
    i0: usize,
    out: &mut [f32],
    nb: usize,
    tile: &[f32],
) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above. Without FMA the
        // arithmetic is the same per element, so results match the SSE path.
        unsafe { rows_kernel_avx2(indptr, cols, weight, i0, out, nb, tile) };
        return;
    }
    rows_kernel(indptr, cols, weight, i0, out, nb, tile)
}

/// Raw pointer to the output, shared by tasks that write disjoint elements.
#[derive(Clone, Copy)]
struct Out(*mut f32);
// SAFETY: tasks write disjoint (row, sample) elements; see `csr_times_dense`.
unsafe impl Send for Out {}
unsafe impl Sync for Out {}

impl Out {
    /// Through a method, so closures capture the `Sync` wrapper, not the raw pointer.
    fn ptr(&self) -> *mut f32 {
        self.0
    }
}

thread_local! {
    /// Transposed-activity tile, reused across calls (no page faults per call).
    static TILE: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `y = x Aᵀ` for a compressed-row `A` (`n_out` rows over `n_in` columns)
/// and a batch `x` of shape `(batch, n_in)`.
fn csr_times_dense<W: Fn(usize) -> f32 + Sync>(
    indptr: &[usize],
    cols: &[u32],
    weight: W,
    n_out: usize,
    n_in: usize,
    x: &[f32],
    batch: usize,
) -> Vec<f32> {
    let mut y = vec![0.0f32; batch * n_out];
    if batch == 0 || n_out == 0 {
        return y;
    }
    let sb = SAMPLE_BLOCK.min(batch);
    let out = Out(y.as_mut_ptr());
    TILE.with_borrow_mut(|tile| {
        if tile.len() < n_in * sb {
            tile.resize(n_in * sb, 0.0);
        }
        for b0 in (0..batch).step_by(sb) {
            let nb = sb.min(batch - b0);
            let tile = &mut tile[..n_in * nb];
            transpose(&x[b0 * n_in..(b0 + nb) * n_in], nb, n_in, tile);
            let tile = &*tile;
            let n_tasks = n_out.div_ceil(ROWS_PER_TASK);
            (0..n_tasks).into_par_iter().for_each_init(
                || vec![0.0f32; ROWS_PER_TASK * nb],
                |acc, task| {
                    let i0 = task * ROWS_PER_TASK;
                    let rows = ROWS_PER_TASK.min(n_out - i0);
                    let acc = &mut acc[..rows * nb];
                    rows_dispatch(indptr, cols, &weight, i0, acc, nb, tile);
                    let out = out.ptr();
                    for b in 0..nb {
                        for r in 0..rows {
                            // SAFETY: element (b0 + b, i0 + r) is inside `y`
                            // and written by this task only (its rows, this
                            // block's samples); `y` outlives the parallel loop.
                            unsafe {
                                *out.add((b0 + b) * n_out + i0 + r) = acc[r * nb + b];
                            }
                        }
                    }
                },
            );
        }
    });
    y
}

impl SynapseMatrix {
    /// Dendritic input of every postsynaptic neuron: `y = x Wᵀ` for a batch
    /// `x` of shape `(batch, n_pre)`, giving `(batch, n_post)`.
    pub fn forward(&self, x: &[f32], batch: usize) -> Result<Vec<f32>> {
        check_len("presynaptic activity", x.len(), batch, self.n_pre)?;
        let (ip, ix) = (&self.indptr, &self.indices);
        Ok(match self.weights.as_deref() {
            Some(w) => csr_times_dense(ip, ix, |e| w[e], self.n_post, self.n_pre, x, batch),
            None => csr_times_dense(ip, ix, |_| 1.0, self.n_post, self.n_pre, x, batch),
        })
    }

    /// Transposed product, e.g. for backpropagated errors or feedback:
    /// `x = g W` for `g` of shape `(batch, n_post)`, giving `(batch, n_pre)`.
    pub fn backward(&self, g: &[f32], batch: usize) -> Result<Vec<f32>> {
        check_len("postsynaptic signal", g.len(), batch, self.n_post)?;
        if self.nnz() > u32::MAX as usize {
            return Err(crate::Error::Value(format!(
                "the transposed product supports up to {} synapses, this matrix has {}",
                u32::MAX,
                self.nnz()
            )));
        }
        let t = self.transposed();
        let (ip, rows, perm) = (&t.indptr, &t.rows, &t.perm);
        Ok(match self.weights.as_deref() {
            Some(w) => csr_times_dense(
                ip,
                rows,
                |e| w[perm[e] as usize],
                self.n_pre,
                self.n_post,
                g,
                batch,
            ),
            None => csr_times_dense(ip, rows, |_| 1.0, self.n_pre, self.n_post, g, batch),
        })
    }

    /// The presynaptic-major index (built once per structure).
    pub(crate) fn transposed(&self) -> &Transposed {
        self.transposed.get_or_init(|| {
            let mut indptr = vec![0usize; self.n_pre + 1];
            for &j in &self.indices {
                indptr[j as usize + 1] += 1;
            }
            for j in 0..self.n_pre {
                indptr[j + 1] += indptr[j];
            }
            let mut next = indptr.clone();
            let mut rows = vec![0u32; self.nnz()];
            let mut perm = vec![0u32; self.nnz()];
            for i in 0..self.n_post {
                for e in self.indptr[i]..self.indptr[i + 1] {
                    let j = self.indices[e] as usize;
                    rows[next[j]] = i as u32;
                    perm[next[j]] = e as u32;
                    next[j] += 1;
                }
            }
            Transposed { indptr, rows, perm }
        })
    }

    /// Sum of the weights onto each postsynaptic neuron.
    pub fn row_sums(&self) -> Vec<f32> {
        (0..self.n_post)
            .into_par_iter()
            .map(|i| match self.weights.as_deref() {
                Some(w) => w[self.indptr[i]..self.indptr[i + 1]].iter().sum(),
                None => (self.indptr[i + 1] - self.indptr[i]) as f32,
            })
            .collect()
    }

    /// Number of synapses onto each postsynaptic neuron (in-degree).
    pub fn row_counts(&self) -> Vec<usize> {
        self.indptr.windows(2).map(|w| w[1] - w[0]).collect()
    }
}
