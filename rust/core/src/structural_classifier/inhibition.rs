//! Optional inhibitory population obeying Dale's law.
//!
//! `n_inh` inhibitory units are driven by the excitatory hidden units
//! through fixed non-negative weights `A` (E→I) and inhibit them through
//! plastic weights `−G` with `G ≥ 0` (I→E), so every excitatory unit's
//! outgoing weights are `≥ 0` and every inhibitory unit's are `≤ 0`.
//! For one sample with feedforward drive `u⁰ = W x − θ`:
//!
//! * feedforward activity `h⁰ = f(u⁰)`;
//! * inhibitory rates `r = A h⁰` (linear, non-negative);
//! * inhibited drive `u = u⁰ − G r`, activity `h = f(u)`.
//!
//! This is one pass around the E→I→E loop (feedback inhibition evaluated
//! once, no settling iterations). `G` learns by the rate form of the
//! inhibitory plasticity of Vogels et al. (2011): an inhibitory synapse
//! grows when its target is active more often than the target fraction `ρ`
//! and shrinks otherwise, `ΔG_im = (η_I / B) Σ_b r_bm (1[u_bi > 0] − ρ)`,
//! clamped at 0 (it never changes sign). `A` is fixed: each inhibitory unit
//! pools the whole excitatory layer with weights uniform in
//! `[0.5, 1.5) / n_hidden` (its own random stream).

use crate::energy::{tally, EnergyCounters};
use crate::error::{check_len, Error, Result};
use crate::rng::stream_rng;
use rand::Rng;
use rayon::prelude::*;

use super::activation;

/// `Σ_m a_m b_m` in 8 interleaved partial sums combined in a fixed order
/// (vectorisable, and the same result on every thread).
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    const L: usize = 8;
    let n = a.len().min(b.len());
    let n8 = n / L * L;
    let mut acc = [0.0f32; L];
    for (ca, cb) in a[..n8].chunks_exact(L).zip(b[..n8].chunks_exact(L)) {
        for l in 0..L {
            acc[l] += ca[l] * cb[l];
        }
    }
    let mut s = acc.iter().sum::<f32>();
    for k in n8..n {
        s += a[k] * b[k];
    }
    s
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Inhibition {
    pub n_inh: usize,
    /// E→I weights `A`, `n_hidden × n_inh` (row `i`: the outgoing weights
    /// of excitatory unit `i`), all `≥ 0`.
    pub e_to_i: Vec<f32>,
    /// I→E weight magnitudes `G`, `n_hidden × n_inh` (row `i`: the
    /// inhibitory synapses onto excitatory unit `i`), all `≥ 0`; the
    /// synaptic weights are `−G`.
    pub i_to_e: Vec<f32>,
    /// Writes of `G`.
    pub counters: EnergyCounters,
}

impl Inhibition {
    /// `n_inh` units pooling `n_hidden` excitatory units, no inhibition yet (`G = 0`).
    pub fn new(n_inh: usize, n_hidden: usize, seed: u64) -> Result<Self> {
        if n_inh == 0 || n_hidden == 0 {
            return Err(Error::Value(format!(
                "n_inhibitory and n_hidden must be positive, got {n_inh} and {n_hidden}"
            )));
        }
        let what = "the inhibitory weights (n_inhibitory x n_hidden)";
        let size = crate::error::size_mul(n_inh, n_hidden, what)?;
        // Twice: excitatory→inhibitory and back.
        crate::alloc::check_fits::<f32>(size.saturating_mul(2), what)?;
        let mut e_to_i = crate::alloc::filled(size, 0.0f32, what)?;
        for m in 0..n_inh {
            let mut rng = stream_rng(seed ^ 0x5bd1_e995_1234_5678, m as u64);
            for i in 0..n_hidden {
                e_to_i[i * n_inh + m] = rng.random_range(0.5f32..1.5) / n_hidden as f32;
            }
        }
        Ok(Inhibition {
            n_inh,
            e_to_i,
            i_to_e: crate::alloc::filled(size, 0.0, what)?,
            counters: EnergyCounters::default(),
        })
    }

    /// Rebuild from saved weights, validating shapes and signs.
    pub fn from_parts(
        n_hidden: usize,
        n_inh: usize,
        e_to_i: Vec<f32>,
        i_to_e: Vec<f32>,
    ) -> Result<Self> {
        if n_inh == 0 {
            return Err(Error::Value("n_inhibitory must be positive".into()));
        }
        check_len("E→I weights", e_to_i.len(), n_hidden, n_inh)?;
        check_len("I→E weights", i_to_e.len(), n_hidden, n_inh)?;
        if e_to_i
            .iter()
            .chain(&i_to_e)
            .any(|v| !(v.is_finite() && *v >= 0.0))
        {
            return Err(Error::Value(
                "E→I weights and I→E magnitudes must be finite and >= 0".into(),
            ));
        }
        Ok(Inhibition {
            n_inh,
            e_to_i,
            i_to_e,
            counters: EnergyCounters::default(),
        })
    }

    /// Inhibit one sample: `u` holds the feedforward drive `u⁰` and becomes
    /// `u⁰ − G r`; `r` receives the inhibitory rates `A f(u⁰)`.
    pub(crate) fn apply_row(&self, u: &mut [f32], r: &mut [f32]) {
        r.fill(0.0);
        for (&v, a) in u.iter().zip(self.e_to_i.chunks_exact(self.n_inh)) {
            let h = activation(v);
            if h != 0.0 {
                for (rm, am) in r.iter_mut().zip(a) {
                    *rm += am * h;
                }
            }
        }
        for (ui, g) in u.iter_mut().zip(self.i_to_e.chunks_exact(self.n_inh)) {
            *ui -= dot(g, r);
        }
    }

    /// Inhibit a batch of drives `(batch, n_hidden)` in place; returns the
    /// rates `(batch, n_inh)`.
    pub(crate) fn apply(&self, u: &mut [f32], n_hidden: usize) -> Vec<f32> {
        let batch = u.len() / n_hidden.max(1);
        let mut r = vec![0.0f32; batch * self.n_inh];
        if n_hidden == 0 {
            return r;
        }
        u.par_chunks_mut(n_hidden)
            .zip(r.par_chunks_mut(self.n_inh))
            .with_min_len(crate::parallel::DEFAULT.min_items(n_hidden * self.n_inh))
            .for_each(|(ub, rb)| self.apply_row(ub, rb));
        r
    }

    /// Inhibitory plasticity for one batch: `u` the inhibited drives, `r`
    /// the rates; `ΔG_im = (η / B) Σ_b r_bm (1[u_bi > 0] − ρ)`, clamped at 0.
    pub(crate) fn learn(&mut self, u: &[f32], r: &[f32], n_hidden: usize, rate: f32, rho: f32) {
        let batch = r.len() / self.n_inh;
        if batch == 0 || rate == 0.0 {
            return;
        }
        let n_inh = self.n_inh;
        let scale = rate / batch as f32;
        let counts: Vec<(u64, f64)> = self
            .i_to_e
            .par_chunks_mut(n_inh)
            .with_min_len(crate::parallel::DEFAULT.min_items(n_inh * batch))
            .enumerate()
            .map(|(i, g)| {
                let mut acc = (0u64, 0.0f64);
                let mut d = vec![0.0f32; n_inh];
                for b in 0..batch {
                    let post = if u[b * n_hidden + i] > 0.0 { 1.0 } else { 0.0 } - rho;
                    for (dm, &rm) in d.iter_mut().zip(&r[b * n_inh..(b + 1) * n_inh]) {
                        *dm += rm * post;
                    }
                }
                for (gm, dm) in g.iter_mut().zip(d) {
                    let new = (*gm + scale * dm).max(0.0);
                    tally(&mut acc, (new - *gm).abs());
                    *gm = new;
                }
                acc
            })
            .collect();
        for (n, s) in counts {
            self.counters.record(n, s);
        }
    }
}
