//! The lean Willshaw shard against a dense count of the stored pairs and
//! against the counter store's potentials and selections.

use super::retrieval::{self, Mode, RetrieveParams};
use super::tests::random_patterns;
use super::*;
use crate::test_util::in_pool;

fn slice_rows(p: &Patterns, a: usize, b: usize) -> Patterns {
    let rows: Vec<Vec<u32>> = (a..b).map(|r| p.row(r).to_vec()).collect();
    Patterns::from_rows(p.dim, &rows).unwrap()
}

fn config(m: usize, n: usize, auto: bool) -> StoreConfig {
    StoreConfig {
        m,
        n,
        binary: true,
        auto,
    }
}

/// A shard of columns `lo..hi` with sub-blocks of at most `max_sub` units,
/// fed the pairs in blocks ending at `cuts`, then flushed.
fn lean_shard(
    u: &Patterns,
    v: &Patterns,
    lo: usize,
    hi: usize,
    max_sub: usize,
    cuts: &[usize],
) -> LeanStore {
    let mut s = LeanStore::with_sub_blocks(&config(u.dim, v.dim, false), lo, hi, max_sub).unwrap();
    let mut a = 0;
    for &b in cuts {
        s.store(&slice_rows(u, a, b), &slice_rows(v, a, b)).unwrap();
        a = b;
    }
    s.flush();
    s
}

fn params(mode: Mode) -> RetrieveParams {
    RetrieveParams {
        rule: Rule::Willshaw,
        mode,
        n_iter: 1,
        adaptive: false,
        anchor: false,
        p01: 0.0,
        p10: 0.0,
    }
}

#[test]
fn rows_hold_exactly_the_coactivated_pairs_of_their_columns() {
    // 20 content units per pair onto 300: rows grow past the pending
    // threshold, and sub-blocks of 7 units give a dozen segments per shard.
    let (m, n) = (40, 300);
    let u = random_patterns(400, m, 5, 1);
    let v = random_patterns(400, n, 20, 2);
    let mut dense = vec![false; m * n];
    for r in 0..u.len() {
        for &i in u.row(r) {
            for &j in v.row(r) {
                dense[i as usize * n + j as usize] = true;
            }
        }
    }
    let mut total = 0;
    for (lo, hi) in [(0, 100), (100, 181), (181, 300)] {
        let s = lean_shard(&u, &v, lo, hi, 7, &[1, 17, 150, 400]);
        for i in 0..m {
            let want: Vec<u32> = (lo..hi)
                .filter(|&j| dense[i * n + j])
                .map(|j| j as u32)
                .collect();
            assert_eq!(s.row(i), want, "row {i} of shard {lo}..{hi}");
        }
        assert_eq!(s.pending_entries(), 0);
        assert_eq!(s.counters().writes, s.nonsilent());
        assert_eq!(s.n_pairs(), 400);
        total += s.nonsilent();
    }
    assert_eq!(total, dense.iter().filter(|&&d| d).count() as u64);
}

#[test]
fn storing_does_not_depend_on_blocks_threads_or_merge_times() {
    let u = random_patterns(300, 30, 4, 3);
    let v = random_patterns(300, 200, 12, 4);
    let one = in_pool(1, || lean_shard(&u, &v, 50, 200, 40, &[300]));
    let many = in_pool(4, || {
        lean_shard(&u, &v, 50, 200, 40, &[3, 4, 90, 91, 250, 300])
    });
    assert_eq!(one, many);
    // Unflushed, the pending entries differ; flushed, nothing does.
    let mut partial = LeanStore::with_sub_blocks(&config(30, 200, false), 50, 200, 40).unwrap();
    partial
        .store(&slice_rows(&u, 0, 2), &slice_rows(&v, 0, 2))
        .unwrap();
    assert!(partial.pending_entries() > 0);
    partial
        .store(&slice_rows(&u, 2, 300), &slice_rows(&v, 2, 300))
        .unwrap();
    partial.flush();
    assert_eq!(partial, one);
}

#[test]
fn potentials_and_selections_are_the_counter_stores_columns() {
    let (m, n) = (50, 240);
    let u = random_patterns(260, m, 6, 5);
    let v = random_patterns(260, n, 9, 6);
    let mut whole = AssocStore::new(m, n, true, false).unwrap();
    whole.store(&u, &v).unwrap();
    // Clean queries, and noisy ones that select many units on ties.
    let mut q = slice_rows(&u, 0, 30);
    let noisy = random_patterns(30, m, 4, 7);
    let rows: Vec<Vec<u32>> = (0..q.len())
        .map(|r| q.row(r).to_vec())
        .chain((0..30).map(|r| noisy.row(r).to_vec()))
        .collect();
    q = Patterns::from_rows(m, &rows).unwrap();
    let bounds = [0, 70, 71, 240];
    let shards: Vec<LeanStore> = bounds
        .windows(2)
        .map(|w| lean_shard(&u, &v, w[0], w[1], 16, &[100, 260]))
        .collect();
    let x = retrieval::potentials(&whole, &q, Rule::Willshaw, 0.0, 0.0, 0).unwrap();
    for (s, w) in shards.iter().zip(bounds.windows(2)) {
        let (lo, hi) = (w[0], w[1]);
        let xs = s.potentials(&q, &params(Mode::Threshold(None))).unwrap();
        for r in 0..q.len() {
            assert_eq!(
                xs[r * (hi - lo)..(r + 1) * (hi - lo)],
                x[r * n + lo..r * n + hi]
            );
        }
    }
    for mode in [
        Mode::Threshold(None),
        Mode::Threshold(Some(2.5)),
        Mode::Wta(4),
        Mode::Wta(0),
    ] {
        let want = retrieval::retrieve(&whole, &q, &params(mode))
            .unwrap()
            .patterns;
        let parts: Vec<Selected> = shards
            .iter()
            .map(|s| s.select(&q, &params(mode)).unwrap())
            .collect();
        for r in 0..q.len() {
            let mut got: Vec<(u32, u32)> = parts
                .iter()
                .flat_map(|p| {
                    (p.indptr[r]..p.indptr[r + 1]).map(move |t| (p.units[t], p.counts[t]))
                })
                .collect();
            for &(j, c) in &got {
                assert_eq!(c as f64, x[r * n + j as usize]);
            }
            if let Mode::Wta(l) = mode {
                // Global l-WTA from the candidates: the l-th largest of them.
                let mut c: Vec<u32> = got.iter().map(|&(_, c)| c).collect();
                c.sort_unstable_by(|a, b| b.cmp(a));
                let kth = if l == 0 || c.is_empty() {
                    u32::MAX
                } else {
                    c[(l - 1).min(c.len() - 1)]
                };
                got.retain(|&(_, c)| c >= kth);
            }
            let units: Vec<u32> = got.iter().map(|&(j, _)| j).collect();
            assert_eq!(units, want.row(r), "{mode:?}, query {r}");
        }
    }
}

#[test]
fn hypercolumn_blocks_are_dropped_in_auto_association() {
    let n = 60;
    let u = random_patterns(120, n, 6, 8);
    let mut whole = AssocStore::new(n, n, true, true).unwrap();
    whole.store(&u, &u).unwrap();
    let q = random_patterns(20, n, 6, 9);
    let p = RetrieveParams {
        mode: Mode::Hypercolumn(6),
        ..params(Mode::Threshold(None))
    };
    let block = retrieval::self_block(&whole, p.mode);
    let x = retrieval::potentials(&whole, &q, Rule::Willshaw, 0.0, 0.0, block).unwrap();
    for (lo, hi) in [(0, 25), (25, 60)] {
        let mut s = LeanStore::with_sub_blocks(&config(n, n, true), lo, hi, 8).unwrap();
        s.store(&u, &u).unwrap();
        s.flush();
        let xs = s.potentials(&q, &p).unwrap();
        for r in 0..q.len() {
            assert_eq!(
                xs[r * (hi - lo)..(r + 1) * (hi - lo)],
                x[r * n + lo..r * n + hi]
            );
        }
        assert!(s.select(&q, &p).is_err());
    }
}

#[test]
fn bad_input_and_unflushed_or_counting_retrieval_are_refused() {
    let u = random_patterns(40, 20, 3, 10);
    let v = random_patterns(40, 30, 3, 11);
    let c = config(20, 30, false);
    assert!(LeanStore::new(&StoreConfig { binary: false, ..c }, 0, 30).is_err());
    assert!(LeanStore::new(&c, 10, 31).is_err());
    assert!(LeanStore::new(&c, 12, 10).is_err());
    assert!(LeanStore::new(&config(20, 30, true), 0, 30).is_err());
    let mut s = LeanStore::new(&c, 5, 25).unwrap();
    let before = s.clone();
    assert!(s.store(&u, &random_patterns(39, 30, 3, 12)).is_err());
    assert!(s.store(&v, &v).is_err());
    assert!(s.store(&u, &random_patterns(40, 31, 3, 12)).is_err());
    assert_eq!(s, before);
    s.store(&u, &v).unwrap();
    let q = slice_rows(&u, 0, 5);
    let p = params(Mode::Threshold(None));
    assert!(s.potentials(&q, &p).is_err(), "pending writes");
    s.flush();
    assert!(s.potentials(&q, &p).is_ok());
    let bayes = RetrieveParams {
        rule: Rule::Bayes,
        ..p
    };
    assert!(matches!(
        s.select(&q, &bayes),
        Err(crate::error::Error::Type(_))
    ));
    assert!(s.select(&q, &params(Mode::Wta(31))).is_err());
    assert!(s.select(&slice_rows(&v, 0, 2), &p).is_err());
}
