//! Criterion benches of issue 14's kernels: every parallel kernel with 1 and
//! 2 threads over sizes (a second thread must never slow a kernel down), and
//! the competitive training step with and without the top-fraction rule.
//!
//! Run with `cargo bench --bench kernels` (or `make bench`); the summary of
//! ratios is `python benches/kernels_summary.py target/criterion`. On a
//! shared machine, `THREAD_RATIOS=1 cargo bench --bench kernels` instead
//! alternates 1- and 2-thread runs of every kernel and prints the ratio of
//! the fastest of each (other jobs only ever add time, so minima compare
//! best), and, from each worker's CPU time, the busiest thread's share: on
//! a loaded machine, where the second thread rarely gets a core, the ratio
//! of the 1-thread CPU time to the busiest thread's bounds the speed-up
//! (serial parts and imbalance count; waiting for a wake-up does not);
//! `RATIO_KERNELS=competitive_step,structural_epoch` limits it to those
//! kernels. Each run is timed around `pool.install`, so it includes handing
//! the call to the pool and back (on 2 cores, with a second worker waking
//! and spinning, that hand-off alone can cost 10–20 µs); `RATIO_INSIDE=1`
//! times the kernel on the pool's thread instead, which tells a kernel that
//! runs serially (the same on both pools) from the cost of reaching the
//! pool. `THREAD_CROSSOVER=1 cargo bench --bench kernels` sweeps each
//! kernel over small sizes with 1 thread and with 2 threads splitting every
//! loop (`synaplast_core::parallel::force_split`) and prints the work from
//! which the split pays: the measurement behind each kernel's `Split`.
//! `TOPP_RATIOS=1 cargo bench --bench kernels` alternates the plain and the
//! top-fraction competitive steps on one thread and prints their ratios.

mod common;
use common::{print_ratio_header, print_ratio_row, wanted, with_busiest_cpu};
use criterion::{criterion_group, BenchmarkId, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::{ThreadPool, ThreadPoolBuilder};
use std::hint::black_box;
use std::time::{Duration, Instant};
use synaplast_core::competitive::{
    Activation, Config, Mlp, OutputKind, PathMode, Sampling, Schedule, Selection, TrainSpec,
};
use synaplast_core::memory::retrieval::{retrieve, Mode, RetrieveParams};
use synaplast_core::memory::rules::Rule;
use synaplast_core::structural_classifier::{self as sc, HiddenParams};
use synaplast_core::{AssocStore, Patterns};
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

/// Samples of the sparse products.
const SPARSE_BATCH: usize = 64;

fn sparse_products() -> Vec<Workload> {
    sparse_products_over([100, 300, 1000, 3000])
}

fn sparse_products_over<const S: usize>(sizes: [usize; S]) -> Vec<Workload> {
    const BATCH: usize = SPARSE_BATCH;
    let mut out = Vec::new();
    for n in sizes {
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

/// The shape of a structural-epoch workload.
struct EpochShape {
    kernel: &'static str,
    hidden: usize,
    samples: usize,
    batch: usize,
    init_per_unit: usize,
    /// Seed of the pixel-like samples.
    seed: u64,
}

/// One epoch of the structural classifier's hidden learning with `params`
/// from a copy of a fresh network of the given shape.
fn structural_epoch_of(shape: EpochShape, params: HiddenParams) -> Workload {
    let EpochShape {
        kernel,
        hidden,
        samples,
        batch,
        init_per_unit,
        seed,
    } = shape;
    let x = pixels(samples, 784, seed);
    let order: Vec<u32> = (0..samples as u32).collect();
    let cfg = sc::Config {
        n_in: 784,
        n_hidden: hidden,
        n_classes: 10,
        init_per_unit,
        init_weights: (0.01, 0.1),
        direct: false,
    };
    let net = StructuralNet::new(&cfg, 0).expect("a network");
    Workload {
        kernel,
        size: hidden,
        run: Box::new(move || {
            let mut net = net.clone();
            black_box(
                net.hidden_epoch(&x, samples, &order, batch, &params, false)
                    .expect("epoch"),
            );
        }),
    }
}

/// One epoch of the structural classifier's hidden learning (512 samples,
/// batches of 32, 100 synapses per unit) from a copy of a fresh network.
fn structural_epoch(hidden: usize) -> Workload {
    let shape = EpochShape {
        kernel: "structural_epoch",
        hidden,
        samples: 512,
        batch: 32,
        init_per_unit: 100,
        seed: 5,
    };
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
    structural_epoch_of(shape, params)
}

/// One epoch of the classifier's hidden learning in the shape of its
/// defaults on MNIST (25,000 units with 8 candidate synapses each, batches
/// of 100, 4 winners, the default rates), over 2,000 pixel-like samples:
/// the size users run, beside the bench's wider and smaller layers.
fn structural_epoch_defaults() -> Workload {
    let shape = EpochShape {
        kernel: "structural_epoch_defaults",
        hidden: 25_000,
        samples: 2000,
        batch: 100,
        init_per_unit: 8,
        seed: 7,
    };
    let params = HiddenParams {
        n_winners: 4,
        learning_rate: 0.05,
        homeostasis_rate: 0.05,
        competition_rate: 10.0,
        target_activity: 0.3,
        w_max: 1.0,
        w_consolidate: None,
        inhibition_rate: 0.0,
        weight_dependence: sc::WeightDependence::Additive,
    };
    structural_epoch_of(shape, params)
}

/// Every kernel compared across thread counts.
fn thread_workloads() -> Vec<Workload> {
    let mut w = sparse_products();
    for hidden in [100, 300, 1000] {
        w.push(competitive_step("competitive_step", hidden, 1.0));
    }
    for hidden in [100, 400, 1600, 6400] {
        w.push(structural_epoch(hidden));
    }
    w.push(structural_epoch_defaults());
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

/// Alternate the plain and the top-fraction steps on one thread; print the
/// fastest of each and the ratios to the plain step (`TOPP_RATIOS=reps`).
fn topp_ratios() {
    let reps: usize = std::env::var("TOPP_RATIOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let pool = ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a pool");
    println!(
        "| N_hidden | plain (ms) | top 10 % (ms) | top 1 % (ms) | top10 / plain | top1 / plain |"
    );
    println!("|---|---|---|---|---|---|");
    for hidden in [100, 1000] {
        let w: Vec<Workload> = [("plain", 1.0), ("top10", 0.1), ("top1", 0.01)]
            .into_iter()
            .map(|(name, p)| competitive_step(name, hidden, p))
            .collect();
        let mut best = [f64::INFINITY; 3];
        for _ in 0..reps.max(1) {
            for (k, w) in w.iter().enumerate() {
                let t = Instant::now();
                pool.install(|| (w.run)());
                best[k] = best[k].min(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        println!(
            "| {hidden} | {:.3} | {:.3} | {:.3} | {:.2}x | {:.2}x |",
            best[0],
            best[1],
            best[2],
            best[1] / best[0],
            best[2] / best[0]
        );
    }
}

/// Alternate 1- and 2-thread runs of every kernel; print the fastest of
/// each and their ratio.
fn thread_ratios() {
    let reps: usize = std::env::var("THREAD_RATIOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let pools = pools();
    print_ratio_header();
    let inside = std::env::var_os("RATIO_INSIDE").is_some();
    for w in thread_workloads().into_iter().filter(|w| wanted(w.kernel)) {
        let mut best = [f64::INFINITY; 2];
        let mut cpu = [f64::INFINITY; 2];
        for _ in 0..reps.max(1) {
            for (k, (_, pool)) in pools.iter().enumerate() {
                let (ms, busiest) = with_busiest_cpu(pool, || {
                    if inside {
                        pool.install(|| {
                            let t = Instant::now();
                            (w.run)();
                            t.elapsed().as_secs_f64() * 1e3
                        })
                    } else {
                        let t = Instant::now();
                        pool.install(|| (w.run)());
                        t.elapsed().as_secs_f64() * 1e3
                    }
                });
                best[k] = best[k].min(ms);
                cpu[k] = cpu[k].min(busiest);
            }
        }
        print_ratio_row(w.kernel, w.size, best, cpu);
    }
}

/// `p` patterns of `n` units with `k` distinct active units each.
fn k_patterns(p: usize, n: usize, k: usize, seed: u64) -> Patterns {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rows: Vec<Vec<u32>> = (0..p)
        .map(|_| {
            let mut v: Vec<u32> = rand::seq::index::sample(&mut rng, n, k)
                .into_iter()
                .map(|x| x as u32)
                .collect();
            v.sort_unstable();
            v
        })
        .collect();
    Patterns::from_rows(n, &rows).expect("patterns")
}

/// Willshaw hetero-association as in the memory bench's figure 8 (`k ≈
/// log2 n`, `n` pairs, `n / 10` queries): storing into an empty memory and
/// one retrieval step, each with its work as the kernel estimates it
/// (entries gathered plus rows; synapses read plus potentials).
fn memory_workloads(n: usize) -> [(Workload, usize); 2] {
    let k = (n as f64).log2().round() as usize;
    let (u, v) = (k_patterns(n, n, k, 5), k_patterns(n, n, k, 6));
    let nq = (n / 10).max(10);
    let q = Patterns::from_rows(n, &(0..nq).map(|r| u.row(r).to_vec()).collect::<Vec<_>>())
        .expect("queries");
    let mut s = AssocStore::new(n, n, true, false).expect("a memory");
    s.store(&u, &v).expect("storing");
    let store_work = n * k * k + n;
    let retrieve_work = nq * k * s.stored_entries() / n + nq * n;
    let p = RetrieveParams {
        rule: Rule::Willshaw,
        mode: Mode::Threshold(None),
        n_iter: 1,
        adaptive: false,
        anchor: false,
        p01: 0.0,
        p10: 0.0,
    };
    [
        (
            Workload {
                kernel: "memory_store",
                size: n,
                run: Box::new(move || {
                    let mut s = AssocStore::new(n, n, true, false).expect("a memory");
                    s.store(&u, &v).expect("storing");
                    black_box(s);
                }),
            },
            store_work,
        ),
        (
            Workload {
                kernel: "memory_retrieve",
                size: n,
                run: Box::new(move || {
                    black_box(retrieve(&s, &q, &p).expect("retrieval"));
                }),
            },
            retrieve_work,
        ),
    ]
}

/// The crossover sweep: per kernel and size, its work, 1 thread against 2
/// threads that split every loop, and the least work from which every
/// larger size of the sweep is at least as fast on 2 threads.
fn thread_crossover() {
    let reps: usize = std::env::var("THREAD_CROSSOVER")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&r| r > 1)
        .unwrap_or(30);
    let pools = pools();
    let mut kernels: Vec<Vec<(Workload, usize)>> = vec![Vec::new(), Vec::new()];
    for n in [100, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 5000] {
        let [s, r] = memory_workloads(n);
        kernels[0].push(s);
        kernels[1].push(r);
    }
    let sparse: Vec<Workload> = sparse_products_over([30, 50, 100, 200, 300, 500, 700, 1000]);
    let (mut fwd, mut bwd) = (Vec::new(), Vec::new());
    for w in sparse {
        // Multiply-adds of one product: the non-zeros (10 %) times the batch.
        let work = w.size * w.size / 10 * SPARSE_BATCH;
        if w.kernel == "sparse_forward" {
            fwd.push((w, work));
        } else {
            bwd.push((w, work));
        }
    }
    kernels.push(fwd);
    kernels.push(bwd);
    kernels.push(
        [10, 20, 30, 50, 70, 100, 150, 200]
            .into_iter()
            // Weights of the first layer (the split layer of a step).
            .map(|h| (competitive_step("competitive_step", h, 1.0), 785 * h))
            .collect(),
    );
    println!("| kernel | size | work | 1 thread (ms) | 2 threads, always split (ms) | 1 / 2 |");
    println!("|---|---|---|---|---|---|");
    let mut summary = Vec::new();
    for sweep in &kernels {
        let mut rows = Vec::new();
        for (w, work) in sweep {
            // Alternated, so that a change of load hits both alike.
            let mut best = [f64::INFINITY; 2];
            for _ in 0..reps {
                for (k, (_, pool)) in pools.iter().enumerate() {
                    let _forced = (k == 1).then(synaplast_core::parallel::force_split);
                    let t = Instant::now();
                    pool.install(|| (w.run)());
                    best[k] = best[k].min(t.elapsed().as_secs_f64() * 1e3);
                }
            }
            let [one, two] = best;
            println!(
                "| {} | {} | {} | {:.4} | {:.4} | {:.2}x |",
                w.kernel,
                w.size,
                work,
                one,
                two,
                one / two
            );
            rows.push((*work, one / two));
        }
        let cross = rows
            .iter()
            .rposition(|&(_, r)| r < 1.0)
            .map_or(Some(rows[0].0), |i| rows.get(i + 1).map(|r| r.0));
        summary.push((sweep[0].0.kernel, cross));
    }
    println!();
    for (kernel, cross) in summary {
        match cross {
            Some(w) => println!(
                "{kernel}: 2 threads pay from a work of {w} (a task of {})",
                w / 2
            ),
            None => println!("{kernel}: 2 threads never paid in this sweep"),
        }
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
    if std::env::var_os("TOPP_RATIOS").is_some() {
        topp_ratios();
        return;
    }
    if std::env::var_os("THREAD_CROSSOVER").is_some() {
        thread_crossover();
        return;
    }
    if std::env::var_os("THREAD_RATIOS").is_some() {
        thread_ratios();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
