//! The trace integration of plain LIF synapses, several synapses of one row
//! at a time: their recurrences are independent, so each synapse can take a
//! vector lane. With AVX-512F, eight synapses advance together through
//! blocks of eight archive entries (each synapse reads its postsynaptic
//! neuron's entries contiguously; an 8 × 8 transpose turns them into one
//! vector per step), and eight synapses onto eight consecutive neurons read
//! one step of all eight from the archive's entry-major copy instead, two
//! such groups interleaved; otherwise four synapses are interleaved in
//! portable code. Every version performs the same multiplications and additions per
//! synapse in the same order (no fused multiply-add), so all give the bits
//! of the one-synapse loop.

use super::traces::{Row, Tr, Window};

/// Constants and archive of the plain LIF trace recurrences.
#[derive(Clone, Copy)]
pub(super) struct Lif<'a> {
    pub kappa: f64,
    pub c_e: f64,
    pub kappa_reg: f64,
    pub width: usize,
    pub psi: &'a [f32],
    pub lsig: &'a [f32],
    pub reg: &'a [f32],
    /// The same archive entry-major (`(width, n_rec)`).
    pub psi_t: &'a [f32],
    pub lsig_t: &'a [f32],
    pub reg_t: &'a [f32],
}

/// Whether synapses `s0..s0 + 8` of the row target eight consecutive neurons.
#[inline]
fn consecutive(post: &[u32], s0: usize) -> bool {
    s0 + 8 <= post.len() && (1..8).all(|q| post[s0 + q] == post[s0] + q as u32)
}

/// Integrate the leading synapses of the row over the window (those in
/// whole blocks); returns how many were integrated (the rest are left to
/// the one-synapse loop).
pub(super) fn lif_blocks(k: &Lif<'_>, row: &mut Row<'_>, win: &Window, zbuf: &[f64]) -> usize {
    let n_syn = row.post.len();
    let reg = !row.ebar_reg.is_empty();
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512vl")
    {
        let mut s0 = 0;
        while s0 < n_syn {
            let lanes = (n_syn - s0).min(8);
            // SAFETY: the CPU supports AVX-512F and VL (checked at run time).
            unsafe {
                // Groups of eight consecutive targets read the entry-major
                // archive, two groups at a time when they can.
                if consecutive(row.post, s0) && consecutive(row.post, s0 + 8) {
                    if reg {
                        avx512::block_t::<true, 2>(k, row, win, zbuf, s0)
                    } else {
                        avx512::block_t::<false, 2>(k, row, win, zbuf, s0)
                    }
                    s0 += 16;
                    continue;
                }
                if consecutive(row.post, s0) {
                    if reg {
                        avx512::block_t::<true, 1>(k, row, win, zbuf, s0)
                    } else {
                        avx512::block_t::<false, 1>(k, row, win, zbuf, s0)
                    }
                } else if reg {
                    avx512::block::<true>(k, row, win, zbuf, s0, lanes)
                } else {
                    avx512::block::<false>(k, row, win, zbuf, s0, lanes)
                }
            }
            s0 += 8;
        }
        return n_syn;
    }
    let n = n_syn / 4 * 4;
    for s0 in (0..n).step_by(4) {
        if reg {
            four::<true>(k, row, win, zbuf, s0);
        } else {
            four::<false>(k, row, win, zbuf, s0);
        }
    }
    n
}

/// Synapses `s0..s0 + 4`: per entry `e = ψ z̄`, `ē ← κ ē + c_e e`,
/// (`ē_reg ← κ_reg ē_reg + (1 − κ_reg) e`), `g += L ē (+ reg ē_reg)`;
/// entries past the cutoff only decay the traces.
fn four<const REG: bool>(k: &Lif<'_>, row: &mut Row<'_>, win: &Window, zbuf: &[f64], s0: usize) {
    let w = k.width;
    let (kappa, c_e, kreg) = (k.kappa, k.c_e, k.kappa_reg);
    let b: [usize; 4] = std::array::from_fn(|q| row.post[s0 + q] as usize * w);
    let mut eb: [f64; 4] = std::array::from_fn(|q| row.ebar[s0 + q]);
    let mut g: [f64; 4] = std::array::from_fn(|q| row.grad[s0 + q]);
    let mut er: [f64; 4] = if REG {
        std::array::from_fn(|q| row.ebar_reg[s0 + q])
    } else {
        [0.0; 4]
    };
    for &(sl, zoff, len) in &win.runs {
        let zb = &zbuf[zoff..zoff + len];
        let ps: [&[f32]; 4] = std::array::from_fn(|q| &k.psi[b[q] + sl..b[q] + sl + len]);
        let ls: [&[f32]; 4] = std::array::from_fn(|q| &k.lsig[b[q] + sl..b[q] + sl + len]);
        if REG {
            let rg: [&[f32]; 4] = std::array::from_fn(|q| &k.reg[b[q] + sl..b[q] + sl + len]);
            for i in 0..len {
                let zv = zb[i];
                for q in 0..4 {
                    let e = ps[q][i] as f64 * zv;
                    eb[q] = kappa * eb[q] + c_e * e;
                    er[q] = kreg * er[q] + (1.0 - kreg) * e;
                    g[q] += ls[q][i] as f64 * eb[q];
                    g[q] += rg[q][i] as f64 * er[q];
                }
            }
        } else {
            for i in 0..len {
                let zv = zb[i];
                for q in 0..4 {
                    eb[q] = kappa * eb[q] + c_e * (ps[q][i] as f64 * zv);
                    g[q] += ls[q][i] as f64 * eb[q];
                }
            }
        }
    }
    let (dk, dr): (Tr, Tr) = (kappa.powi(win.tail), kreg.powi(win.tail));
    for q in 0..4 {
        row.ebar[s0 + q] = if win.tail > 0 { eb[q] * dk } else { eb[q] };
        row.grad[s0 + q] = g[q];
        if REG {
            row.ebar_reg[s0 + q] = if win.tail > 0 { er[q] * dr } else { er[q] };
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{Lif, Row, Window};
    use std::arch::x86_64::*;

    /// Rows `r[q]` (8 entries of synapse `q`) → `out[t]` (entry `t` of the 8 synapses).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn transpose(r: [__m256; 8]) -> [__m256; 8] {
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let t4 = _mm256_unpacklo_ps(r[4], r[5]);
        let t5 = _mm256_unpackhi_ps(r[4], r[5]);
        let t6 = _mm256_unpacklo_ps(r[6], r[7]);
        let t7 = _mm256_unpackhi_ps(r[6], r[7]);
        let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        [
            _mm256_permute2f128_ps::<0x20>(u0, u4),
            _mm256_permute2f128_ps::<0x20>(u1, u5),
            _mm256_permute2f128_ps::<0x20>(u2, u6),
            _mm256_permute2f128_ps::<0x20>(u3, u7),
            _mm256_permute2f128_ps::<0x31>(u0, u4),
            _mm256_permute2f128_ps::<0x31>(u1, u5),
            _mm256_permute2f128_ps::<0x31>(u2, u6),
            _mm256_permute2f128_ps::<0x31>(u3, u7),
        ]
    }

    /// Synapses `s0..s0 + lanes` (`1 <= lanes <= 8`), the arithmetic of
    /// [`super::four`] in eight lanes; unused lanes repeat the last synapse's
    /// reads and are never stored.
    #[target_feature(enable = "avx512f,avx512vl")]
    pub(super) unsafe fn block<const REG: bool>(
        k: &Lif<'_>,
        row: &mut Row<'_>,
        win: &Window,
        zbuf: &[f64],
        s0: usize,
        lanes: usize,
    ) {
        let w = k.width;
        let used: __mmask8 = ((1u16 << lanes) - 1) as u8;
        let kappa = _mm512_set1_pd(k.kappa);
        let c_e = _mm512_set1_pd(k.c_e);
        let kreg = _mm512_set1_pd(k.kappa_reg);
        let ckreg = _mm512_set1_pd(1.0 - k.kappa_reg);
        let b: [usize; 8] = std::array::from_fn(|q| row.post[s0 + q.min(lanes - 1)] as usize * w);
        // SAFETY (masked loads and stores): the mask covers the `lanes` synapses.
        let ebar = &mut row.ebar[s0..s0 + lanes];
        let grad = &mut row.grad[s0..s0 + lanes];
        let mut eb = _mm512_maskz_loadu_pd(used, ebar.as_ptr());
        let mut g = _mm512_maskz_loadu_pd(used, grad.as_ptr());
        let mut er = if REG {
            _mm512_maskz_loadu_pd(used, row.ebar_reg[s0..s0 + lanes].as_ptr())
        } else {
            _mm512_setzero_pd()
        };
        for &(sl, zoff, len) in &win.runs {
            if len == 0 {
                continue;
            }
            let zb = &zbuf[zoff..zoff + len];
            // Every lane reads `len` entries from `b[q] + sl`: checked here once.
            let ps: [*const f32; 8] = std::array::from_fn(|q| k.psi[b[q] + sl..][..len].as_ptr());
            let ls: [*const f32; 8] = std::array::from_fn(|q| k.lsig[b[q] + sl..][..len].as_ptr());
            let rg: [*const f32; 8] = if REG {
                std::array::from_fn(|q| k.reg[b[q] + sl..][..len].as_ptr())
            } else {
                [std::ptr::null(); 8]
            };
            let mut step = |p: __m256, l: __m256, r: __m256, zv: f64| {
                let zv = _mm512_set1_pd(zv);
                let e = _mm512_mul_pd(_mm512_cvtps_pd(p), zv);
                eb = _mm512_add_pd(_mm512_mul_pd(kappa, eb), _mm512_mul_pd(c_e, e));
                g = _mm512_add_pd(g, _mm512_mul_pd(_mm512_cvtps_pd(l), eb));
                if REG {
                    er = _mm512_add_pd(_mm512_mul_pd(kreg, er), _mm512_mul_pd(ckreg, e));
                    g = _mm512_add_pd(g, _mm512_mul_pd(_mm512_cvtps_pd(r), er));
                }
            };
            let mut i = 0;
            while i + 8 <= len {
                // SAFETY: i + 8 <= len entries from each lane's start.
                let load = |ptr: &[*const f32; 8]| -> [__m256; 8] {
                    std::array::from_fn(|q| unsafe { _mm256_loadu_ps(ptr[q].add(i)) })
                };
                let p = transpose(load(&ps));
                let l = transpose(load(&ls));
                let r = if REG {
                    transpose(load(&rg))
                } else {
                    [_mm256_setzero_ps(); 8]
                };
                for t in 0..8 {
                    step(p[t], l[t], r[t], zb[i + t]);
                }
                i += 8;
            }
            if i < len {
                // The last `len - i` (< 8) entries: masked loads read only those.
                let m: __mmask8 = (1u8 << (len - i)) - 1;
                // SAFETY: the mask covers entries i..len of each lane.
                let load = |ptr: &[*const f32; 8]| -> [__m256; 8] {
                    std::array::from_fn(|q| unsafe { _mm256_maskz_loadu_ps(m, ptr[q].add(i)) })
                };
                let p = transpose(load(&ps));
                let l = transpose(load(&ls));
                let r = if REG {
                    transpose(load(&rg))
                } else {
                    [_mm256_setzero_ps(); 8]
                };
                for t in 0..len - i {
                    step(p[t], l[t], r[t], zb[i + t]);
                }
            }
        }
        if win.tail > 0 {
            eb = _mm512_mul_pd(eb, _mm512_set1_pd(k.kappa.powi(win.tail)));
            er = _mm512_mul_pd(er, _mm512_set1_pd(k.kappa_reg.powi(win.tail)));
        }
        _mm512_mask_storeu_pd(ebar.as_mut_ptr(), used, eb);
        _mm512_mask_storeu_pd(grad.as_mut_ptr(), used, g);
        if REG {
            _mm512_mask_storeu_pd(row.ebar_reg[s0..s0 + lanes].as_mut_ptr(), used, er);
        }
    }

    /// `G` groups of eight synapses from `s0`, each targeting eight
    /// consecutive neurons: the arithmetic of [`block`], with each step's
    /// eight entries loaded from the entry-major archive (no transpose),
    /// the groups interleaved to overlap their recurrences.
    #[target_feature(enable = "avx512f,avx512vl")]
    pub(super) unsafe fn block_t<const REG: bool, const G: usize>(
        k: &Lif<'_>,
        row: &mut Row<'_>,
        win: &Window,
        zbuf: &[f64],
        s0: usize,
    ) {
        let n_rec = k.psi.len() / k.width;
        let kappa = _mm512_set1_pd(k.kappa);
        let c_e = _mm512_set1_pd(k.c_e);
        let kreg = _mm512_set1_pd(k.kappa_reg);
        let ckreg = _mm512_set1_pd(1.0 - k.kappa_reg);
        let end = s0 + 8 * G;
        assert!(end <= row.post.len() && end <= row.ebar.len() && end <= row.grad.len());
        if REG {
            assert!(end <= row.ebar_reg.len());
        }
        let p0: [usize; G] = std::array::from_fn(|q| row.post[s0 + 8 * q] as usize);
        assert!(p0.iter().all(|&p| p + 8 <= n_rec));
        let len_t = k.psi_t.len().min(k.lsig_t.len());
        assert!(len_t == n_rec * k.width && (!REG || k.reg_t.len() == len_t));
        // SAFETY (loads and stores): the synapses `s0..end` lie in the row
        // and every entry read is at `slot * n_rec + p0[q] + 0..8` with
        // `slot < width` and `p0[q] + 8 <= n_rec` (asserted above and per run).
        let (ebp, gp) = (row.ebar.as_mut_ptr(), row.grad.as_mut_ptr());
        let mut eb: [__m512d; G] =
            std::array::from_fn(|q| unsafe { _mm512_loadu_pd(ebp.add(s0 + 8 * q)) });
        let mut g: [__m512d; G] =
            std::array::from_fn(|q| unsafe { _mm512_loadu_pd(gp.add(s0 + 8 * q)) });
        let mut er: [__m512d; G] = std::array::from_fn(|q| {
            if REG {
                unsafe { _mm512_loadu_pd(row.ebar_reg.as_ptr().add(s0 + 8 * q)) }
            } else {
                _mm512_setzero_pd()
            }
        });
        let (ps, ls, rs) = (k.psi_t.as_ptr(), k.lsig_t.as_ptr(), k.reg_t.as_ptr());
        for &(sl, zoff, len) in &win.runs {
            if len == 0 {
                continue;
            }
            assert!(sl + len <= k.width);
            let zb = &zbuf[zoff..zoff + len];
            for (i, &z) in zb.iter().enumerate() {
                let zv = _mm512_set1_pd(z);
                let base = (sl + i) * n_rec;
                for q in 0..G {
                    let at = base + p0[q];
                    unsafe {
                        let e = _mm512_mul_pd(_mm512_cvtps_pd(_mm256_loadu_ps(ps.add(at))), zv);
                        eb[q] = _mm512_add_pd(_mm512_mul_pd(kappa, eb[q]), _mm512_mul_pd(c_e, e));
                        let l = _mm512_cvtps_pd(_mm256_loadu_ps(ls.add(at)));
                        g[q] = _mm512_add_pd(g[q], _mm512_mul_pd(l, eb[q]));
                        if REG {
                            er[q] =
                                _mm512_add_pd(_mm512_mul_pd(kreg, er[q]), _mm512_mul_pd(ckreg, e));
                            let r = _mm512_cvtps_pd(_mm256_loadu_ps(rs.add(at)));
                            g[q] = _mm512_add_pd(g[q], _mm512_mul_pd(r, er[q]));
                        }
                    }
                }
            }
        }
        for q in 0..G {
            if win.tail > 0 {
                eb[q] = _mm512_mul_pd(eb[q], _mm512_set1_pd(k.kappa.powi(win.tail)));
                er[q] = _mm512_mul_pd(er[q], _mm512_set1_pd(k.kappa_reg.powi(win.tail)));
            }
            unsafe {
                _mm512_storeu_pd(ebp.add(s0 + 8 * q), eb[q]);
                _mm512_storeu_pd(gp.add(s0 + 8 * q), g[q]);
                if REG {
                    _mm512_storeu_pd(row.ebar_reg.as_mut_ptr().add(s0 + 8 * q), er[q]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::traces::{Pre, Row, Tr, Window};
    use super::*;
    use crate::rng::stream_rng;
    use rand::Rng;

    /// The one-synapse recurrence of [`four`], for reference.
    fn one(k: &Lif<'_>, post: usize, win: &Window, zbuf: &[f64], s: [Tr; 3], reg: bool) -> [Tr; 3] {
        let [mut eb, mut g, mut er] = s;
        let b = post * k.width;
        for &(sl, zoff, len) in &win.runs {
            for i in 0..len {
                let e = k.psi[b + sl + i] as f64 * zbuf[zoff + i];
                eb = k.kappa * eb + k.c_e * e;
                g += k.lsig[b + sl + i] as f64 * eb;
                if reg {
                    er = k.kappa_reg * er + (1.0 - k.kappa_reg) * e;
                    g += k.reg[b + sl + i] as f64 * er;
                }
            }
        }
        if win.tail > 0 {
            eb *= k.kappa.powi(win.tail);
            er *= k.kappa_reg.powi(win.tail);
        }
        [eb, g, er]
    }

    #[test]
    fn lane_kernels_give_the_one_synapse_bits() {
        let mut rng = stream_rng(17, 0);
        let (n_rec, width) = (40usize, 24usize);
        let mut draw =
            |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(-1.0..1.0)).collect() };
        let (psi, lsig, reg) = (
            draw(n_rec * width),
            draw(n_rec * width),
            draw(n_rec * width),
        );
        let t = |v: &[f32]| -> Vec<f32> {
            let mut out = vec![0.0; v.len()];
            for i in 0..n_rec {
                for s in 0..width {
                    out[s * n_rec + i] = v[i * width + s];
                }
            }
            out
        };
        let (psi_t, lsig_t, reg_t) = (t(&psi), t(&lsig), t(&reg));
        let k = Lif {
            kappa: 0.97,
            c_e: 0.3,
            kappa_reg: 0.9,
            width,
            psi: &psi,
            lsig: &lsig,
            reg: &reg,
            psi_t: &psi_t,
            lsig_t: &lsig_t,
            reg_t: &reg_t,
        };
        let mut rng = stream_rng(17, 1);
        let zbuf: Vec<f64> = (0..width).map(|_| rng.random_range(0.0..2.0)).collect();
        // Posts: 24 consecutive neurons, then gaps (groups of two, one and no
        // consecutive eights, and a short last group).
        let post: Vec<u32> = (3..27).chain(28..31).chain(32..38).collect();
        let n = post.len();
        for (runs, tail) in [
            ([(5, 0, 12), (0, 0, 0)], 0),
            ([(20, 1, 4), (0, 5, 9)], 3),
            ([(0, 0, 0), (2, 0, 1)], 0),
        ] {
            let win = Window {
                n: runs[0].2 + runs[1].2,
                tail,
                runs,
                zo_start: 0,
            };
            for reg_on in [false, true] {
                let init: Vec<[Tr; 3]> = (0..n)
                    .map(|_| std::array::from_fn(|_| rng.random_range(-1.0..1.0)))
                    .collect();
                let want: Vec<[Tr; 3]> = (0..n)
                    .map(|s| one(&k, post[s] as usize, &win, &zbuf, init[s], reg_on))
                    .collect();
                let mut ebar: Vec<Tr> = init.iter().map(|s| s[0]).collect();
                let mut grad: Vec<Tr> = init.iter().map(|s| s[1]).collect();
                let mut ebar_reg: Vec<Tr> = if reg_on {
                    init.iter().map(|s| s[2]).collect()
                } else {
                    Vec::new()
                };
                let (mut w, mut eps) = (vec![0.0f32; n], vec![0.0; n]);
                let (mut m1, mut m2, mut ns) = (vec![0.0f32; n], vec![0.0f32; n], vec![0u32; n]);
                let mut pre = Pre {
                    last: 0,
                    before: 0,
                    trace_at: 0,
                    zbar: 0.0,
                    zbar_out: 0.0,
                };
                let mut row = Row {
                    p: 0,
                    post: &post,
                    w: &mut w,
                    ebar: &mut ebar,
                    ebar_reg: &mut ebar_reg,
                    eps: &mut eps,
                    grad: &mut grad,
                    m1: &mut m1,
                    m2: &mut m2,
                    nsteps: &mut ns,
                    w_out: &mut [],
                    grad_out: &mut [],
                    m1_out: &mut [],
                    m2_out: &mut [],
                    nsteps_out: &mut [],
                    pre: &mut pre,
                };
                let done = lif_blocks(&k, &mut row, &win, &zbuf);
                for s in 0..done {
                    assert_eq!(row.ebar[s].to_bits(), want[s][0].to_bits(), "ebar {s}");
                    assert_eq!(row.grad[s].to_bits(), want[s][1].to_bits(), "grad {s}");
                    if reg_on {
                        assert_eq!(row.ebar_reg[s].to_bits(), want[s][2].to_bits(), "reg {s}");
                    }
                }
            }
        }
    }
}
