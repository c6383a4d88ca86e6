//! Synaptic caching (Li & van Rossum 2020): `w = l + s`, updates go to the
//! transient `s`, which decays and costs maintenance energy; a neuron whose
//! largest `|s|` exceeds `θ` consolidates (`l += s`).

use super::network::{Layer, Mlp};
use super::Caching;

impl Mlp {
    /// Move every transient weight into the persistent one (end of learning),
    /// counting the consolidation energy. No-op without caching.
    pub fn consolidate_all(&mut self) {
        if self.cfg.caching.is_none() {
            return;
        }
        for layer in &mut self.layers {
            let st = layer.stride();
            for j in 0..layer.n_out {
                consolidate_row(layer, j, st);
            }
        }
    }
}

fn consolidate_row(layer: &mut Layer, j: usize, st: usize) {
    let r = j * st..(j + 1) * st;
    let mut moved = false;
    for ((l, s), w) in layer.long[r.clone()]
        .iter_mut()
        .zip(&mut layer.short[r.clone()])
        .zip(&mut layer.w[r])
    {
        if *s != 0.0 {
            layer.energy.consolidation_writes += 1;
            layer.energy.consolidation_energy += s.abs() as f64;
            *l += *s;
            *s = 0.0;
            moved = true;
        }
        *w = *l;
    }
    if moved {
        layer.energy.consolidations += 1;
    }
}

/// After the transient update: maintenance cost, consolidation of neurons
/// whose largest `|s|` exceeds θ, decay, and `w = l + s`.
pub(super) fn cache_step(layer: &mut Layer, c: Caching) {
    let st = layer.stride();
    let n_out = layer.n_out;
    let mut maint = 0.0f64;
    for j in 0..n_out {
        let s = &layer.short[j * st..(j + 1) * st];
        let (mut sum, mut max) = (0.0f64, 0.0f32);
        for &v in s {
            sum += v.abs() as f64;
            max = max.max(v.abs());
        }
        maint += sum;
        if max > c.threshold {
            consolidate_row(layer, j, st);
        } else {
            let r = j * st..(j + 1) * st;
            for ((w, l), s) in layer.w[r.clone()]
                .iter_mut()
                .zip(&layer.long[r.clone()])
                .zip(&mut layer.short[r])
            {
                if c.decay < 1.0 {
                    *s *= c.decay;
                }
                *w = *l + *s;
            }
        }
    }
    layer.energy.maintenance_energy += c.maintenance_cost * maint;
}
