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
use crate::parallel::{self, Split};
use rayon::prelude::*;

/// Most samples per block (the transposed tile is `n_in × block` floats).
const SAMPLE_BLOCK: usize = 256;
/// Tile size aimed at: well inside a core's L2, so the synapses of a row
/// read their presynaptic activity from cache.
const TILE_BYTES: usize = 768 * 1024;

/// Samples per block for `n_in` presynaptic units: a multiple of 32 lanes
/// whose tile fits `TILE_BYTES`, between 32 and `SAMPLE_BLOCK`.
fn sample_block(n_in: usize, batch: usize) -> usize {
    let fit = TILE_BYTES / (4 * n_in.max(1)) / 32 * 32;
    fit.clamp(32, SAMPLE_BLOCK).min(batch)
}
/// Postsynaptic rows per block of the product.
const ROWS_PER_TASK: usize = 32;
/// When the transposes and row sums split across threads.
const SPLIT: Split = parallel::DEFAULT;
/// When the products split: their multiply-adds run 32 samples to a vector
/// loop, several times cheaper than the simple operations of
/// [`parallel::DEFAULT`]; a task needs about 20 µs of them. Measured: the
/// structural epoch's product of 100 units (320 k multiply-adds, split in
/// 4 tasks) ran 0.83x on 2 threads, sparse products of 576 k about 1.0–1.3x,
/// of 6.4 M 1.4–1.7x (`THREAD_RATIOS`, `THREAD_CROSSOVER` of the kernels bench).
const PRODUCT_SPLIT: Split = Split::new(1 << 18);

/// Presynaptic-major view of the synapses: for presynaptic neuron `j`, the
/// postsynaptic neurons `rows[indptr[j]..indptr[j+1]]` (ascending) and the
/// storage position `perm[..]` of each synapse (for its weight).
pub(crate) type Transposed = crate::math::CsrTranspose;

/// Copy the transpose of a `rows × cols` block of `src` (row stride
/// `src_stride`) to `dst` (row stride `dst_stride`): `dst[c][r] = src[r][c]`.
/// 8×8 tiles go through AVX2 shuffles when available; it only moves values,
/// so the result is the same either way.
///
/// # Safety
/// `dst` must be valid for writes of `cols` rows of `dst_stride` floats
/// (the last `rows` long), not aliased by `src`.
unsafe fn transpose_into(
    src: &[f32],
    rows: usize,
    cols: usize,
    src_stride: usize,
    dst: *mut f32,
    dst_stride: usize,
) {
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
    let (mut r8, mut c8) = (0, 0);
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        r8 = rows / 8 * 8;
        c8 = cols / 8 * 8;
        for r in (0..r8).step_by(8) {
            for c in (0..c8).step_by(8) {
                // SAFETY: the 8×8 tile is inside both blocks; AVX2 checked.
                unsafe {
                    avx2::transpose8x8(
                        src.as_ptr().add(r * src_stride + c),
                        src_stride,
                        dst.add(c * dst_stride + r),
                        dst_stride,
                    )
                };
            }
        }
    }
    let write = |r: usize, c: usize| {
        // SAFETY: (c, r) is inside the destination block (caller contract).
        unsafe { *dst.add(c * dst_stride + r) = src[r * src_stride + c] };
    };
    // Whatever the tiles did not cover: the right strip and the bottom strip.
    for r in 0..r8 {
        for c in c8..cols {
            write(r, c);
        }
    }
    for r in r8..rows {
        for c in 0..cols {
            write(r, c);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// Transpose one 8×8 tile of f32.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn transpose8x8(src: *const f32, ss: usize, dst: *mut f32, ds: usize) {
        // SAFETY: the caller guarantees 8 readable rows of 8 floats at `src`
        // and 8 writable rows of 8 floats at `dst`.
        unsafe {
            let r0 = _mm256_loadu_ps(src);
            let r1 = _mm256_loadu_ps(src.add(ss));
            let r2 = _mm256_loadu_ps(src.add(2 * ss));
            let r3 = _mm256_loadu_ps(src.add(3 * ss));
            let r4 = _mm256_loadu_ps(src.add(4 * ss));
            let r5 = _mm256_loadu_ps(src.add(5 * ss));
            let r6 = _mm256_loadu_ps(src.add(6 * ss));
            let r7 = _mm256_loadu_ps(src.add(7 * ss));
            let t0 = _mm256_unpacklo_ps(r0, r1);
            let t1 = _mm256_unpackhi_ps(r0, r1);
            let t2 = _mm256_unpacklo_ps(r2, r3);
            let t3 = _mm256_unpackhi_ps(r2, r3);
            let t4 = _mm256_unpacklo_ps(r4, r5);
            let t5 = _mm256_unpackhi_ps(r4, r5);
            let t6 = _mm256_unpacklo_ps(r6, r7);
            let t7 = _mm256_unpackhi_ps(r6, r7);
            let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
            let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
            let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
            let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
            let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
            let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
            let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
            let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
            _mm256_storeu_ps(dst, _mm256_permute2f128_ps::<0x20>(s0, s4));
            _mm256_storeu_ps(dst.add(ds), _mm256_permute2f128_ps::<0x20>(s1, s5));
            _mm256_storeu_ps(dst.add(2 * ds), _mm256_permute2f128_ps::<0x20>(s2, s6));
            _mm256_storeu_ps(dst.add(3 * ds), _mm256_permute2f128_ps::<0x20>(s3, s7));
            _mm256_storeu_ps(dst.add(4 * ds), _mm256_permute2f128_ps::<0x31>(s0, s4));
            _mm256_storeu_ps(dst.add(5 * ds), _mm256_permute2f128_ps::<0x31>(s1, s5));
            _mm256_storeu_ps(dst.add(6 * ds), _mm256_permute2f128_ps::<0x31>(s2, s6));
            _mm256_storeu_ps(dst.add(7 * ds), _mm256_permute2f128_ps::<0x31>(s3, s7));
        }
    }
}

/// Transpose a row-major `rows × cols` matrix into `out` (`cols × rows`),
/// in parallel over blocks of 32 output rows.
fn transpose(a: &[f32], rows: usize, cols: usize, out: &mut [f32]) {
    const T: usize = 32;
    if rows == 0 || cols == 0 {
        return;
    }
    out.par_chunks_mut(T * rows)
        .with_min_len(SPLIT.min_items(T * rows))
        .enumerate()
        .for_each(|(blk, o)| {
            let c0 = blk * T;
            let nc = o.len() / rows;
            // SAFETY: `o` holds exactly `nc` rows of `rows` floats.
            unsafe { transpose_into(&a[c0..], rows, nc, cols, o.as_mut_ptr(), rows) };
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
    // Lanes of samples kept in registers while a row's synapses are summed.
    const LANES: usize = 32;
    // Cache-line aligned, so the vector stores and reloads of the
    // accumulator around each (short) row never straddle a cache line,
    // whatever the alignment of the caller's stack: on a 1%-dense matrix
    // that cost ~15% of the product.
    #[repr(C, align(64))]
    struct Lanes([f32; LANES]);
    for (r, o) in out.chunks_exact_mut(nb).enumerate() {
        let (a, b) = (indptr[i0 + r], indptr[i0 + r + 1]);
        for c in (0..nb).step_by(LANES) {
            let len = LANES.min(nb - c);
            let Lanes(acc) = &mut Lanes([0.0f32; LANES]);
            if len == LANES {
                for e in a..b {
                    let j = cols[e] as usize * nb + c;
                    let w = weight(e);
                    let x: &[f32; LANES] = tile[j..j + LANES].try_into().expect("LANES wide");
                    for l in 0..LANES {
                        acc[l] += w * x[l];
                    }
                }
            } else {
                for e in a..b {
                    let j = cols[e] as usize * nb + c;
                    let w = weight(e);
                    for (acc, &x) in acc.iter_mut().zip(&tile[j..j + len]) {
                        *acc += w * x;
                    }
                }
            }
            o[c..c + len].copy_from_slice(&acc[..len]);
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
/// and a batch `x` of shape `(batch, n_in)`, into `y` (resized).
#[allow(clippy::too_many_arguments)] // the matrix's parts, the batch and the output
fn csr_times_dense<W: Fn(usize) -> f32 + Sync>(
    indptr: &[usize],
    cols: &[u32],
    weight: W,
    n_out: usize,
    n_in: usize,
    x: &[f32],
    batch: usize,
    y: &mut Vec<f32>,
) -> Result<()> {
    let n = crate::error::size_mul(batch, n_out, "the product")?;
    if y.len() != n {
        // (every element is written below, so a reused buffer is not cleared)
        *y = crate::alloc::filled(n, 0.0f32, "the product")?;
    }
    if batch == 0 || n_out == 0 {
        return Ok(());
    }
    let sb = sample_block(n_in, batch);
    let out = Out(y.as_mut_ptr());
    // Taken out of the thread-local, not borrowed: while this thread waits
    // for the parallel loop, rayon may run another product on it (another
    // caller's job in the same pool), which then finds an empty buffer.
    let mut tile = TILE.take();
    if tile.len() < n_in * sb {
        tile.resize(n_in * sb, 0.0);
    }
    for b0 in (0..batch).step_by(sb) {
        let nb = sb.min(batch - b0);
        let tile = &mut tile[..n_in * nb];
        transpose(&x[b0 * n_in..(b0 + nb) * n_in], nb, n_in, tile);
        let tile = &*tile;
        let n_tasks = n_out.div_ceil(ROWS_PER_TASK);
        // Multiply-adds of a block of rows (average row length), plus its output.
        let task_work = (cols.len() / n_out + 1) * ROWS_PER_TASK * nb;
        let tasks = (0..n_tasks).into_par_iter();
        tasks
            .with_min_len(PRODUCT_SPLIT.min_items(task_work))
            .for_each_init(
                || vec![0.0f32; ROWS_PER_TASK * nb],
                |acc, task| {
                    let i0 = task * ROWS_PER_TASK;
                    let rows = ROWS_PER_TASK.min(n_out - i0);
                    let acc = &mut acc[..rows * nb];
                    rows_dispatch(indptr, cols, &weight, i0, acc, nb, tile);
                    // SAFETY: the block (samples b0.., rows i0..i0+rows) is
                    // inside `y` and written by this task only; `y` outlives
                    // the parallel loop.
                    unsafe {
                        transpose_into(acc, rows, nb, nb, out.ptr().add(b0 * n_out + i0), n_out)
                    };
                },
            );
    }
    TILE.set(tile);
    Ok(())
}

impl SynapseMatrix {
    /// Dendritic input of every postsynaptic neuron: `y = x Wᵀ` for a batch
    /// `x` of shape `(batch, n_pre)`, giving `(batch, n_post)`.
    pub fn forward(&self, x: &[f32], batch: usize) -> Result<Vec<f32>> {
        let mut y = Vec::new();
        self.forward_into(x, batch, &mut y)?;
        Ok(y)
    }

    /// [`Self::forward`] into `y` (resized to `batch * n_post`), so a loop
    /// over batches reuses one buffer instead of faulting in fresh pages
    /// for every product.
    pub fn forward_into(&self, x: &[f32], batch: usize, y: &mut Vec<f32>) -> Result<()> {
        check_len("presynaptic activity", x.len(), batch, self.n_pre)?;
        let (ip, ix) = (&self.indptr, &self.indices);
        match self.weights.as_deref() {
            Some(w) => csr_times_dense(ip, ix, |e| w[e], self.n_post, self.n_pre, x, batch, y),
            None => csr_times_dense(ip, ix, |_| 1.0, self.n_post, self.n_pre, x, batch, y),
        }
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
        let mut y = Vec::new();
        match self.weights.as_deref() {
            Some(w) => csr_times_dense(
                ip,
                rows,
                |e| w[perm[e] as usize],
                self.n_pre,
                self.n_post,
                g,
                batch,
                &mut y,
            ),
            None => csr_times_dense(ip, rows, |_| 1.0, self.n_pre, self.n_post, g, batch, &mut y),
        }?;
        Ok(y)
    }

    /// The presynaptic-major index (built once per structure).
    pub(crate) fn transposed(&self) -> &Transposed {
        self.transposed
            .get_or_init(|| Transposed::new(&self.indptr, &self.indices, self.n_pre, true))
    }

    /// Sum of the weights onto each postsynaptic neuron.
    pub fn row_sums(&self) -> Vec<f32> {
        (0..self.n_post)
            .into_par_iter()
            .with_min_len(SPLIT.min_items(self.nnz() / self.n_post.max(1) + 1))
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
