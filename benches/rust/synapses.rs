//! Criterion benches of the synapse store: the sparse forward product at
//! densities 1%, 10% and 100% against a dense ndarray product and a plain
//! dense loop, and structural plasticity (prune, grow).
//!
//! Run with `cargo bench` (or `make bench`).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::time::Duration;
use synaplast_core::{GrowInit, SynapseMatrix};

const N_POST: usize = 1000;
const N_PRE: usize = 1000;
const BATCH: usize = 64;

fn random_dense(density: f64, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..N_POST * N_PRE)
        .map(|_| {
            if rng.random::<f64>() < density {
                rng.random::<f32>() - 0.5
            } else {
                0.0
            }
        })
        .collect()
}

fn activity(seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..BATCH * N_PRE).map(|_| rng.random::<f32>()).collect()
}

fn plain_loop(w: &[f32], x: &[f32]) -> Vec<f32> {
    let mut y = vec![0.0f32; BATCH * N_POST];
    for b in 0..BATCH {
        let xb = &x[b * N_PRE..(b + 1) * N_PRE];
        for i in 0..N_POST {
            let wi = &w[i * N_PRE..(i + 1) * N_PRE];
            y[b * N_POST + i] = wi.iter().zip(xb).map(|(a, c)| a * c).sum();
        }
    }
    y
}

fn products(c: &mut Criterion) {
    let x = activity(1);
    let xa = Array2::from_shape_vec((BATCH, N_PRE), x.clone()).unwrap();
    let mut g = c.benchmark_group("forward_1000x1000_batch64");
    g.throughput(Throughput::Elements((BATCH * N_POST) as u64));
    for density in [0.01, 0.1, 1.0] {
        let dense = random_dense(density, 2);
        let m = SynapseMatrix::from_dense(&dense, N_POST, N_PRE, false).unwrap();
        let wa = Array2::from_shape_vec((N_POST, N_PRE), dense.clone()).unwrap();
        let label = format!("{}%", density * 100.0);
        g.bench_with_input(BenchmarkId::new("sparse", &label), &m, |b, m| {
            b.iter(|| black_box(m.forward(black_box(&x), BATCH).unwrap()))
        });
        g.bench_with_input(BenchmarkId::new("sparse_backward", &label), &m, |b, m| {
            let gpost = activity(3)[..BATCH * N_POST].to_vec();
            b.iter(|| black_box(m.backward(black_box(&gpost), BATCH).unwrap()))
        });
        g.bench_with_input(BenchmarkId::new("dense_ndarray", &label), &wa, |b, wa| {
            b.iter(|| black_box(xa.dot(&wa.t())))
        });
        g.bench_with_input(BenchmarkId::new("dense_loop", &label), &dense, |b, d| {
            b.iter(|| black_box(plain_loop(d, black_box(&x))))
        });
    }
    g.finish();
}

fn structural(c: &mut Criterion) {
    let base = SynapseMatrix::from_dense(&random_dense(0.1, 4), N_POST, N_PRE, false).unwrap();
    let mut g = c.benchmark_group("structural_1000x1000_10pct");
    g.bench_function("prune_weakest_30pct", |b| {
        b.iter_batched(
            || base.clone(),
            |mut m| m.prune_weakest(0.3).unwrap(),
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_function("prune_below", |b| {
        b.iter_batched(
            || base.clone(),
            |mut m| m.prune_below(0.25).unwrap(),
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_function("grow_random_30_per_row", |b| {
        b.iter_batched(
            || base.clone(),
            |mut m| m.grow_random(30, GrowInit::Uniform(0.01, 0.1), 7).unwrap(),
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = products, structural
}
criterion_main!(benches);
