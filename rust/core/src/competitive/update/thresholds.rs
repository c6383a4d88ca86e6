//! Per-row thresholds of the top-fraction rule: only candidate changes with
//! `|Δw| ≥ thr[j]` are written ([`super::super::select`] explains the rule).

use super::super::network::Scratch;
use super::super::select;
use super::super::Selection;
use super::LayerUpdate;

/// Thresholds of the rank-1 update `u_j a_i` (factors in `sc.a`, `sc.u`):
/// found from the sorted factor magnitudes, without forming the products.
pub(super) fn rank1(upd: &LayerUpdate<'_>, sc: &mut Scratch) {
    let p = upd.p;
    let thr_layer = if p >= 1.0 {
        0.0
    } else {
        let mut na = 0;
        for i in (0..upd.st).filter(|&i| upd.pre_ok(i)) {
            sc.fa[na] = sc.a[i].abs();
            na += 1;
        }
        let mut nbf = 0;
        for j in (0..upd.n_out).filter(|&j| upd.post_ok(j)) {
            sc.fb[nbf] = sc.u[j].abs();
            nbf += 1;
        }
        match upd.selection {
            Selection::Layer => {
                let (fa, fb) = (&mut sc.fa[..na], &mut sc.fb[..nbf]);
                let k = select::kth_index(na * nbf, p);
                select::layer_threshold(fa, fb, k, &mut sc.tmp, &mut sc.cand)
            }
            Selection::Neuron => {
                let k = select::kth_index(na, p);
                select::kth_smallest(&mut sc.fa[..na], k)
            }
        }
    };
    let per_neuron = p < 1.0 && upd.selection == Selection::Neuron;
    for j in 0..upd.n_out {
        sc.thr[j] = if per_neuron {
            thr_layer * sc.u[j].abs()
        } else {
            thr_layer
        };
    }
}

/// Thresholds of a materialised update (`sc.grad`): selection on a copy of
/// the candidate magnitudes of the layer or of each row.
pub(super) fn batched(upd: &LayerUpdate<'_>, sc: &mut Scratch) {
    let (p, st) = (upd.p, upd.st);
    if p >= 1.0 {
        sc.thr.fill(0.0);
        return;
    }
    let g = &sc.grad;
    match upd.selection {
        Selection::Layer => {
            let mut c = 0;
            for j in (0..upd.n_out).filter(|&j| upd.post_ok(j)) {
                for i in (0..st).filter(|&i| upd.pre_ok(i)) {
                    sc.sel[c] = g[j * st + i].abs();
                    c += 1;
                }
            }
            let t = select::kth_smallest(&mut sc.sel[..c], select::kth_index(c, p));
            sc.thr.fill(t);
        }
        Selection::Neuron => {
            for j in 0..upd.n_out {
                let mut c = 0;
                for i in (0..st).filter(|&i| upd.pre_ok(i)) {
                    sc.sel[c] = g[j * st + i].abs();
                    c += 1;
                }
                sc.thr[j] = select::kth_smallest(&mut sc.sel[..c], select::kth_index(c, p));
            }
        }
    }
}
