//! The readout: a softmax layer on the sparse hidden code, learned by the
//! delta rule.
//!
//! The hidden code of the rectified layer is sparse (a unit is active on
//! about a fraction `target_activity` of the inputs), so the code is stored
//! once per fit as compressed rows ([`SparseCode`]) and every readout
//! product runs over the active units only:
//!
//! * logits `z_b = c + Σ_{j active} h_bj V_{·j}`, with the readout stored
//!   hidden-major (`V_{·j}` is one contiguous row of `n_classes` floats);
//! * delta rule `ΔV_{·j} = (η/B) Σ_b (t_b − p_b) h_bj − η λ V_{·j}`, the sum
//!   over the batch accumulated per block of hidden units (blocks in
//!   parallel, samples in batch order inside a block, so the result does not
//!   depend on the number of threads).
//!
//! The training code stores 16-bit unit indices and bfloat16 activities
//! ([`super::code`]): the epochs stream it from memory. Prediction stores
//! no code: it streams each sample's exact activities into its logits.

use super::activation::above_threshold;
pub use super::code::SparseCode;
use super::code::{row_block_starts, ChunkBuilder, CodeRow, Entry, PAGE};
use super::kernels::{self, InputMajor};
use super::{activate, check_finite, check_nonneg_input, class_stride, StructuralNet, LANES};
use crate::energy::tally;
use crate::error::{check_len, Error, Result};
use crate::math::simd::multiversion;
use crate::math::softmax;
use crate::rng::stream_rng;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::Deserialize;

/// Samples whose dense drive is held at once while building a code with
/// the blocked kernel.
const CODE_BLOCK: usize = 512;
/// Samples per parallel task while building a code (and per chunk of it).
const CODE_TASK: usize = 64;
const _: () = assert!(CODE_BLOCK.is_multiple_of(CODE_TASK));
/// Hidden units per parallel task of the readout update.
const UNIT_BLOCK: usize = 1024;
const _: () = assert!(PAGE.is_multiple_of(UNIT_BLOCK));

/// `y += a · x` over whole [`LANES`]-wide chunks (lengths are multiples of
/// `LANES`), written so the compiler keeps each chunk in one vector register.
#[inline(always)]
fn axpy_lanes(y: &mut [f32], a: f32, x: &[f32]) {
    for (yc, xc) in y.chunks_exact_mut(LANES).zip(x.chunks_exact(LANES)) {
        let yc: &mut [f32; LANES] = yc.try_into().expect("LANES wide");
        let xc: &[f32; LANES] = xc.try_into().expect("LANES wide");
        for l in 0..LANES {
            yc[l] += a * xc[l];
        }
    }
}

/// `y += (a0 x0 + a1 x1) + (a2 x2 + a3 x3)` over whole [`LANES`]-wide chunks.
#[inline(always)]
fn axpy4_lanes(y: &mut [f32], a: [f32; 4], x: [&[f32]; 4]) {
    for (c, yc) in y.chunks_exact_mut(LANES).enumerate() {
        let yc: &mut [f32; LANES] = yc.try_into().expect("LANES wide");
        let xc: [&[f32; LANES]; 4] = x.map(|r| {
            r[c * LANES..(c + 1) * LANES]
                .try_into()
                .expect("LANES wide")
        });
        for l in 0..LANES {
            yc[l] += (a[0] * xc[0][l] + a[1] * xc[1][l]) + (a[2] * xc[2][l] + a[3] * xc[3][l]);
        }
    }
}

/// [`axpy_lanes`] for rows of exactly `S` floats as whole arrays (one or
/// two vector registers instead of a loop over chunks), or for any length
/// with `S = 0`; the same operations either way, so the same bits.
#[inline(always)]
fn axpy<const S: usize>(y: &mut [f32], a: f32, x: &[f32]) {
    if S == 0 {
        return axpy_lanes(y, a, x);
    }
    let y: &mut [f32; S] = y.try_into().expect("S wide");
    let x: &[f32; S] = x.try_into().expect("S wide");
    for l in 0..S {
        y[l] += a * x[l];
    }
}

/// [`axpy4_lanes`] as [`axpy`] is to [`axpy_lanes`].
#[inline(always)]
fn axpy4<const S: usize>(y: &mut [f32], a: [f32; 4], x: [&[f32]; 4]) {
    if S == 0 {
        return axpy4_lanes(y, a, x);
    }
    let y: &mut [f32; S] = y.try_into().expect("S wide");
    let x: [&[f32; S]; 4] = x.map(|r| r.try_into().expect("S wide"));
    for l in 0..S {
        y[l] += (a[0] * x[0][l] + a[1] * x[1][l]) + (a[2] * x[2][l] + a[3] * x[3][l]);
    }
}

/// The row strides with whole-array kernels (8 and 16: up to 16 classes);
/// `S = 0` is any other.
macro_rules! by_stride {
    ($stride:expr, $f:ident$(::<$($g:tt),*>)?($($arg:expr),*)) => {
        match $stride {
            8 => $f::<8 $($(, $g)*)?>($($arg),*),
            16 => $f::<16 $($(, $g)*)?>($($arg),*),
            _ => $f::<0 $($(, $g)*)?>($($arg),*),
        }
    };
}

/// A presynaptic rate as a kernel reads it: exact (`f32`) or from an
/// [`Entry`] of a [`SparseCode`].
trait Rate: Copy {
    fn rate(self) -> f32;
}

impl Rate for f32 {
    #[inline(always)]
    fn rate(self) -> f32 {
        self
    }
}

impl Rate for Entry {
    #[inline(always)]
    fn rate(self) -> f32 {
        Entry::rate(self)
    }
}

/// A presynaptic unit's index as a kernel reads it: 32 bits, or an
/// [`Entry`]'s 16 within its page. (A kernel on entries reads the same
/// slice as units and as rates: one load per entry.)
trait Unit: Copy {
    fn at(self) -> usize;
}

impl Unit for u32 {
    #[inline(always)]
    fn at(self) -> usize {
        self as usize
    }
}

impl Unit for Entry {
    #[inline(always)]
    fn at(self) -> usize {
        self.unit() as usize
    }
}

/// `z += Σ_k val[k] · V[idx[k]]` over rows of `stride` floats of `v` (see
/// [`accumulate_rows`]): four entries at a time, summed in pairs before
/// they reach `z`, so that the loads and products of four rows overlap
/// instead of each waiting on the previous addition into `z`; the rest
/// one by one. The order depends on the entries alone.
#[inline(always)]
fn accumulate_rows_at<const S: usize, I: Unit, R: Rate>(
    z: &mut [f32],
    v: &[f32],
    stride: usize,
    idx: &[I],
    val: &[R],
) {
    debug_assert_eq!(z.len(), stride, "one row of the readout");
    if S > 0 {
        // The sum stays in registers: through `z` every addition would wait
        // on the store of the previous one.
        let mut acc = [0.0f32; S];
        acc.copy_from_slice(z);
        gather_rows::<S, I, R>(&mut acc, v, idx, val);
        z.copy_from_slice(&acc);
    } else {
        gather_rows::<S, I, R>(z, v, idx, val);
    }
}

/// The loop of [`accumulate_rows_at`], rows as long as `z`.
#[inline(always)]
fn gather_rows<const S: usize, I: Unit, R: Rate>(z: &mut [f32], v: &[f32], idx: &[I], val: &[R]) {
    let stride = z.len();
    let row = |j: I| &v[j.at() * stride..(j.at() + 1) * stride];
    let (quads, rest) = idx.split_at(idx.len() / 4 * 4);
    for (j, h) in quads.chunks_exact(4).zip(val.chunks_exact(4)) {
        axpy4::<S>(
            z,
            [h[0].rate(), h[1].rate(), h[2].rate(), h[3].rate()],
            [row(j[0]), row(j[1]), row(j[2]), row(j[3])],
        );
    }
    for (&j, &h) in rest.iter().zip(&val[quads.len()..]) {
        axpy::<S>(z, h.rate(), row(j));
    }
}

#[inline(always)]
fn accumulate_rows_body(z: &mut [f32], v: &[f32], stride: usize, idx: &[u32], val: &[f32]) {
    by_stride!(stride, accumulate_rows_at::<_, _>(z, v, stride, idx, val))
}

#[inline(always)]
fn accumulate_stored_rows_body(z: &mut [f32], v: &[f32], stride: usize, entries: &[Entry]) {
    by_stride!(
        stride,
        accumulate_rows_at::<_, _>(z, v, stride, entries, entries)
    )
}

multiversion! {
    /// The row-gathering product of the readout (the logits of one sample
    /// from its exact rates), compiled for the widest vector unit: the same
    /// multiplications and additions in the same order on every CPU, so the
    /// same bits.
    pub fn accumulate_rows(z: &mut [f32], v: &[f32], stride: usize, idx: &[u32], val: &[f32]) -> () = accumulate_rows_body;
}

multiversion! {
    /// [`accumulate_rows`] on one page of a row of a [`SparseCode`] (units
    /// from the start of `v`).
    pub fn accumulate_stored_rows(z: &mut [f32], v: &[f32], stride: usize, entries: &[Entry]) -> () = accumulate_stored_rows_body;
}

/// `z += Σ_b Σ_{k in rows[b] ∩ block} h_bk · e_b` for block `blk` of
/// [`UNIT_BLOCK`] presynaptic units, `z` holding the block's rows (`stride`
/// floats per unit), the batch's samples in order and each over its entries
/// inside the block, found from `starts` ([`row_block_starts`], `per_row`
/// offsets per row). A block lies in one page of the code.
#[inline(always)]
fn block_delta_at<const S: usize>(
    z: &mut [f32],
    err: &[f32],
    stride: usize,
    rows: &[CodeRow<'_>],
    starts: &[u32],
    per_row: usize,
    blk: usize,
) {
    let stride = if S == 0 { stride } else { S };
    let j0 = blk * UNIT_BLOCK % PAGE;
    for (b, row) in rows.iter().enumerate() {
        let at = b * per_row + blk;
        let (lo, hi) = (starts[at] as usize, starts[at + 1] as usize);
        let e = &err[b * stride..(b + 1) * stride];
        for h in &row.entries[lo..hi] {
            let r = (h.unit() as usize - j0) * stride;
            axpy::<S>(&mut z[r..r + stride], h.rate(), e);
        }
    }
}

#[inline(always)]
fn block_delta_body(
    z: &mut [f32],
    err: &[f32],
    stride: usize,
    rows: &[CodeRow<'_>],
    starts: &[u32],
    per_row: usize,
    blk: usize,
) {
    by_stride!(
        stride,
        block_delta_at(z, err, stride, rows, starts, per_row, blk)
    )
}

multiversion! {
    /// [`block_delta_body`] for the widest vector unit (same bits everywhere).
    pub fn block_delta(
        z: &mut [f32],
        err: &[f32],
        stride: usize,
        rows: &[CodeRow<'_>],
        starts: &[u32],
        per_row: usize,
        blk: usize,
    ) -> () = block_delta_body;
}

/// The constants of [`update_rows`] for one batch.
#[derive(Debug, Clone, Copy)]
pub struct RowUpdate {
    /// `1 − ηλ` (weight decay).
    pub keep: f32,
    /// `η / B`.
    pub scale: f32,
    /// Weight of the new weights in the running mean.
    pub f_avg: f32,
}

/// Class lanes updated together by [`update_rows_at`].
const LANE_GROUP: usize = 16;

/// One block's readout rows after a batch, rows of `err_sum.len()` lanes:
/// `V_j ← keep·V_j + scale·(G_j − m_j E)` (`E` the batch's summed error;
/// `means` empty: not centred), then the running mean `A ← A + f·(V − A)`
/// if kept and `offset += m_j V_j`. Returns the writes (changed weights)
/// and `Σ|ΔV|`, each lane summed over the rows in order. Lanes go in
/// groups of up to [`LANE_GROUP`], all of a row of `S` lanes at once (one
/// or two vector registers; `S = 0`: any width); every lane's sums run
/// over the rows in order either way, so the same bits.
#[inline(always)]
fn update_rows_at<const S: usize>(
    v: &mut [f32],
    g: &[f32],
    means: &[f32],
    err_sum: &[f32],
    mut avg: Option<&mut [f32]>,
    offset: &mut [f32],
    u: RowUpdate,
) -> (u64, f64) {
    let cs = if S == 0 { err_sum.len() } else { S };
    let rows = v.len() / cs;
    let (mut writes, mut change) = (0u64, 0.0f64);
    let mut l0 = 0;
    while l0 < cs {
        let w = if S == 0 { LANE_GROUP.min(cs - l0) } else { S };
        let (mut n, mut sa) = ([0u32; LANE_GROUP], [0.0f32; LANE_GROUP]);
        let e = &err_sum[l0..l0 + w];
        for j in 0..rows {
            let at = j * cs + l0;
            let (wr, gr) = (&mut v[at..at + w], &g[at..at + w]);
            let m = means.get(j).copied().unwrap_or(0.0);
            for l in 0..w {
                let new = u.keep * wr[l] + u.scale * (gr[l] + -m * e[l]);
                let d = (new - wr[l]).abs();
                n[l] += u32::from(d != 0.0);
                sa[l] += d;
                wr[l] = new;
            }
            if let Some(a) = avg.as_deref_mut() {
                for (a, &v) in a[at..at + w].iter_mut().zip(wr.iter()) {
                    *a += u.f_avg * (v - *a);
                }
            }
            if !means.is_empty() {
                for (o, &v) in offset[l0..l0 + w].iter_mut().zip(wr.iter()) {
                    *o += m * v;
                }
            }
        }
        writes += n[..w].iter().map(|&k| k as u64).sum::<u64>();
        change += sa[..w].iter().map(|&x| x as f64).sum::<f64>();
        l0 += w;
    }
    (writes, change)
}

#[inline(always)]
fn update_rows_body(
    v: &mut [f32],
    g: &[f32],
    means: &[f32],
    err_sum: &[f32],
    avg: Option<&mut [f32]>,
    offset: &mut [f32],
    u: RowUpdate,
) -> (u64, f64) {
    by_stride!(
        err_sum.len(),
        update_rows_at(v, g, means, err_sum, avg, offset, u)
    )
}

multiversion! {
    /// [`update_rows_at`] for the widest vector unit (same bits everywhere).
    pub fn update_rows(
        v: &mut [f32],
        g: &[f32],
        means: &[f32],
        err_sum: &[f32],
        avg: Option<&mut [f32]>,
        offset: &mut [f32],
        u: RowUpdate,
    ) -> (u64, f64) = update_rows_body;
}

/// Output error below which a sample changes no readout synapse (see
/// [`gate_errors`]).
pub const ERROR_GATE: f32 = 1e-3;

/// The samples of a batch (errors `err`, `cs` lanes each; coded rows;
/// block starts, `per_row` each) with some output error of at least
/// [`ERROR_GATE`], in batch order: the delta rule with a dead zone. Each
/// dropped sample's change would be below `ERROR_GATE · h` per synapse;
/// on MNIST, where after the first epoch most samples are learned, the
/// update then costs a fraction of the logits, at the same accuracy.
fn gate_errors<'a>(
    err: Vec<f32>,
    rows: Vec<CodeRow<'a>>,
    starts: Vec<u32>,
    cs: usize,
    per_row: usize,
) -> (Vec<f32>, Vec<CodeRow<'a>>, Vec<u32>) {
    let open = |b: usize| {
        err[b * cs..(b + 1) * cs]
            .iter()
            .any(|v| v.abs() >= ERROR_GATE)
    };
    let kept: Vec<usize> = (0..rows.len()).filter(|&b| open(b)).collect();
    if kept.len() == rows.len() {
        return (err, rows, starts);
    }
    let mut e = Vec::with_capacity(kept.len() * cs);
    let mut st = Vec::with_capacity(kept.len() * per_row);
    let mut r = Vec::with_capacity(kept.len());
    for &b in &kept {
        e.extend_from_slice(&err[b * cs..(b + 1) * cs]);
        st.extend_from_slice(&starts[b * per_row..(b + 1) * per_row]);
        r.push(rows[b]);
    }
    (e, r, st)
}

/// How the readout learns in [`StructuralNet::readout_fit`]: epoch `e`
/// runs at `rates[e]` over a shuffled order (shuffle stream `e` of `seed`);
/// learning stops early when the epoch loss has not fallen below the best
/// loss minus `tol` for `n_iter_no_change` consecutive epochs (0: run every
/// scheduled epoch).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadoutSchedule {
    pub rates: Vec<f32>,
    pub batch_size: usize,
    /// Weight decay.
    pub l2: f32,
    pub tol: f64,
    pub n_iter_no_change: usize,
    pub seed: u64,
    /// From this epoch on, the readout keeps the running mean of its
    /// weights after every batch of the epoch, restarted with each epoch,
    /// and ends as the mean over its last epoch (tail averaging, after
    /// Polyak–Ruppert: the noise of the late stochastic steps averages out,
    /// and the early, distant weights are left out). `None`: the last
    /// weights.
    #[serde(default)]
    pub average_from: Option<usize>,
    /// Learn on activities centred on each presynaptic unit's mean over
    /// the code (see [`Centring`]); the readout ends in the usual form.
    #[serde(default)]
    pub centre: bool,
}

/// Samples on which [`Centring`] estimates the units' means (a
/// preconditioner: any fixed means give the same logits, so an estimate
/// serves; all of MNIST's 60,000 would cost a pass over the whole code).
const CENTRING_ROWS: usize = 8192;

/// The delta rule on centred presynaptic activities `h_j − m_j`, `m_j` the
/// unit's mean activity over the training code (estimated on up to
/// [`CENTRING_ROWS`] rows; the covariance form of
/// the Hebbian rule, Sejnowski 1977): `ΔV_j = (η/B) Σ_b e_b (h_bj − m_j)`.
/// Every activity of the rectified layer is ≥ 0, so without centring all
/// readout synapses share one large common component and plain gradient
/// steps zig-zag along it (LeCun et al. 1998, "Efficient BackProp"); with
/// it a higher rate converges in fewer epochs. The logits are
/// unchanged: `z = c' + Σ_j h_j V_j − Σ_j m_j V_j` with `c' = c + Σ_j m_j
/// V_j`, so the code stays sparse, the offset `Σ_j m_j V_j` is one dense
/// pass per batch (fused with the update's), and the fit ends with
/// `c = c' − Σ_j m_j V_j`.
pub(super) struct Centring {
    means: Vec<f32>,
    /// `Σ_j m_j V_j` for the current weights (`class_stride` lanes).
    offset: Vec<f32>,
}

impl Centring {
    fn new(net: &StructuralNet, code: &SparseCode) -> Self {
        let means = code
            .unit_means(CENTRING_ROWS)
            .iter()
            .map(|&m| m as f32)
            .collect();
        let mut c = Centring {
            means,
            offset: Vec::new(),
        };
        c.offset = c.offset_of(&net.readout_t, class_stride(net.n_classes));
        c
    }

    /// `Σ_j m_j V_j` over rows of `cs` lanes, per block of [`UNIT_BLOCK`]
    /// units then the blocks in order (as the update sums it).
    fn offset_of(&self, v: &[f32], cs: usize) -> Vec<f32> {
        let mut total = vec![0.0f32; cs];
        for (blk, vb) in v.chunks(UNIT_BLOCK * cs).enumerate() {
            let mut part = vec![0.0f32; cs];
            for (jj, row) in vb.chunks_exact(cs).enumerate() {
                axpy_lanes(&mut part, self.means[blk * UNIT_BLOCK + jj], row);
            }
            axpy_lanes(&mut total, 1.0, &part);
        }
        total
    }

    /// Into the centred form: `c' = c + Σ_j m_j V_j`.
    fn enter(&self, net: &mut StructuralNet) {
        for (b, o) in net.readout_bias.iter_mut().zip(&self.offset) {
            *b += o;
        }
    }

    /// Back to the usual form: `c = c' − Σ_j m_j V_j` of the final weights.
    fn leave(&self, net: &mut StructuralNet) {
        let offset = self.offset_of(&net.readout_t, class_stride(net.n_classes));
        for (b, o) in net.readout_bias.iter_mut().zip(&offset) {
            *b -= o;
        }
    }
}

/// Running mean of the readout weights and biases after every batch.
pub(super) struct Average {
    weights: Vec<f32>,
    bias: Vec<f32>,
    count: u32,
}

impl Average {
    fn new(net: &StructuralNet) -> Self {
        Average {
            weights: net.readout_t.clone(),
            bias: net.readout_bias.clone(),
            count: 0,
        }
    }

    /// Make the mean the readout, counting every changed weight as a write.
    fn install(self, net: &mut StructuralNet) {
        let mut acc = (0u64, 0.0f64);
        for (w, a) in net
            .readout_t
            .iter_mut()
            .chain(net.readout_bias.iter_mut())
            .zip(self.weights.iter().chain(&self.bias))
        {
            tally(&mut acc, (a - *w).abs());
            *w = *a;
        }
        net.readout_counters.record(acc.0, acc.1);
    }
}

/// What a readout fit carries from batch to batch besides the weights.
pub(super) struct Carry {
    /// The running mean of the weights ([`ReadoutSchedule::average_from`]).
    average: Option<Average>,
    /// The centring of the activities ([`ReadoutSchedule::centre`]).
    centre: Option<Centring>,
    /// Where each block of [`UNIT_BLOCK`] units starts in every row of the
    /// code ([`block_table`]), found once per fit instead of every epoch.
    starts: Vec<u32>,
}

impl Carry {
    /// For a fit on `code`: its block starts, no running mean, no centring.
    pub(super) fn new(code: &SparseCode) -> Self {
        Carry {
            average: None,
            centre: None,
            starts: block_table(code),
        }
    }
}

/// Blocks of [`UNIT_BLOCK`] units in a readout `width` units wide (at
/// least one).
fn n_unit_blocks(width: usize) -> usize {
    width.div_ceil(UNIT_BLOCK).max(1)
}

/// [`row_block_starts`] of every row of `code`, `n_unit_blocks + 1`
/// offsets each.
fn block_table(code: &SparseCode) -> Vec<u32> {
    let per_row = n_unit_blocks(code.n_hidden) + 1;
    let mut table = vec![0u32; code.n_samples() * per_row];
    table
        .par_chunks_mut(per_row)
        .enumerate()
        .for_each(|(b, st)| row_block_starts(code.row(b), UNIT_BLOCK, st));
    table
}

/// Pseudo-samples of classes absent from the data (see
/// [`StructuralNet::readout_fit_translated`]): every sample `h_b` of class
/// `c` also stands, translated to `h_b − μ_c + μ_k`, for each absent class
/// `k` of `absent`, counting as `weight` samples. `prototypes` holds the
/// class means `μ` of the readout input, class-major
/// `(n_classes, n_readout_in)` (rows of classes neither present nor absent
/// are not read).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Translation {
    pub prototypes: Vec<f32>,
    pub absent: Vec<u32>,
    pub weight: f32,
}

/// One epoch of the readout delta rule in [`StructuralNet::readout_epoch`].
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadoutStep {
    pub rate: f32,
    pub batch_size: usize,
    /// Weight decay.
    pub l2: f32,
}

/// What a readout fit did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadoutFit {
    /// Mean cross-entropy of every epoch (measured during the epoch, before
    /// each batch's update).
    pub loss: Vec<f64>,
    /// Whether the loss stopped improving before the last scheduled epoch.
    pub converged: bool,
}

impl StructuralNet {
    /// The sparse hidden code `h = f(W x − θ)` of `n` samples, followed in
    /// every row by the non-zero inputs when the readout has the direct
    /// pathway.
    pub fn code(&self, x: &[f32], n: usize) -> Result<SparseCode> {
        check_len("input", x.len(), n, self.n_in)?;
        check_nonneg_input(x)?;
        self.code_unchecked(x, n)
    }

    /// [`Self::code`] without the input checks (callers have done them).
    pub(crate) fn code_unchecked(&self, x: &[f32], n: usize) -> Result<SparseCode> {
        let nh = self.n_hidden;
        let direct = self.direct();
        // Every task holds CODE_TASK samples but the last: its rows become
        // one chunk of the code.
        let width = self.n_readout_in();
        let parts = self.visit_active(
            x,
            n,
            || ChunkBuilder::new(width),
            |rows, at, hv, xb| {
                if !rows.has_room() {
                    // (the samples of a task have about as many active units: room for
                    // a quarter more, so the chunk seldom grows)
                    rows.reserve((at.len() + at.len() / 4 + 1) * CODE_TASK);
                }
                for (&i, &h) in at.iter().zip(hv) {
                    rows.push(i as usize, h);
                }
                if direct {
                    for (j, &v) in xb.iter().enumerate() {
                        rows.push(nh + j, v);
                    }
                }
                rows.end_row();
            },
        )?;
        if parts.is_empty() {
            // (no inputs: every row is empty)
            return Ok(SparseCode::empty(width, CODE_TASK, n));
        }
        let mut code = SparseCode::new(width, CODE_TASK);
        for rows in parts {
            code.push_chunk(rows);
        }
        Ok(code)
    }

    /// Readout logits of `n` samples, `(n, n_classes)`, from their exact
    /// (single-precision) activities: prediction needs no stored code, so
    /// it streams each sample's active units straight into its logits and
    /// is a smooth function of the inputs.
    pub(crate) fn logits_unchecked(&self, x: &[f32], n: usize) -> Result<Vec<f32>> {
        let (c, cs, nh) = (self.n_classes, class_stride(self.n_classes), self.n_hidden);
        let direct = self.direct();
        // Per task: its samples' logits, one row of lanes, the direct entries.
        type Part = (Vec<f32>, Vec<f32>, Vec<u32>, Vec<f32>);
        let init = || -> Part { (Vec::new(), vec![0.0; cs], Vec::new(), Vec::new()) };
        let parts = self.visit_active(x, n, init, |(out, z, di, dv), at, hv, xb| {
            z.fill(0.0);
            z[..c].copy_from_slice(&self.readout_bias);
            accumulate_rows(z, &self.readout_t, cs, at, hv);
            if direct {
                di.clear();
                dv.clear();
                for (j, &v) in xb.iter().enumerate().filter(|(_, &v)| v != 0.0) {
                    di.push((nh + j) as u32);
                    dv.push(v);
                }
                accumulate_rows(z, &self.readout_t, cs, di, dv);
            }
            out.extend_from_slice(&z[..c]);
        })?;
        if parts.is_empty() {
            // (no inputs: the bias alone)
            return Ok(self.readout_bias.repeat(n));
        }
        let mut logits = Vec::with_capacity(n * c);
        for (part, ..) in parts {
            logits.extend_from_slice(&part);
        }
        Ok(logits)
    }

    /// For every task of [`CODE_TASK`] samples (in parallel, tasks in
    /// order), a state from `init`, and `visit(state, units, f(u), x_b)`
    /// for each of its samples in order, with the hidden units above
    /// threshold (ascending) and their activities. No tasks when there are
    /// no samples or no inputs.
    fn visit_active<T, I, V>(&self, x: &[f32], n: usize, init: I, visit: V) -> Result<Vec<T>>
    where
        T: Send,
        I: Fn() -> T + Sync + Send,
        V: Fn(&mut T, &[u32], &[f32], &[f32]) + Sync + Send,
    {
        let (d, nh) = (self.n_in, self.n_hidden);
        if d == 0 || n == 0 {
            return Ok(Vec::new());
        }
        let n_inh = self.inhibition.as_ref().map_or(0, |inh| inh.n_inh);
        // Per task: the inhibitory rates of one sample, and the positions
        // and drives of its units above threshold.
        type Scratch = (Vec<f32>, Vec<u32>, Vec<f32>);
        let scratch = || -> Scratch { (vec![0.0f32; n_inh], vec![0u32; nh], vec![0.0f32; nh]) };
        // `s` (raw drive of one sample) becomes u = s − θ (− G r); the units
        // with u > 0 are gathered, then f(u) of those alone.
        let active = |s: &mut [f32], (r, at, hv): &mut Scratch, xb: &[f32], state: &mut T| {
            for (v, t) in s.iter_mut().zip(&self.theta) {
                *v -= t;
            }
            if let Some(inh) = &self.inhibition {
                inh.apply_row(s, r);
            }
            let n = above_threshold(s, at, hv);
            activate(&mut hv[..n]);
            visit(state, &at[..n], &hv[..n], xb);
        };
        if kernels::prefer_scatter(x) {
            let cols = InputMajor::new(&self.hidden);
            return Ok(x
                .par_chunks(d * CODE_TASK)
                .map_init(
                    || (vec![0.0f32; nh], scratch()),
                    |(acc, sc), xs| {
                        let mut state = init();
                        for xb in xs.chunks(d) {
                            cols.scatter(xb, acc);
                            active(acc, sc, xb, &mut state);
                        }
                        state
                    },
                )
                .collect());
        }
        let mut states = Vec::new();
        for xs in x.chunks(d * CODE_BLOCK) {
            crate::cancel::check()?;
            let mut s = self.hidden.forward(xs, xs.len() / d)?;
            let mut block: Vec<T> = s
                .par_chunks_mut(nh * CODE_TASK)
                .zip(xs.par_chunks(d * CODE_TASK))
                .map_init(scratch, |sc, (ss, xt)| {
                    let mut state = init();
                    for (sb, xb) in ss.chunks_mut(nh).zip(xt.chunks(d)) {
                        active(sb, sc, xb, &mut state);
                    }
                    state
                })
                .collect();
            states.append(&mut block);
        }
        Ok(states)
    }

    fn check_code(&self, code: &SparseCode) -> Result<()> {
        let width = self.n_readout_in();
        if code.n_hidden != width {
            return Err(Error::Shape(format!(
                "hidden code has {} units, the readout {width}",
                code.n_hidden
            )));
        }
        if !code.is_consistent() {
            return Err(Error::Value("corrupt hidden code".into()));
        }
        for b in 0..code.n_samples() {
            if let Some(fault) = code.row_fault(b) {
                return Err(Error::Value(format!("hidden code row {b} {fault}")));
            }
        }
        Ok(())
    }

    /// Readout logits `h Vᵀ + c` of the coded samples, `(n_samples, n_classes)`.
    pub fn logits_from_code(&self, code: &SparseCode) -> Result<Vec<f32>> {
        self.check_code(code)?;
        Ok(self.logits_from_code_unchecked(code))
    }

    /// [`Self::logits_from_code`] of a code this network built (sorted,
    /// finite and in range by construction: the check is a serial pass over
    /// gigabytes on MNIST).
    pub(crate) fn logits_from_code_unchecked(&self, code: &SparseCode) -> Vec<f32> {
        let (c, cs) = (self.n_classes, class_stride(self.n_classes));
        let mut out = vec![0.0f32; code.n_samples() * c];
        out.par_chunks_mut(c).enumerate().for_each_init(
            || vec![0.0f32; cs],
            |z, (b, o)| {
                self.logits_row(code.row(b), z);
                o.copy_from_slice(&z[..c]);
            },
        );
        out
    }

    /// Logits of one coded row into `z` (`class_stride` long; the padding
    /// lanes stay 0), page by page.
    #[inline]
    fn logits_row(&self, row: CodeRow<'_>, z: &mut [f32]) {
        let (c, cs) = (self.n_classes, class_stride(self.n_classes));
        z.fill(0.0);
        z[..c].copy_from_slice(&self.readout_bias);
        for p in 0..row.n_pages() {
            let page = row.page(p);
            if !page.is_empty() {
                accumulate_stored_rows(z, &self.readout_t[p * PAGE * cs..], cs, page);
            }
        }
    }

    fn check_readout_args(&self, labels: &[u32], n: usize, rate: f32, l2: f32) -> Result<()> {
        check_len("labels", labels.len(), n, 1)?;
        if !(rate.is_finite() && rate >= 0.0 && l2.is_finite() && l2 >= 0.0) {
            return Err(Error::Value(format!(
                "readout rate {rate} and l2 {l2} must be finite and >= 0"
            )));
        }
        if let Some(&c) = labels.iter().find(|&&c| c as usize >= self.n_classes) {
            return Err(Error::Index(format!(
                "label {c} is not below n_classes = {}",
                self.n_classes
            )));
        }
        Ok(())
    }

    /// One delta-rule step on the coded samples `rows` (labels `labels[row]`);
    /// returns the summed cross-entropy of the batch before the step.
    #[cfg(test)]
    pub(super) fn readout_step_code(
        &mut self,
        code: &SparseCode,
        labels: &[u32],
        rows: &[u32],
        rate: f32,
        l2: f32,
    ) -> f64 {
        let step = ReadoutStep {
            rate,
            batch_size: rows.len(),
            l2,
        };
        self.readout_step_translated(code, labels, rows, None, &step, &mut Carry::new(code))
    }

    /// [`Self::readout_step_code`] with the translated pseudo-samples of
    /// `tr` (if any) in the batch. The logits of a translated sample are
    /// those of its source plus `V(μ_k − μ_c)` (the readout is linear), and
    /// its weight change splits into the source's sparse row and a dense
    /// term per prototype, so the pseudo-samples cost little more than the
    /// samples. The step is normalised by the number of samples and the
    /// returned loss is theirs alone. `carry.average`, if any, takes in the new
    /// weights (its running mean after every step).
    pub(super) fn readout_step_translated(
        &mut self,
        code: &SparseCode,
        labels: &[u32],
        rows: &[u32],
        tr: Option<&Translation>,
        step: &ReadoutStep,
        carry: &mut Carry,
    ) -> f64 {
        let &ReadoutStep { rate, l2, .. } = step;
        let batch = rows.len();
        if batch == 0 {
            return 0.0;
        }
        let (c, cs) = (self.n_classes, class_stride(self.n_classes));
        let width = self.n_readout_in();
        // V μ_q of every class (no bias), lanes padded.
        let proto_logits: Vec<f32> = match tr {
            Some(t) => (0..c)
                .into_par_iter()
                .flat_map_iter(|q| {
                    let mut z = vec![0.0f32; cs];
                    let mu = &t.prototypes[q * width..(q + 1) * width];
                    for (j, &m) in mu.iter().enumerate() {
                        if m != 0.0 {
                            axpy_lanes(&mut z, m, &self.readout_t[j * cs..(j + 1) * cs]);
                        }
                    }
                    z
                })
                .collect(),
            None => Vec::new(),
        };
        // Error t − p of every sample plus the errors of its translations
        // (padding lanes 0), and per sample the prototype coefficients
        // `G[q]` of its translations (+g for the target prototype, −g for
        // its own class's).
        let mut err = vec![0.0f32; batch * cs];
        let n_g = if tr.is_some() { c * cs } else { 0 };
        // (one unused lane per sample without translations, so that the
        // zip below still visits every sample)
        let mut coef = vec![0.0f32; batch * n_g.max(1)];
        // The coded rows of the batch's samples, in batch order.
        let batch_rows: Vec<CodeRow<'_>> = rows.iter().map(|&s| code.row(s as usize)).collect();
        // Per block of presynaptic units, where it starts in every sample's
        // row (from the fit's table).
        let n_blocks = n_unit_blocks(width);
        debug_assert_eq!(carry.starts.len(), code.n_samples() * (n_blocks + 1));
        let mut starts = vec![0u32; batch * (n_blocks + 1)];
        let losses: Vec<f64> = err
            .par_chunks_mut(cs)
            .zip(coef.par_chunks_mut(n_g.max(1)))
            .zip(starts.par_chunks_mut(n_blocks + 1))
            .zip(rows.par_iter().zip(&batch_rows))
            .map(|(((e, gq), st), (&s, &row))| {
                self.logits_row(row, e);
                if let Some(ct) = &carry.centre {
                    for (z, o) in e.iter_mut().zip(&ct.offset) {
                        *z -= o;
                    }
                }
                let at = s as usize * st.len();
                st.copy_from_slice(&carry.starts[at..at + st.len()]);
                let src = labels[s as usize] as usize;
                let z = e[..c].to_vec();
                let e = &mut e[..c];
                softmax(e);
                let loss = -(e[src].max(1e-30) as f64).ln();
                for (k, v) in e.iter_mut().enumerate() {
                    *v = if k == src { 1.0 } else { 0.0 } - *v;
                }
                if let Some(t) = tr {
                    let mut zp = vec![0.0f32; c];
                    for &k in &t.absent {
                        let k = k as usize;
                        for q in 0..c {
                            zp[q] = z[q] + proto_logits[k * cs + q] - proto_logits[src * cs + q];
                        }
                        softmax(&mut zp);
                        for q in 0..c {
                            let g = t.weight * (if q == k { 1.0 } else { 0.0 } - zp[q]);
                            e[q] += g;
                            gq[k * cs + q] += g;
                            gq[src * cs + q] -= g;
                        }
                    }
                }
                loss
            })
            .collect();
        let loss: f64 = losses.iter().sum();
        // Prototype coefficients of the batch, summed in batch order.
        let mut g_proto = vec![0.0f32; n_g];
        for gq in coef.chunks(n_g.max(1)).filter(|_| n_g > 0) {
            for (a, &v) in g_proto.iter_mut().zip(gq) {
                *a += v;
            }
        }
        let protos: Vec<(usize, &[f32])> = (0..c)
            .filter(|&q| n_g > 0 && g_proto[q * cs..(q + 1) * cs].iter().any(|&v| v != 0.0))
            .map(|q| (q, &g_proto[q * cs..(q + 1) * cs]))
            .collect();
        let mu_of = |q: usize, j: usize| tr.map_or(0.0, |t| t.prototypes[q * width + j]);
        // The delta rule's dead zone: a sample whose every output error is
        // below ERROR_GATE changes nothing (without translations, whose
        // coefficients do not show in the sum of its errors). Late in
        // learning most samples are learned, so the update runs over the
        // few that are not.
        let (err, batch_rows, starts) = if tr.is_none() {
            gate_errors(err, batch_rows, starts, cs, n_blocks + 1)
        } else {
            (err, batch_rows, starts)
        };
        // Centring's dense part: −m_j Σ_b e_b (every error, translations'
        // included, summed in batch order).
        let means: &[f32] = carry.centre.as_ref().map_or(&[], |ct| &ct.means);
        let mut err_sum = vec![0.0f32; cs];
        if !means.is_empty() {
            for e in err.chunks_exact(cs) {
                axpy_lanes(&mut err_sum, 1.0, e);
            }
        }
        let scale = rate / batch as f32;
        let keep = 1.0 - rate * l2;
        // Per block of presynaptic units (in parallel), the batch's samples
        // in batch order, each over its active units inside the block (a
        // sample's active units are sorted, so the block's share of a row is
        // one contiguous range): ΔV_j = Σ_b e_b h_bj sums in batch order for
        // every j, whatever the number of threads, with no transposed copy.
        // The running mean of the weights (Polyak–Ruppert), if kept, is
        // updated in the same blocks, while the new weights are in cache.
        let (f_avg, mut avg_blocks): (f32, Vec<Option<&mut [f32]>>) = match carry.average.as_mut() {
            Some(a) => {
                a.count += 1;
                let blocks = a.weights.chunks_mut(UNIT_BLOCK * cs).map(Some).collect();
                (1.0 / a.count as f32, blocks)
            }
            None => (0.0, (0..n_blocks).map(|_| None).collect()),
        };
        let counts: Vec<(u64, f64, Vec<f32>)> = self
            .readout_t
            .par_chunks_mut(UNIT_BLOCK * cs)
            .zip(avg_blocks.par_iter_mut())
            .enumerate()
            .map(|(blk, (vb, avg))| {
                let j0 = blk * UNIT_BLOCK;
                let mut g = vec![0.0f32; vb.len()];
                block_delta(&mut g, &err, cs, &batch_rows, &starts, n_blocks + 1, blk);
                // The translations' dense part: Σ_q μ_qj G_q.
                if !protos.is_empty() {
                    for (jj, gr) in g.chunks_exact_mut(cs).enumerate() {
                        for &(q, gq) in &protos {
                            let m = mu_of(q, j0 + jj);
                            if m != 0.0 {
                                axpy_lanes(gr, m, gq);
                            }
                        }
                    }
                }
                // The rows, their writes and Σ|Δw| (the padding lanes hold
                // 0 and get 0: no write), the running mean, and this block's
                // share of the new offset Σ_j m_j V_j.
                let m = if means.is_empty() {
                    &[][..]
                } else {
                    &means[j0..j0 + vb.len() / cs]
                };
                let mut offset = vec![0.0f32; if means.is_empty() { 0 } else { cs }];
                let u = RowUpdate { keep, scale, f_avg };
                let (writes, change) =
                    update_rows(vb, &g, m, &err_sum, avg.as_deref_mut(), &mut offset, u);
                (writes, change, offset)
            })
            .collect();
        let mut offset = vec![0.0f32; cs];
        for (n_w, s, part) in counts {
            self.readout_counters.record(n_w, s);
            if !part.is_empty() {
                axpy_lanes(&mut offset, 1.0, &part);
            }
        }
        if let Some(ct) = &mut carry.centre {
            ct.offset = offset;
        }
        for k in 0..c {
            let g: f32 = err.chunks_exact(cs).map(|e| e[k]).sum();
            let old = self.readout_bias[k];
            self.readout_bias[k] = old + scale * g;
            let ch = (self.readout_bias[k] - old).abs();
            if ch != 0.0 {
                self.readout_counters.record(1, ch as f64);
            }
        }
        if let Some(a) = &mut carry.average {
            for (m, &v) in a.bias.iter_mut().zip(&self.readout_bias) {
                *m += f_avg * (v - *m);
            }
        }
        loss
    }

    /// One epoch of the delta rule over the coded samples in `order`, in
    /// mini-batches; returns the mean cross-entropy.
    fn readout_epoch_code(
        &mut self,
        code: &SparseCode,
        labels: &[u32],
        order: &[u32],
        step: &ReadoutStep,
        tr: Option<&Translation>,
        carry: &mut Carry,
    ) -> f64 {
        let mut loss = 0.0f64;
        for chunk in order.chunks(step.batch_size) {
            loss += self.readout_step_translated(code, labels, chunk, tr, step, carry);
        }
        if order.is_empty() {
            0.0
        } else {
            loss / order.len() as f64
        }
    }

    /// One epoch of the readout delta rule (softmax output, cross-entropy):
    /// `ΔV_kj = (η/B) Σ_b (t_bk − p_bk) h_bj − η λ V_kj`, `Δc_k = (η/B) Σ_b (t_bk − p_bk)`,
    /// over the samples in `order`. Local: the change of a readout synapse
    /// is its output unit's error times its presynaptic activity. Returns the
    /// mean cross-entropy.
    pub fn readout_epoch(
        &mut self,
        x: &[f32],
        labels: &[u32],
        n: usize,
        order: &[u32],
        step: &ReadoutStep,
    ) -> Result<f64> {
        let ReadoutStep {
            rate,
            batch_size,
            l2,
        } = *step;
        check_len("input", x.len(), n, self.n_in)?;
        check_nonneg_input(x)?;
        self.check_readout_args(labels, n, rate, l2)?;
        if batch_size == 0 {
            return Err(Error::Value("batch_size must be positive".into()));
        }
        if let Some(&s) = order.iter().find(|&&s| s as usize >= n) {
            return Err(Error::Index(format!("sample index {s} is not below {n}")));
        }
        let code = self.code_unchecked(x, n)?;
        Ok(self.readout_epoch_code(&code, labels, order, step, None, &mut Carry::new(&code)))
    }

    fn check_fit_args(&self, labels: &[u32], n: usize, sched: &ReadoutSchedule) -> Result<()> {
        self.check_readout_args(labels, n, 0.0, sched.l2)?;
        if let Some(r) = sched.rates.iter().find(|r| !(r.is_finite() && **r >= 0.0)) {
            return Err(Error::Value(format!(
                "readout rates must be finite and >= 0, got {r}"
            )));
        }
        if sched.batch_size == 0 {
            return Err(Error::Value("batch_size must be positive".into()));
        }
        let tol = sched.tol;
        if !(tol.is_finite() && tol >= 0.0) {
            return Err(Error::Value(format!(
                "tol must be finite and >= 0, got {tol}"
            )));
        }
        if n > u32::MAX as usize {
            return Err(Error::Value(format!("at most {} samples", u32::MAX)));
        }
        Ok(())
    }

    /// Train the readout on `n` samples by `sched`; the hidden code is
    /// computed once.
    pub fn readout_fit(
        &mut self,
        x: &[f32],
        labels: &[u32],
        n: usize,
        sched: &ReadoutSchedule,
    ) -> Result<ReadoutFit> {
        check_len("input", x.len(), n, self.n_in)?;
        check_nonneg_input(x)?;
        self.check_fit_args(labels, n, sched)?;
        let code = self.code_unchecked(x, n)?;
        self.readout_fit_inner(&code, labels, sched, None)
    }

    /// [`Self::readout_fit`] with every sample also translated to the
    /// classes of `tr.absent` (see [`Translation`]): in a class-incremental
    /// stream these stand for the classes seen before and absent now, so
    /// that the delta rule keeps telling them from the new ones instead of
    /// pushing their output units down wherever the new inputs are active
    /// (feature translation, Petit et al. 2023, FeTrIL, here on the hidden
    /// code and with the class means as the only memory of old classes).
    pub fn readout_fit_translated(
        &mut self,
        x: &[f32],
        labels: &[u32],
        n: usize,
        sched: &ReadoutSchedule,
        tr: &Translation,
    ) -> Result<ReadoutFit> {
        check_len("input", x.len(), n, self.n_in)?;
        check_nonneg_input(x)?;
        self.check_fit_args(labels, n, sched)?;
        check_len(
            "prototypes",
            tr.prototypes.len(),
            self.n_classes,
            self.n_readout_in(),
        )?;
        check_finite("prototypes", &tr.prototypes)?;
        self.check_readout_args(&tr.absent, tr.absent.len(), 0.0, 0.0)?;
        if !(tr.weight.is_finite() && tr.weight >= 0.0) {
            return Err(Error::Value(format!(
                "translation weight must be finite and >= 0, got {}",
                tr.weight
            )));
        }
        let code = self.code_unchecked(x, n)?;
        self.readout_fit_inner(&code, labels, sched, Some(tr))
    }

    /// Per class, the sum of the readout's presynaptic activity over the
    /// samples of that class (`(n_classes, n_readout_in)`, class-major) and
    /// the number of samples: what running class means (prototypes) need.
    pub fn class_sums(&self, x: &[f32], labels: &[u32], n: usize) -> Result<(Vec<f64>, Vec<u64>)> {
        check_len("input", x.len(), n, self.n_in)?;
        check_nonneg_input(x)?;
        self.check_readout_args(labels, n, 0.0, 0.0)?;
        let code = self.code_unchecked(x, n)?;
        let width = self.n_readout_in();
        let mut counts = vec![0u64; self.n_classes];
        for &k in labels {
            counts[k as usize] += 1;
        }
        let mut sums = vec![0.0f64; self.n_classes * width];
        // One class per task, its samples in order: thread-count invariant.
        sums.par_chunks_mut(width.max(1))
            .enumerate()
            .for_each(|(k, row)| {
                for (b, _) in labels.iter().enumerate().filter(|(_, &l)| l as usize == k) {
                    for (j, h) in code.row(b).units() {
                        row[j] += h as f64;
                    }
                }
            });
        Ok((sums, counts))
    }

    /// [`Self::readout_fit`] on a precomputed code.
    pub fn readout_fit_code(
        &mut self,
        code: &SparseCode,
        labels: &[u32],
        sched: &ReadoutSchedule,
    ) -> Result<ReadoutFit> {
        self.check_code(code)?;
        self.readout_fit_inner(code, labels, sched, None)
    }

    fn readout_fit_inner(
        &mut self,
        code: &SparseCode,
        labels: &[u32],
        sched: &ReadoutSchedule,
        tr: Option<&Translation>,
    ) -> Result<ReadoutFit> {
        // (a code built here needs no check: `readout_fit_code` checks a caller's)
        let n = code.n_samples();
        self.check_fit_args(labels, n, sched)?;
        let s = sched;
        let mut fit = ReadoutFit::default();
        let mut best = f64::INFINITY;
        let mut stale = 0usize;
        let mut order: Vec<u32> = (0..n as u32).collect();
        let mut carry = Carry {
            centre: s.centre.then(|| Centring::new(self, code)),
            ..Carry::new(code)
        };
        if let Some(ct) = &carry.centre {
            ct.enter(self);
        }
        let mut cancelled = Ok(());
        for (e, &rate) in s.rates.iter().enumerate() {
            // Ctrl-C: the binding works on a copy
            if let Err(err) = crate::cancel::check() {
                cancelled = Err(err);
                break;
            }
            for (i, o) in order.iter_mut().enumerate() {
                *o = i as u32;
            }
            order.shuffle(&mut stream_rng(s.seed, e as u64));
            if s.average_from.is_some_and(|a| e >= a) {
                // (restarted every epoch: the readout ends as the mean over its last)
                carry.average = Some(Average::new(self));
            }
            let step = ReadoutStep {
                rate,
                batch_size: s.batch_size,
                l2: s.l2,
            };
            let loss = self.readout_epoch_code(code, labels, &order, &step, tr, &mut carry);
            fit.loss.push(loss);
            if s.n_iter_no_change > 0 {
                if loss > best - s.tol {
                    stale += 1;
                } else {
                    stale = 0;
                }
                best = best.min(loss);
                if stale >= s.n_iter_no_change && e + 1 < s.rates.len() {
                    fit.converged = true;
                    break;
                }
            }
        }
        if let Some(avg) = carry.average.filter(|a| a.count > 0 && cancelled.is_ok()) {
            avg.install(self);
        }
        if let Some(ct) = &carry.centre {
            ct.leave(self);
        }
        cancelled.map(|()| fit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::bf16::to_bf16;

    fn noise(n: usize, seed: u32) -> Vec<f32> {
        (0..n as u32)
            .map(|i| ((i.wrapping_mul(2_654_435_761) ^ seed) % 1000) as f32 / 997.0 - 0.3)
            .collect()
    }

    /// Stored entries of the units `idx` (one page) with noise activities.
    fn stored(idx: &[u32], seed: u32) -> Vec<Entry> {
        idx.iter()
            .zip(noise(idx.len(), seed))
            .map(|(&j, h)| Entry::new(j as u16, to_bf16(h)))
            .collect()
    }

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// The whole-array kernels of strides 8 and 16 give the bits of the
    /// general ones, for every remainder of the four-at-a-time loop.
    #[test]
    fn fixed_stride_kernels_give_the_general_bits() {
        let units = 2 * UNIT_BLOCK + 37;
        for stride in [8usize, 16] {
            let v = noise(units * stride, 7);
            for len in 0..12usize {
                let idx: Vec<u32> = (0..len as u32)
                    .map(|k| (k * 211 + 5) % units as u32)
                    .collect();
                let val = noise(len, 3);
                let (mut a, mut b) = (noise(stride, 1), noise(stride, 1));
                accumulate_rows_body(&mut a, &v, stride, &idx, &val);
                accumulate_rows_at::<0, _, _>(&mut b, &v, stride, &idx, &val);
                assert_eq!(bits(&a), bits(&b), "logits, stride {stride}, {len} entries");
                let entries = stored(&idx, 3);
                let (mut a, mut b) = (noise(stride, 1), noise(stride, 1));
                accumulate_stored_rows_body(&mut a, &v, stride, &entries);
                accumulate_rows_at::<0, _, _>(&mut b, &v, stride, &entries, &entries);
                assert_eq!(bits(&a), bits(&b), "stored, stride {stride}, {len} entries");
            }
            // Two samples, each with sorted units across three blocks.
            let rows_entries: Vec<Vec<Entry>> = (0..2u32)
                .map(|b| {
                    let idx: Vec<u32> =
                        (0..units as u32).filter(|j| (j * 7 + b) % 5 == 0).collect();
                    stored(&idx, b)
                })
                .collect();
            let rows: Vec<CodeRow<'_>> = rows_entries
                .iter()
                .map(|e| CodeRow::single_page(e))
                .collect();
            let n_blocks = units.div_ceil(UNIT_BLOCK);
            let mut starts = vec![0u32; rows.len() * (n_blocks + 1)];
            for (&row, st) in rows.iter().zip(starts.chunks_mut(n_blocks + 1)) {
                row_block_starts(row, UNIT_BLOCK, st);
            }
            let err = noise(2 * stride, 9);
            for blk in 0..n_blocks {
                let (mut a, mut b) = (noise(UNIT_BLOCK * stride, 4), noise(UNIT_BLOCK * stride, 4));
                block_delta_body(&mut a, &err, stride, &rows, &starts, n_blocks + 1, blk);
                block_delta_at::<0>(&mut b, &err, stride, &rows, &starts, n_blocks + 1, blk);
                assert_eq!(bits(&a), bits(&b), "update, stride {stride}, block {blk}");
            }
        }
    }
}
