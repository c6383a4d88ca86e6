//! Batch > 1: the materialised update `G = η/B Σ_b u_b a_bᵀ` (masked),
//! thresholded, then written row by row.

use super::super::network::Scratch;
use super::{for_each_row, thresholds, LayerUpdate};
use rayon::prelude::*;

pub(super) fn update(upd: &LayerUpdate<'_>, nb: usize, sc: &mut Scratch, target: &mut [f32]) {
    materialise(upd, nb, &mut sc.grad);
    thresholds::batched(upd, sc);
    let (g, thr, st) = (&sc.grad, &sc.thr, upd.st);
    let row = |(j, (w, r)): (usize, (&mut [f32], &mut (u64, f64)))| {
        let mut acc = (0u64, 0.0f64);
        for (wi, &d) in w.iter_mut().zip(&g[j * st..(j + 1) * st]) {
            let m = d.abs();
            if m > 0.0 && m >= thr[j] {
                *wi += d;
                acc.0 += 1;
                acc.1 += m as f64;
            }
        }
        *r = acc;
    };
    for_each_row(upd.par, target, st, &mut sc.rows, row);
}

/// `g[j, i] = Σ_b η δ_bj a_bi` over the plastic rows and columns, 0 elsewhere.
fn materialise(upd: &LayerUpdate<'_>, nb: usize, g: &mut [f32]) {
    let (st, n_out) = (upd.st, upd.n_out);
    let fill = |(j, gr): (usize, &mut [f32])| {
        gr.fill(0.0);
        if !upd.post_ok(j) {
            return;
        }
        for b in 0..nb {
            let e = upd.eta * upd.delta[b * n_out + j];
            let a = &upd.src[b * st..(b + 1) * st];
            for (i, (gi, &ai)) in gr.iter_mut().zip(a).enumerate() {
                if upd.pre_ok(i) {
                    *gi += e * ai;
                }
            }
        }
    };
    if upd.par {
        let split = super::super::SPLIT.min_items(st * nb);
        g.par_chunks_mut(st)
            .with_min_len(split)
            .enumerate()
            .for_each(fill);
    } else {
        g.chunks_mut(st).enumerate().for_each(fill);
    }
}
