//! Learning rules: weights and biases computed from the counters.
//!
//! With `a = M11(i, j)`, `c = M1(i)` (address unit count), `d = M1(j)`
//! (content unit count) and `M` stored pairs:
//!
//! | rule | weight `w_ij` | bias `θ_j` |
//! |---|---|---|
//! | `willshaw` | `1` if `a > 0` else `0` (clipped Hebb) | `0` |
//! | `hebb` | `a` | `0` |
//! | `hopfield` | `Σ(2u−1)(2v−1) = 4a − 2c − 2d + M` | `0` |
//! | `covariance` | `Σ(u−p)(v−q) = a − q·c − p·d + M·p·q` | `0` |
//! | `bcpnn` | `ln(max(a/M, ε²) / (max(c/M, ε)·max(d/M, ε)))` | `ln max(d/M, ε)` |
//! | `bayes` | Knoblauch 2011, see [`bayes_weight`] | see [`bayes_bias`] |
//!
//! `p` and `q` are the mean address and content activities (fraction of
//! active units over all stored pairs). BCPNN floors follow ptBCPNN2:
//! `ε = 1/(M + 1)` for unit probabilities and `ε²` for pair probabilities.
//! In the Bayesian rule every count-valued term is floored at
//! [`BAYES_FLOOR`] (in units of stored pairs) before the logarithm, so a
//! synapse that never saw its two units together (`a = 0`) is strongly
//! inhibitory when the query noise is small (the inhibitory Willshaw limit)
//! but never `−∞`. A content unit that was never active (`M1(j) = 0`) gets
//! the bias `−∞` (it cannot be retrieved), one that was always active `+∞`.
//!
//! Self-connections in auto-association: BCPNN and the linear rules drop
//! the diagonal (`i = j`), as ptBCPNN2 does. The Willshaw and Bayesian rules
//! keep it: the clipped synapse `A_jj` is potentiated by every pattern that
//! contains `j`, and the Bayesian self-weight
//! `ln[(1−p01)(1−p10)/(p01·p10)]` is exactly the evidence of the unit's own
//! query bit (with `p10 = 0` an active query unit is certainly part of the
//! pattern; with adaptive noise estimation it measures how far the current
//! state can be trusted). With hypercolumn retrieval every rule drops the
//! synapses between different units of one hypercolumn (mutually exclusive
//! units: they would only let the current winner veto its rivals), as
//! ptBCPNN2 does. The block size is the `block` argument of
//! [`Weights::new`] (0: no exclusion, 1: diagonal only).

use super::AssocStore;
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Floor of the count-valued terms of the Bayesian rule (in stored pairs).
pub const BAYES_FLOOR: f64 = 1e-4;

named_enum! {
    /// A learning rule.
    pub enum Rule("rule") {
        Willshaw = "willshaw",
        Bayes = "bayes",
        Bcpnn = "bcpnn",
        Covariance = "covariance",
        Hebb = "hebb",
        Hopfield = "hopfield",
    }
}

impl Rule {
    /// Whether the rule needs the synapse counts (not only potentiated or not).
    pub fn needs_counts(self) -> bool {
        !matches!(self, Rule::Willshaw)
    }
}

/// The four count-valued terms of the Bayesian rule, floored.
#[inline]
fn bayes_terms(a: f64, c: f64, d: f64, m: f64, p01: f64, p10: f64) -> [f64; 4] {
    let m01 = d - a;
    let m10 = c - a;
    let m00 = m - c - d + a;
    [
        (a * (1.0 - p01) + m01 * p10).max(BAYES_FLOOR),
        (m00 * (1.0 - p10) + m10 * p01).max(BAYES_FLOOR),
        (m10 * (1.0 - p01) + m00 * p10).max(BAYES_FLOOR),
        (m01 * (1.0 - p10) + a * p01).max(BAYES_FLOOR),
    ]
}

/// Bayesian weight `ln{[M11(1−p01)+M01 p10][M00(1−p10)+M10 p01] /
/// ([M10(1−p01)+M00 p10][M01(1−p10)+M11 p01])}` (Knoblauch 2011), terms floored.
#[inline]
pub fn bayes_weight(a: f64, c: f64, d: f64, m: f64, p01: f64, p10: f64) -> f64 {
    let t = bayes_terms(a, c, d, m, p01, p10);
    ((t[0] * t[1]) / (t[2] * t[3])).ln()
}

/// Summand of the Bayesian bias: `ln{[M01(1−p10)+M11 p01] / [M00(1−p10)+M10 p01]}`.
#[inline]
fn bayes_g(a: f64, c: f64, d: f64, m: f64, p01: f64, p10: f64) -> f64 {
    let t = bayes_terms(a, c, d, m, p01, p10);
    (t[3] / t[1]).ln()
}

/// Fixed number of row chunks for deterministic parallel column sums.
const CHUNKS: usize = 64;

/// Bayesian bias `θ_j = (1 − m')·ln(M1/M0) + Σ_i ln{[M01(1−p10)+M11 p01] /
/// [M00(1−p10)+M10 p01]}` with `m'` inputs per output (`m − 1` in auto).
///
/// The sum over all `m` address units is split into the part with
/// `M11 = 0`, which depends on `i` only through `M1(i)` and is summed over a
/// histogram of the address counts, plus a correction over the stored
/// synapses. Parallel over fixed row chunks, summed in chunk order.
pub fn bayes_bias(store: &AssocStore, p01: f64, p10: f64, block: usize) -> Vec<f64> {
    // The Bayesian rule keeps its diagonal (see the module documentation).
    let keep = usize::from(block > 0);
    let (m, n) = (store.m(), store.n());
    let mm = store.n_pairs() as f64;
    let mu1 = store.address_counts();
    let mv1 = store.content_counts();
    let blk = block.max(1);
    let excl = store.is_auto() && block > 1;
    let mut hist: BTreeMap<u64, u64> = BTreeMap::new();
    for &c in mu1 {
        *hist.entry(c).or_insert(0) += 1;
    }
    let m_eff = (m - if excl { blk - keep } else { 0 }) as f64;
    let mut theta: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|j| {
            let d = mv1[j] as f64;
            let prior = (d.max(BAYES_FLOOR) / (mm - d).max(BAYES_FLOOR)).ln();
            let mut t = (1.0 - m_eff) * prior;
            for (&c, &h) in &hist {
                t += h as f64 * bayes_g(0.0, c as f64, d, mm, p01, p10);
            }
            if excl {
                let b0 = (j / blk) * blk;
                for i in b0..(b0 + blk).min(m) {
                    if i != j {
                        t -= bayes_g(0.0, mu1[i] as f64, d, mm, p01, p10);
                    }
                }
            }
            t
        })
        .collect();
    let chunk = m.div_ceil(CHUNKS).max(1);
    let parts: Vec<Vec<f64>> = (0..m.div_ceil(chunk))
        .into_par_iter()
        .map(|ch| {
            let mut acc = vec![0.0f64; n];
            for i in ch * chunk..((ch + 1) * chunk).min(m) {
                let c = mu1[i] as f64;
                let row = store.row(i);
                let cnt = store.row_counts(i);
                for (t, &j) in row.iter().enumerate() {
                    let j = j as usize;
                    if excl && i / blk == j / blk && i != j {
                        continue;
                    }
                    let d = mv1[j] as f64;
                    acc[j] += bayes_g(cnt[t] as f64, c, d, mm, p01, p10)
                        - bayes_g(0.0, c, d, mm, p01, p10);
                }
            }
            acc
        })
        .collect();
    for part in parts {
        for (t, a) in theta.iter_mut().zip(part) {
            *t += a;
        }
    }
    // A unit never active in a stored content cannot be retrieved (and one
    // always active always is): the floors above would cancel in the ratios
    // and leave it driven by the query alone, so its potential is set to ∓∞.
    for (t, &d) in theta.iter_mut().zip(mv1) {
        if d == 0 {
            *t = f64::NEG_INFINITY;
        } else if d == store.n_pairs() {
            *t = f64::INFINITY;
        }
    }
    theta
}

/// A rule bound to a store and one set of query-noise parameters: computes
/// dendritic potentials `x_j = θ_j + Σ_{i ∈ s} w_ij`.
pub struct Weights<'a> {
    store: &'a AssocStore,
    rule: Rule,
    p01: f64,
    p10: f64,
    bias: Vec<f64>,
    /// Size of the excluded self-connection blocks in auto-association (0: none).
    block: usize,
    // Per-unit terms of the separable rules.
    pre: Vec<f64>,
    post: Vec<f64>,
    constant: f64,
    // Bayes: weight of an `M11 = 0` synapse for each distinct address count.
    zero_of: BTreeMap<u64, usize>,
    zero: Vec<Vec<f64>>,
    // BCPNN: `ln max(a/M, ε²)` for the counts `a` that occur.
    ln_pair: Vec<f64>,
    // Dense rows of the stored synapses' increments (see [`super::dense`]).
    dense: Option<super::dense::Dense>,
}

impl<'a> Weights<'a> {
    /// `block`: in auto-association, drop the synapses between units in the
    /// same block of `block` consecutive units (1: the diagonal; 0: none).
    pub fn new(
        store: &'a AssocStore,
        rule: Rule,
        p01: f64,
        p10: f64,
        block: usize,
    ) -> Result<Self> {
        if rule.needs_counts() && store.is_binary() {
            return Err(Error::Type(format!(
                "rule {rule:?} needs synapse counters, but this memory keeps binary synapses only"
            )));
        }
        for (name, p) in [("p01", p01), ("p10", p10)] {
            if !(0.0..1.0).contains(&p) {
                return Err(Error::Value(format!("{name} must lie in [0, 1), got {p}")));
            }
        }
        let (m, n) = (store.m(), store.n());
        let mm = store.n_pairs() as f64;
        let mu1 = store.address_counts();
        let mv1 = store.content_counts();
        let mut w = Weights {
            store,
            rule,
            p01,
            p10,
            bias: vec![0.0; n],
            block: if store.is_auto() { block } else { 0 },
            pre: Vec::new(),
            post: Vec::new(),
            constant: 0.0,
            zero_of: BTreeMap::new(),
            zero: Vec::new(),
            ln_pair: Vec::new(),
            dense: None,
        };
        match rule {
            Rule::Willshaw | Rule::Hebb => {}
            Rule::Hopfield => {
                w.pre = mu1.iter().map(|&c| -2.0 * c as f64).collect();
                w.post = mv1.iter().map(|&d| -2.0 * d as f64).collect();
                w.constant = mm;
            }
            Rule::Covariance => {
                let denom_p = (mm * m as f64).max(1.0);
                let denom_q = (mm * n as f64).max(1.0);
                let p = mu1.iter().sum::<u64>() as f64 / denom_p;
                let q = mv1.iter().sum::<u64>() as f64 / denom_q;
                w.pre = mu1.iter().map(|&c| -q * c as f64).collect();
                w.post = mv1.iter().map(|&d| -p * d as f64).collect();
                w.constant = mm * p * q;
            }
            Rule::Bcpnn => {
                let eps = 1.0 / (mm + 1.0);
                let total = mm.max(1.0);
                w.pre = mu1
                    .iter()
                    .map(|&c| -(c as f64 / total).max(eps).ln())
                    .collect();
                w.post = mv1
                    .iter()
                    .map(|&d| -(d as f64 / total).max(eps).ln())
                    .collect();
                w.bias = w.post.iter().map(|&x| -x).collect();
                w.constant = 2.0 * eps.ln();
                let top = (0..m)
                    .flat_map(|i| store.row_counts(i).iter().copied())
                    .max()
                    .unwrap_or(0);
                w.ln_pair = (0..=top)
                    .map(|a| (a as f64 / total).max(eps * eps).ln())
                    .collect();
            }
            Rule::Bayes => {
                w.bias = bayes_bias(store, p01, p10, w.block);
                let mut distinct: Vec<u64> = mu1.to_vec();
                distinct.sort_unstable();
                distinct.dedup();
                w.zero = distinct
                    .par_iter()
                    .map(|&c| {
                        mv1.iter()
                            .map(|&d| bayes_weight(0.0, c as f64, d as f64, mm, p01, p10))
                            .collect()
                    })
                    .collect();
                w.zero_of = distinct
                    .into_iter()
                    .enumerate()
                    .map(|(t, c)| (c, t))
                    .collect();
            }
        }
        Ok(w)
    }

    pub fn rule(&self) -> Rule {
        self.rule
    }

    pub fn bias(&self) -> &[f64] {
        &self.bias
    }

    /// Weight of one synapse from its counter `a = M11(i, j)`.
    #[inline]
    fn weight(&self, a: u32, i: usize, j: usize) -> f64 {
        let a = a as f64;
        match self.rule {
            Rule::Willshaw => f64::from(u8::from(a > 0.0)),
            Rule::Hebb => a,
            Rule::Hopfield => 4.0 * a + self.pre[i] + self.post[j] + self.constant,
            Rule::Covariance => a + self.pre[i] + self.post[j] + self.constant,
            Rule::Bcpnn => {
                let mm = self.store.n_pairs() as f64;
                let eps = 1.0 / (mm + 1.0);
                if a > 0.0 {
                    (a / mm).max(eps * eps).ln() + self.pre[i] + self.post[j]
                } else {
                    self.constant + self.pre[i] + self.post[j]
                }
            }
            Rule::Bayes => bayes_weight(
                a,
                self.store.address_counts()[i] as f64,
                self.store.content_counts()[j] as f64,
                self.store.n_pairs() as f64,
                self.p01,
                self.p10,
            ),
        }
    }

    /// Dendritic potentials of the state `s` (sorted address units) into `x`
    /// (length `n`, overwritten): `x_j = Σ_{i∈s} w_ij + θ_j`, summed in
    /// ascending `i`, then the bias.
    pub fn potentials(&self, s: &[u32], x: &mut [f64]) {
        let store = self.store;
        let n = store.n();
        let blk = self.block.max(1);
        if self.rule == Rule::Willshaw {
            x.iter_mut().for_each(|v| *v = 0.0);
            // Willshaw keeps the diagonal; only hypercolumn blocks are dropped.
            let excl = self.block > 1;
            if store.is_binary() && store.is_inverted() {
                // Rows list the silent synapses: x_j = |s| − #silent.
                x.iter_mut().for_each(|v| *v = s.len() as f64);
                for &i in s {
                    for &j in store.row(i as usize) {
                        x[j as usize] -= 1.0;
                    }
                }
                if excl {
                    // Remove the potentiated in-block synapses again.
                    for &i in s {
                        let i = i as usize;
                        let b0 = (i / blk) * blk;
                        for j in (b0..(b0 + blk).min(n)).filter(|&j| j != i) {
                            x[j] -= store.m11(i, j) as f64;
                        }
                    }
                }
            } else {
                for &i in s {
                    let i = i as usize;
                    for &j in store.row(i) {
                        if !(excl && i / blk == j as usize / blk && i != j as usize) {
                            x[j as usize] += 1.0;
                        }
                    }
                }
            }
            return;
        }
        self.prepare(s, x);
        // 3. The stored synapses: w(M11) − w(0).
        if let Some(d) = &self.dense {
            d.add_rows(s, x);
        } else {
            for &i in s {
                self.add_stored(i as usize, |j, v| x[j] += v);
            }
        }
        self.add_bias(x);
    }

    /// Steps 1 and 2 of the potentials of a weighted rule: every synapse
    /// as if `M11 = 0`, less the dropped self-connections (`x` overwritten).
    fn prepare(&self, s: &[u32], x: &mut [f64]) {
        let n = self.store.n();
        x.iter_mut().for_each(|v| *v = 0.0);
        let blk = self.block.max(1);
        // Bayes keeps the diagonal: the self-synapse carries the evidence of
        // the unit's own query bit (with p10 = 0 an active query unit is
        // certainly part of the pattern). The other rules drop it.
        let keep_diag = self.rule == Rule::Bayes;
        let excl = self.block > 1 || (self.block == 1 && !keep_diag);
        let mu1 = self.store.address_counts();
        // 1. Every synapse as if M11 = 0.
        match self.rule {
            Rule::Hebb | Rule::Willshaw => {}
            Rule::Hopfield | Rule::Covariance | Rule::Bcpnn => {
                // Separable: w0 = constant + pre_i + post_j.
                let k = s.len() as f64;
                let sp: f64 = s.iter().map(|&i| self.pre[i as usize]).sum();
                for (v, &pj) in x.iter_mut().zip(&self.post) {
                    *v = k * (self.constant + pj) + sp;
                }
            }
            Rule::Bayes => {
                for &i in s {
                    let t = &self.zero[self.zero_of[&mu1[i as usize]]];
                    for (v, &w0) in x.iter_mut().zip(t) {
                        *v += w0;
                    }
                }
            }
        }
        // 2. Dropped self-connections.
        if excl && self.rule == Rule::Bcpnn {
            // `weight(0, i, j)` without the rule dispatch per synapse: the
            // same `(constant + pre_i) + post_j`.
            for &i in s {
                let i = i as usize;
                let b0 = (i / blk) * blk;
                let w0 = self.constant + self.pre[i];
                let b1 = (b0 + blk).min(n);
                for (v, &pj) in x[b0..b1].iter_mut().zip(&self.post[b0..b1]) {
                    *v -= w0 + pj;
                }
            }
        } else if excl {
            for &i in s {
                let i = i as usize;
                let b0 = (i / blk) * blk;
                // Bayes: the M11 = 0 weights are tabulated (the same values).
                let zero = (self.rule == Rule::Bayes).then(|| &self.zero[self.zero_of[&mu1[i]]]);
                for j in b0..(b0 + blk).min(n) {
                    if !(keep_diag && i == j) {
                        x[j] -= zero.map_or_else(|| self.weight(0, i, j), |z| z[j]);
                    }
                }
            }
        }
    }

    fn add_bias(&self, x: &mut [f64]) {
        for (v, b) in x.iter_mut().zip(&self.bias) {
            *v += b;
        }
    }

    /// Whether the synapse `i → j` is dropped (self-connection blocks).
    #[inline]
    fn excluded(&self, i: usize, j: usize) -> bool {
        let keep_diag = self.rule == Rule::Bayes;
        let blk = self.block.max(1);
        let excl = self.block > 1 || (self.block == 1 && !keep_diag);
        excl && i / blk == j / blk && !(keep_diag && i == j)
    }

    /// `add(j, w(M11) − w(0))` for each stored, not dropped synapse of row
    /// `i`, in the row's order (weighted rules; Willshaw has its own kernel).
    #[inline]
    fn add_stored(&self, i: usize, mut add: impl FnMut(usize, f64)) {
        let store = self.store;
        let mm = store.n_pairs() as f64;
        let c = store.address_counts()[i] as f64;
        let mv1 = store.content_counts();
        let zero = if self.rule == Rule::Bayes {
            Some(&self.zero[self.zero_of[&store.address_counts()[i]]])
        } else {
            None
        };
        self.for_stored(i, |j, a| {
            add(
                j,
                match self.count_increment(a) {
                    Some(v) => v,
                    None => {
                        bayes_weight(a as f64, c, mv1[j] as f64, mm, self.p01, self.p10)
                            - zero.map_or(0.0, |z| z[j])
                    }
                },
            )
        });
    }

    /// `visit(j, M11)` for each stored, not dropped synapse of row `i`, in
    /// the row's order.
    #[inline]
    fn for_stored(&self, i: usize, mut visit: impl FnMut(usize, u32)) {
        let row = self.store.row(i);
        let cnt = self.store.row_counts(i);
        // The dropped synapses of row `i` are the slice of it inside i's block.
        let blocked = self.block > 1 || (self.block == 1 && self.rule != Rule::Bayes);
        let (lo, hi) = if blocked {
            let blk = self.block.max(1);
            let b0 = (i / blk) * blk;
            let b1 = b0 + blk;
            (
                row.partition_point(|&j| (j as usize) < b0),
                row.partition_point(|&j| (j as usize) < b1),
            )
        } else {
            (0, 0)
        };
        for (t, &j) in row.iter().enumerate() {
            let j = j as usize;
            if (lo..hi).contains(&t) && self.excluded(i, j) {
                continue;
            }
            visit(j, cnt[t]);
        }
    }

    /// The increment `w(a) − w(0)` of a stored synapse of count `a`, for
    /// the rules where it depends on the count alone (`None`: Bayes).
    #[inline]
    fn count_increment(&self, a: u32) -> Option<f64> {
        match self.rule {
            Rule::Hebb | Rule::Covariance | Rule::Willshaw => Some(a as f64),
            Rule::Hopfield => Some(4.0 * a as f64),
            Rule::Bcpnn => Some(self.ln_pair[a as usize] - self.constant),
            Rule::Bayes => None,
        }
    }

    /// For a count-valued increment with at most [`super::dense::CODES`]
    /// distinct table entries: the entries sorted by bits, the code of each
    /// count up to the largest stored, and the code of an empty entry. An
    /// entry is `0.0 + increment`, the value the `f64` rows hold.
    fn count_codes(&self) -> Option<(Vec<f64>, Vec<u8>, u8)> {
        self.count_increment(0)?;
        let store = self.store;
        // The counts of the synapses kept (the dropped self-connections of
        // auto-association count every pattern of their unit: large values
        // that the table never holds).
        // A set, so the rows can be scanned in any order: in parallel above
        // the work threshold of retrieval (one read per stored synapse).
        let m = store.m();
        let min_len = super::retrieval::serial_len(m, store.stored_entries() as u64 + m as u64);
        let present: Vec<bool> = (0..m)
            .into_par_iter()
            .with_min_len(min_len)
            .fold(Vec::new, |mut present: Vec<bool>, i| {
                self.for_stored(i, |_, a| {
                    let a = (a as usize).min(1 << 16);
                    if a >= present.len() {
                        present.resize(a + 1, false);
                    }
                    present[a] = true;
                });
                present
            })
            .reduce(Vec::new, |a, b| {
                let (mut long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
                for (x, y) in long.iter_mut().zip(short) {
                    *x |= y;
                }
                long
            });
        if present.len() > 1 << 16 {
            return None;
        }
        let entry = |a: usize| (0.0 + self.count_increment(a as u32).unwrap_or(0.0)).to_bits();
        let mut bits: Vec<u64> = (0..present.len())
            .filter(|&a| present[a])
            .map(entry)
            .chain([0.0f64.to_bits()])
            .collect();
        bits.sort_unstable();
        bits.dedup();
        if bits.len() > super::dense::CODES {
            return None;
        }
        let code = |b: u64| bits.partition_point(|&k| k < b) as u8;
        let of_count = (0..present.len()).map(|a| code(entry(a))).collect();
        let empty = code(0.0f64.to_bits());
        Some((
            bits.into_iter().map(f64::from_bits).collect(),
            of_count,
            empty,
        ))
    }

    /// Switch to the dense kernel when it pays off for queries that will
    /// read `rows_read` rows (see [`super::dense::worth_it`]); returns
    /// whether it is on. The potentials are the same either way.
    pub fn densify(&mut self, rows_read: usize) -> bool {
        use super::dense::worth_it;
        let store = self.store;
        let (m, n, e) = (store.m(), store.n(), store.stored_entries());
        if self.dense.is_some() || self.rule == Rule::Willshaw {
            return self.dense.is_some();
        }
        // Count codes are the cheaper table: scan the counts for them only
        // when they could pay.
        if self.count_increment(0).is_some() && worth_it(m, n, e, rows_read, true) {
            if let Some(codes) = self.count_codes() {
                self.build_codes(codes);
                return true;
            }
        }
        if worth_it(m, n, e, rows_read, false) {
            self.build_rows();
        }
        self.dense.is_some()
    }

    /// Build the dense rows (weighted rules; Willshaw has its own kernel):
    /// one-byte codes where the increments are few count-valued ones, else
    /// `f64` rows.
    #[cfg(test)]
    pub(super) fn build_dense(&mut self) {
        if self.dense.is_some() || self.rule == Rule::Willshaw {
            return;
        }
        match self.count_codes() {
            Some(codes) => self.build_codes(codes),
            None => self.build_rows(),
        }
    }

    /// The table as count codes (from [`Self::count_codes`]).
    fn build_codes(&mut self, (values, of_count, empty): (Vec<f64>, Vec<u8>, u8)) {
        let (m, n) = (self.store.m(), self.store.n());
        let dense = super::dense::Dense::from_codes(m, n, &values, |i, row| {
            row.fill(empty);
            self.for_stored(i, |j, a| row[j] = of_count[a as usize]);
        });
        self.dense = Some(dense);
    }

    /// The table as `f64` rows.
    fn build_rows(&mut self) {
        let (m, n) = (self.store.m(), self.store.n());
        let dense =
            super::dense::Dense::build(m, n, |i, row| self.add_stored(i, |j, v| row[j] += v));
        self.dense = Some(dense);
    }

    /// Whether the dense kernel is on.
    pub fn is_dense(&self) -> bool {
        self.dense.is_some()
    }

    /// Whether the dense kernel keeps its increments as one-byte codes.
    pub fn is_coded(&self) -> bool {
        self.dense.as_ref().is_some_and(|d| d.is_coded())
    }

    /// Query-anchored evidence of the *added* part of an auto-associative
    /// state (Bayesian rule, self-connections only on the diagonal), into `x`
    /// (length `n`, overwritten).
    ///
    /// The units outside the query are observed a second time through the
    /// state: unit `i ∉ query` reads `1` if `i ∈ added` and `0` otherwise,
    /// with this rule's miss and add rates (`p01`, `p10`: those of the added
    /// part). For output unit `j` this returns the log likelihood ratio of
    /// these observations, `Σ_{i ∉ query, i ≠ j} ln P[s_i | v_j = 1] /
    /// P[s_i | v_j = 0]`, i.e. `θ_j + Σ_{i ∈ added} w_ij − ln(M1/M0)_j −
    /// Σ_{i ∈ query} L0_ij − [j ∉ query]·L0_jj − [j ∈ added]·w_jj` with
    /// `L0_ij = ln{[M01(1−p10)+M11 p01]/[M00(1−p10)+M10 p01]} − ln(M1/M0)_j`
    /// the evidence of an inactive unit. The unit's own state bit is left
    /// out: it was computed from the same evidence in the previous step and
    /// is not an independent observation. `added` must not meet `query`;
    /// both sorted.
    pub fn added_evidence(&self, query: &[u32], added: &[u32], x: &mut [f64]) -> Result<()> {
        let store = self.store;
        if self.rule != Rule::Bayes || !store.is_auto() || self.block > 1 {
            return Err(Error::Value(
                "query-anchored evidence needs the Bayesian rule in auto-association \
                 without hypercolumns"
                    .into(),
            ));
        }
        let n = store.n();
        self.potentials(added, x);
        let mm = store.n_pairs() as f64;
        let mu1 = store.address_counts();
        let mv1 = store.content_counts();
        let (p01, p10) = (self.p01, self.p10);
        let prior: Vec<f64> = mv1
            .iter()
            .map(|&d| {
                let d = d as f64;
                (d.max(BAYES_FLOOR) / (mm - d).max(BAYES_FLOOR)).ln()
            })
            .collect();
        let mut in_query = vec![false; n];
        for &i in query {
            let i = i as usize;
            in_query[i] = true;
            let c = mu1[i] as f64;
            // Σ_{i ∈ query} L0_ij: the zero-counter value, then the stored ones.
            for j in 0..n {
                x[j] -= bayes_g(0.0, c, mv1[j] as f64, mm, p01, p10) - prior[j];
            }
            let row = store.row(i);
            let cnt = store.row_counts(i);
            for (t, &j) in row.iter().enumerate() {
                let j = j as usize;
                let d = mv1[j] as f64;
                x[j] -=
                    bayes_g(cnt[t] as f64, c, d, mm, p01, p10) - bayes_g(0.0, c, d, mm, p01, p10);
            }
        }
        let mut in_added = vec![false; n];
        for &j in added {
            in_added[j as usize] = true;
        }
        for j in 0..n {
            x[j] -= prior[j];
            if in_query[j] {
                continue;
            }
            let (a, c, d) = (store.m11(j, j) as f64, mu1[j] as f64, mv1[j] as f64);
            x[j] -= bayes_g(a, c, d, mm, p01, p10) - prior[j];
            if in_added[j] {
                x[j] -= bayes_weight(a, c, d, mm, p01, p10);
            }
        }
        Ok(())
    }

    /// Synaptic operations of one potential computation for a state of
    /// `active` units (one per synapse read).
    pub fn ops(&self, s: &[u32]) -> u64 {
        match self.rule {
            Rule::Willshaw => s
                .iter()
                .map(|&i| self.store.row(i as usize).len() as u64)
                .sum(),
            _ => s.len() as u64 * self.store.n() as u64,
        }
    }
}
