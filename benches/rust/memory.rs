//! Criterion benches of the associative-memory kernels: Willshaw retrieval
//! (integer potentials), the BCPNN potentials with the sparse and the dense
//! kernel on ptBCPNN2's modular workload, storing, and 1 vs 2 threads for
//! store and retrieve over sizes.
//!
//! Run with `cargo bench --bench memory` (or `make bench`); summarised by
//! `python benches/criterion_table.py target/criterion`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::time::Duration;
use synaplast_core::memory::retrieval::{retrieve, Mode, RetrieveParams};
use synaplast_core::memory::rules::{Rule, Weights};
use synaplast_core::{AssocStore, Patterns};

/// `p` random patterns of `n` units with `k` active each.
fn k_patterns(p: usize, n: usize, k: usize, seed: u64) -> Patterns {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rows: Vec<Vec<u32>> = (0..p)
        .map(|_| {
            let mut v: Vec<u32> = sample(&mut rng, n, k)
                .into_iter()
                .map(|x| x as u32)
                .collect();
            v.sort_unstable();
            v
        })
        .collect();
    Patterns::from_rows(n, &rows).unwrap()
}

/// `p` modular patterns: one active unit in each of `h` hypercolumns of `s`.
fn modular(p: usize, h: usize, s: usize, seed: u64) -> Patterns {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rows: Vec<Vec<u32>> = (0..p)
        .map(|_| {
            (0..h)
                .map(|g| (g * s + rng.random_range(0..s)) as u32)
                .collect()
        })
        .collect();
    Patterns::from_rows(h * s, &rows).unwrap()
}

/// `pats` with `c` hypercolumns moved to another unit.
fn corrupt(pats: &Patterns, h: usize, s: usize, c: usize, seed: u64) -> Patterns {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rows: Vec<Vec<u32>> = (0..pats.len())
        .map(|r| {
            let mut v = pats.row(r).to_vec();
            for g in sample(&mut rng, h, c) {
                let old = v[g] as usize - g * s;
                let new = (old + 1 + rng.random_range(0..s - 1)) % s;
                v[g] = (g * s + new) as u32;
            }
            v
        })
        .collect();
    Patterns::from_rows(h * s, &rows).unwrap()
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

fn willshaw(n: usize, k: usize, pairs: usize) -> (AssocStore, Patterns) {
    let u = k_patterns(pairs, n, k, 1);
    let v = k_patterns(pairs, n, k, 2);
    let mut s = AssocStore::new(n, n, true, false).unwrap();
    s.store(&u, &v).unwrap();
    (s, u)
}

fn params(rule: Rule, mode: Mode, n_iter: usize) -> RetrieveParams {
    RetrieveParams {
        rule,
        mode,
        n_iter,
        adaptive: false,
        anchor: false,
        p01: 0.0,
        p10: 0.0,
    }
}

/// Willshaw retrieval at n = 100,000, k = 17, 10^6 pairs (issue 14's scale).
fn willshaw_scale(c: &mut Criterion) {
    let (s, u) = willshaw(100_000, 17, 1_000_000);
    let nq = 2_000;
    let q = Patterns::from_rows(
        u.dim,
        &(0..nq).map(|r| u.row(r).to_vec()).collect::<Vec<_>>(),
    )
    .unwrap();
    let p = params(Rule::Willshaw, Mode::Threshold(None), 1);
    let mut g = c.benchmark_group("willshaw_retrieve_n100000_k17_1e6pairs");
    g.throughput(Throughput::Elements(nq as u64));
    for threads in [1, 2] {
        let tp = pool(threads);
        g.bench_function(BenchmarkId::new("threads", threads), |b| {
            b.iter(|| tp.install(|| black_box(retrieve(&s, &q, &p).unwrap())))
        });
    }
    g.finish();
}

/// BCPNN potentials on ptBCPNN2's workload (32 x 32 hypercolumns, 1,775
/// patterns): the sparse kernel against the dense rows, one step for every
/// cue, one thread.
fn bcpnn_kernel(c: &mut Criterion) {
    let (h, sz) = (32, 32);
    let pats = modular(1775, h, sz, 3);
    let cues = corrupt(&pats, h, sz, 4, 4);
    let mut s = AssocStore::new(h * sz, h * sz, false, true).unwrap();
    s.store(&pats, &pats).unwrap();
    let n = h * sz;
    let mut g = c.benchmark_group("bcpnn_kernel_32x32_1775");
    g.throughput(Throughput::Elements(cues.len() as u64));
    for (name, rows_read) in [("sparse", 0usize), ("dense", usize::MAX)] {
        let mut w = Weights::new(&s, Rule::Bcpnn, 0.0, 0.0, sz).unwrap();
        w.densify(rows_read);
        let mut x = vec![0.0; n];
        g.bench_function(name, |b| {
            b.iter(|| {
                for r in 0..cues.len() {
                    w.potentials(cues.row(r), &mut x);
                }
                black_box(&x);
            })
        });
    }
    let tp = pool(1);
    let p = params(Rule::Bcpnn, Mode::Hypercolumn(h), 15);
    g.bench_function("store_and_retrieve_15_iter", |b| {
        b.iter(|| {
            tp.install(|| {
                let mut s = AssocStore::new(n, n, false, true).unwrap();
                s.store(&pats, &pats).unwrap();
                black_box(retrieve(&s, &cues, &p).unwrap())
            })
        })
    });
    g.finish();
}

/// Store and retrieve with 1 and 2 threads over sizes (Willshaw hetero,
/// `k ≈ log2 n`, `n` pairs, `n / 10` queries).
fn threads_over_sizes(c: &mut Criterion) {
    for n in [100usize, 1_000, 10_000, 100_000] {
        let k = (n as f64).log2().round() as usize;
        let pairs = n;
        let u = k_patterns(pairs, n, k, 5);
        let v = k_patterns(pairs, n, k, 6);
        let nq = (n / 10).max(10);
        let q = Patterns::from_rows(n, &(0..nq).map(|r| u.row(r).to_vec()).collect::<Vec<_>>())
            .unwrap();
        let mut s = AssocStore::new(n, n, true, false).unwrap();
        s.store(&u, &v).unwrap();
        let p = params(Rule::Willshaw, Mode::Threshold(None), 1);
        let mut g = c.benchmark_group(format!("threads_willshaw_n{n}"));
        for threads in [1, 2] {
            let tp = pool(threads);
            g.bench_function(BenchmarkId::new("store", threads), |b| {
                b.iter(|| {
                    tp.install(|| {
                        let mut s = AssocStore::new(n, n, true, false).unwrap();
                        s.store(&u, &v).unwrap();
                        black_box(s)
                    })
                })
            });
            g.bench_function(BenchmarkId::new("retrieve", threads), |b| {
                b.iter(|| tp.install(|| black_box(retrieve(&s, &q, &p).unwrap())))
            });
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    targets = bcpnn_kernel, threads_over_sizes, willshaw_scale
}
criterion_main!(benches);
