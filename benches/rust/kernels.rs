//! Criterion benches of issue 14's kernels: every parallel kernel with 1 and
//! 2 threads over sizes (a second thread must never slow a kernel down), and
//! the competitive training step with and without the top-fraction rule.
//!
//! Run with `cargo bench --bench kernels` (or `make bench`); the summary of
//! ratios is `python benches/kernels_summary.py target/criterion`. On a
//! shared machine, `THREAD_RATIOS=1 cargo bench --bench kernels` instead
//! alternates 1- and 2-thread runs of every kernel and prints the ratio of
//! the fastest of each (other jobs only ever add time, so minima compare
//! best).

use criterion::{criterion_group, BenchmarkId, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::{ThreadPool, ThreadPoolBuilder};
use std::hint::black_box;
use std::time::{Duration, Instant};
use synaplast_core::competitive::{
    Activation, Config, Mlp, OutputKind, PathMode, Sampling, Schedule, Selection, TrainSpec,
};
use synaplast_core::structural_classifier::{self as sc, HiddenParams};
use synaplast_core::{StructuralNet, SynapseMatrix};

/// Thread counts compared.
const THREADS: [usize; 2] = [1, 2];

fn pools() -> Vec<(usize, ThreadPool)> {
    THREADS
        .iter()
        .map(|&t| {
            let pool = ThreadPoolBuilder::new().num_threads(t).build();
            (t, pool.expect("a thread pool"))
        })
        .collect()
}

/// Pixel-like data: half the values zero, the rest uniform in [0, 1).
fn pixels(n: usize, d: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n * d)
        .map(|_| {
            if rng.random::<f32>() < 0.5 {
                0.0
            } else {
                rng.random::<f32>()
            }
        })
        .collect()
}

/// One kernel call at one size.
struct Workload {
    kernel: &'static str,
    size: usize,
    run: Box<dyn Fn() + Sync>,
}

fn sparse_products() -> Vec<Workload> {
    const BATCH: usize = 64;
    let mut out = Vec::new();
    for n in [100, 300, 1000, 3000] {
        let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
        let dense: Vec<f32> = (0..n * n)
            .map(|_| {
                if rng.random::<f32>() < 0.1 {
                    rng.random::<f32>() - 0.5
                } else {
                    0.0
                }
            })
            .collect();
        let m =
            std::sync::Arc::new(SynapseMatrix::from_dense(&dense, n, n, false).expect("a matrix"));
        let x = std::sync::Arc::new(pixels(BATCH, n, 1));
        let (m2, x2) = (m.clone(), x.clone());
        out.push(Workload {
            kernel: "sparse_forward",
            size: n,
            run: Box::new(move || {
                black_box(m.forward(black_box(&x), BATCH).expect("product"));
            }),
        });
        out.push(Workload {
            kernel: "sparse_backward",
            size: n,
            run: Box::new(move || {
                black_box(m2.backward(black_box(&x2), BATCH).expect("product"));
            }),
        });
    }
    out
}

/// MNIST-like inputs (784 values, most a near-constant background, a fifth
/// bright strokes), 10 classes.
fn mnist_like(n: usize) -> (Vec<f32>, Vec<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let x = (0..n * 784)
        .map(|_| {
            if rng.random::<f32>() < 0.2 {
                rng.random::<f32>() * 0.9
            } else {
                -0.13 + rng.random::<f32>() * 0.002
            }
        })
        .collect();
    let y = (0..n).map(|_| rng.random_range(0..10u32)).collect();
    (x, y)
}

fn mlp(hidden: usize, p: f64) -> Mlp {
    let cfg = Config {
        sizes: vec![784, hidden, 10],
        activation: Activation::LeakyRelu,
        leaky_slope: 0.1,
        output: OutputKind::LinearMse,
        learning_rate: 0.01,
        init_std: 0.03,
        fractions: vec![p, (78.4 * p).min(1.0)],
        selection: Selection::Layer,
        plastic_units: None,
        path_mode: PathMode::Error,
        caching: None,
        batch_size: 1,
        error_clip: f32::INFINITY,
    };
    Mlp::new(cfg, 0).expect("a network")
}

/// 200 online training steps (batch 1) from a copy of a fresh network.
fn competitive_step(kernel: &'static str, hidden: usize, p: f64) -> Workload {
    let (x, y) = mnist_like(2000);
    let net = mlp(hidden, p);
    Workload {
        kernel,
        size: hidden,
        run: Box::new(move || {
            let spec = TrainSpec {
                x: &x,
                y: &y,
                eval: None,
                schedule: Schedule {
                    sampling: Sampling::Replacement,
                    max_samples: 200,
                    eval_every: 1_000_000,
                    target_accuracy: None,
                    seed: 0,
                },
            };
            black_box(net.clone().train(&spec).expect("training"));
        }),
    }
}

/// One epoch of the structural classifier's hidden learning (512 samples,
/// batches of 32, 100 synapses per unit) from a copy of a fresh network.
fn structural_epoch(hidden: usize) -> Workload {
    const N: usize = 512;
    let x = pixels(N, 784, 5);
    let order: Vec<u32> = (0..N as u32).collect();
    let params = HiddenParams {
        n_winners: 2,
        learning_rate: 0.05,
        homeostasis_rate: 0.01,
        competition_rate: 0.1,
        target_activity: 0.1,
        w_max: 1.0,
        w_consolidate: None,
        inhibition_rate: 0.0,
        weight_dependence: sc::WeightDependence::Additive,
    };
    let cfg = sc::Config {
        n_in: 784,
        n_hidden: hidden,
        n_classes: 10,
        init_per_unit: 100,
        init_weights: (0.01, 0.1),
        direct: false,
    };
    let net = StructuralNet::new(&cfg, 0).expect("a network");
    Workload {
        kernel: "structural_epoch",
        size: hidden,
        run: Box::new(move || {
            let mut net = net.clone();
            black_box(
                net.hidden_epoch(&x, N, &order, 32, &params, false)
                    .expect("epoch"),
            );
        }),
    }
}

/// Every kernel compared across thread counts.
fn thread_workloads() -> Vec<Workload> {
    let mut w = sparse_products();
    for hidden in [100, 300, 1000] {
        w.push(competitive_step("competitive_step", hidden, 1.0));
    }
    for hidden in [100, 400, 1600] {
        w.push(structural_epoch(hidden));
    }
    w
}

fn threads(c: &mut Criterion) {
    let pools = pools();
    let workloads = thread_workloads();
    for w in &workloads {
        let mut g = c.benchmark_group(format!("threads_{}", w.kernel));
        for (t, pool) in &pools {
            g.bench_function(BenchmarkId::new(format!("t{t}"), w.size), |b| {
                b.iter(|| pool.install(|| (w.run)()))
            });
        }
        g.finish();
    }
}

fn top_fraction(c: &mut Criterion) {
    let mut g = c.benchmark_group("topp_competitive_step");
    for hidden in [100, 1000] {
        for (name, p) in [("plain", 1.0), ("top10", 0.1), ("top1", 0.01)] {
            let w = competitive_step(name, hidden, p);
            g.bench_function(BenchmarkId::new(name, hidden), |b| b.iter(|| (w.run)()));
        }
    }
    g.finish();
}

/// Alternate 1- and 2-thread runs of every kernel; print the fastest of
/// each and their ratio.
fn thread_ratios() {
    let reps: usize = std::env::var("THREAD_RATIOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let pools = pools();
    println!("| kernel | size | 1 thread (ms) | 2 threads (ms) | 1 / 2 threads |");
    println!("|---|---|---|---|---|");
    for w in thread_workloads() {
        let mut best = [f64::INFINITY; 2];
        for _ in 0..reps.max(1) {
            for (k, (_, pool)) in pools.iter().enumerate() {
                let t = Instant::now();
                pool.install(|| (w.run)());
                best[k] = best[k].min(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        println!(
            "| {} | {} | {:.3} | {:.3} | {:.2}x |",
            w.kernel,
            w.size,
            best[0],
            best[1],
            best[0] / best[1]
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = top_fraction, threads
}

fn main() {
    if std::env::var_os("THREAD_RATIOS").is_some() {
        thread_ratios();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
