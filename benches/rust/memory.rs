//! Criterion benches of the associative-memory kernels: Willshaw retrieval
//! (integer potentials), the BCPNN potentials with the sparse and the dense
//! kernel on ptBCPNN2's modular workload, storing, and 1 vs 2 threads for
//! store and retrieve over sizes.
//!
//! Run with `cargo bench --bench memory` (or `make bench`); summarised by
//! `python benches/criterion_table.py target/criterion`.
//!
//! On a shared machine, `THREAD_RATIOS=reps cargo bench --bench memory`
//! instead alternates 1- and 2-thread runs of Willshaw store and retrieve
//! over sizes, BCPNN store and retrieve on the 32 x 32 modular workload and
//! an e-prop training run over network sizes, and prints the fastest of
//! each, their ratio and, from each worker's CPU time, the busiest thread's
//! (as `THREAD_RATIOS` of the kernels bench; a kernel gets at least 50 ms
//! of repetitions). `RATIO_KERNELS=a,b` limits it to those kernels,
//! `EPROP_SIZES=300,3000` sets the e-prop network sizes and `RATIO_FORCE=1`
//! makes the 2-thread runs split every loop
//! (`synaplast_core::parallel::force_split`: the cost of splitting below
//! each kernel's work threshold, to measure the threshold). Every run's
//! result is hashed (after its timing), and a 2-thread result that differs
//! from the 1-thread one stops the bench. `SAME_BITS=1` only
//! prints those hashes for 1, 2 and 3 threads (to compare builds).

mod common;
use common::{print_ratio_header, print_ratio_row, wanted, with_busiest_cpu};
use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use synaplast_core::eprop::{self, Batch, Connectivity, Network, RunOptions};
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
/// What a timed run leaves: its result's hash, computed after the timing.
type Digest = Box<dyn FnOnce() -> u64 + Send>;

/// A kernel at one size for the thread ratios: `prepare` (not timed) makes
/// a run (timed), whose result is hashed after it (not timed).
struct Workload {
    kernel: &'static str,
    size: usize,
    prepare: Box<dyn Fn() -> Box<dyn FnOnce() -> Digest + Send> + Sync>,
}

fn hash_patterns(p: &Patterns, h: &mut DefaultHasher) {
    p.indptr.hash(h);
    p.indices.hash(h);
}

fn hash_store(s: &AssocStore) -> u64 {
    let mut h = DefaultHasher::new();
    for i in 0..s.m() {
        s.row(i).hash(&mut h);
        if !s.is_binary() {
            s.row_counts(i).hash(&mut h);
        }
    }
    s.content_counts().hash(&mut h);
    h.finish()
}

/// Storing `u → v` in a fresh memory of `n` units (`binary`, `auto` as in
/// [`AssocStore::new`]), and retrieving `cues` from the full memory with
/// `p`, as the workloads `names`.
fn memory_workloads(
    names: [&'static str; 2],
    n: usize,
    (binary, auto): (bool, bool),
    (u, v, cues): (Patterns, Patterns, Patterns),
    p: RetrieveParams,
) -> [Workload; 2] {
    let (u, v, cues) = (Arc::new(u), Arc::new(v), Arc::new(cues));
    let mut s = AssocStore::new(n, n, binary, auto).unwrap();
    s.store(&u, &v).unwrap();
    let s = Arc::new(s);
    let store = Workload {
        kernel: names[0],
        size: n,
        prepare: Box::new(move || {
            let (u, v) = (u.clone(), v.clone());
            Box::new(move || {
                let mut s = AssocStore::new(n, n, binary, auto).unwrap();
                s.store(&u, &v).unwrap();
                Box::new(move || hash_store(&s)) as Digest
            })
        }),
    };
    let retrieve_w = Workload {
        kernel: names[1],
        size: n,
        prepare: Box::new(move || {
            let (s, cues) = (s.clone(), cues.clone());
            Box::new(move || {
                let r = retrieve(&s, &cues, &p).unwrap();
                Box::new(move || {
                    let mut h = DefaultHasher::new();
                    hash_patterns(&r.patterns, &mut h);
                    r.iterations.hash(&mut h);
                    h.finish()
                }) as Digest
            })
        }),
    };
    [store, retrieve_w]
}

/// Willshaw store and retrieve at `n` (the pairs of `threads_over_sizes`).
fn willshaw_workloads(n: usize) -> [Workload; 2] {
    let k = (n as f64).log2().round() as usize;
    let u = k_patterns(n, n, k, 5);
    let v = k_patterns(n, n, k, 6);
    let nq = (n / 10).max(10);
    let q =
        Patterns::from_rows(n, &(0..nq).map(|r| u.row(r).to_vec()).collect::<Vec<_>>()).unwrap();
    memory_workloads(
        ["willshaw_store", "willshaw_retrieve"],
        n,
        (true, false),
        (u, v, q),
        params(Rule::Willshaw, Mode::Threshold(None), 1),
    )
}

/// BCPNN store and 15-iteration retrieval on ptBCPNN2's workload (32 x 32
/// hypercolumns, 1,775 patterns, 4 hypercolumns of each cue corrupted).
fn bcpnn_workloads() -> [Workload; 2] {
    let (h, sz) = (32, 32);
    let pats = modular(1775, h, sz, 3);
    let cues = corrupt(&pats, h, sz, 4, 4);
    memory_workloads(
        ["bcpnn_store", "bcpnn_retrieve"],
        h * sz,
        (false, true),
        (pats.clone(), pats, cues),
        params(Rule::Bcpnn, Mode::Hypercolumn(h), 15),
    )
}

/// Steps of one e-prop sequence of the sine task (NEST's example).
const EPROP_STEPS: usize = 1000;

/// Time steps of one timed e-prop run at `n_rec` recurrent neurons (about
/// 10-100 ms on one core).
fn eprop_run_steps(n_rec: usize) -> usize {
    match n_rec {
        0..=100 => 1000,
        101..=1000 => 200,
        _ => 50,
    }
}

/// An e-prop training run: NEST's sine-wave example (100 Poisson inputs
/// at 5 % per step, one leaky readout fitting a sum of sines, event-driven
/// NEST-compatible mode, gradient descent at every spike, cutoff 100) with
/// `n_rec` recurrent neurons, connected all to all at 100 neurons and with
/// `100 / n_rec` of the recurrent pairs above (the fan-in stays 100). The
/// network is run for one sequence first (so that the timed steps see a
/// settled archive), then each timed run trains a copy for
/// [`eprop_run_steps`] steps.
fn eprop_workload(n_rec: usize) -> Workload {
    let (n_in, n_out) = (100, 1);
    let kappa = 0.97;
    let scale = 1.0 - kappa;
    let cfg = eprop::Config {
        n_in,
        n_rec,
        n_out,
        dt: 1.0,
        tau_m: 30.0,
        tau_out: 30.0,
        v_th: 0.03,
        t_ref: 0,
        surrogate_height: 10.0,
        surrogate_width: 1.0 / 33.3,
        kappa,
        kappa_reg: 0.97,
        c_reg: 300.0 / EPROP_STEPS as f64,
        f_target: 0.01,
        eta: 1e-4 * scale * scale,
        cutoff: Some(100),
        nest_compatible: true,
        event_driven: true,
        update_at_spike: true,
        reset_each_sequence: false,
        ..eprop::Config::default()
    };
    let conn = Connectivity {
        p_in: 1.0,
        p_rec: (100.0 / n_rec as f64).min(1.0),
        input_scale: scale,
        recurrent_scale: scale,
        readout_scale: scale,
        feedback_scale: scale,
        dale: None,
        symmetric_init: false,
    };
    let mut net = Network::random(cfg, &conn, 1).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let x: Vec<u8> = (0..EPROP_STEPS * n_in)
        .map(|_| (rng.random::<f64>() < 0.05) as u8)
        .collect();
    let target: Vec<f32> = (0..EPROP_STEPS)
        .map(|t| {
            let t = t as f64 / EPROP_STEPS as f64;
            [
                (1.0, 1.0, 0.3),
                (2.0, 0.7, 1.1),
                (3.0, 0.5, 2.0),
                (5.0, 0.4, 0.5),
            ]
            .iter()
            .map(|&(f, a, ph)| a * (2.0 * std::f64::consts::PI * f * t + ph).sin())
            .sum::<f64>() as f32
                / 2.6
        })
        .collect();
    let mask = vec![1.0f32; EPROP_STEPS];
    let opts = RunOptions {
        learn: true,
        batch_size: 1,
        record_y: false,
        record_raster: false,
    };
    let batch = |steps: usize| {
        (
            x[..steps * n_in].to_vec(),
            target[..steps * n_out].to_vec(),
            mask[..steps].to_vec(),
        )
    };
    let (wx, wt, wm) = batch(EPROP_STEPS);
    let warm = Batch {
        n_seq: 1,
        n_steps: EPROP_STEPS,
        x: &wx,
        target: &wt,
        mask: &wm,
    };
    net.run(&warm, &opts).unwrap();
    let steps = eprop_run_steps(n_rec);
    let data = Arc::new(batch(steps));
    let net = Arc::new(net);
    Workload {
        kernel: "eprop_run",
        size: n_rec,
        prepare: Box::new(move || {
            let mut net = Network::clone(&net);
            let data = data.clone();
            Box::new(move || {
                let (x, target, mask) = &*data;
                let b = Batch {
                    n_seq: 1,
                    n_steps: steps,
                    x,
                    target,
                    mask,
                };
                let out = net.run(&b, &opts).unwrap();
                Box::new(move || {
                    let mut h = DefaultHasher::new();
                    for l in &out.loss {
                        l.to_bits().hash(&mut h);
                    }
                    for w in net.synapses().weights().unwrap().iter().chain(net.w_out()) {
                        w.to_bits().hash(&mut h);
                    }
                    let st = net.stats();
                    let (c, co) = net.counters();
                    (st.events, st.trace_updates, st.optimizer_calls, st.spikes).hash(&mut h);
                    for c in [c, co] {
                        (c.writes, c.abs_change.to_bits()).hash(&mut h);
                    }
                    h.finish()
                }) as Digest
            })
        }),
    }
}

/// Every kernel compared across thread counts, cheapest first.
fn thread_workloads() -> Vec<Workload> {
    let mut w = Vec::new();
    if wanted("willshaw_store") || wanted("willshaw_retrieve") {
        for n in [100usize, 1_000, 10_000, 100_000] {
            w.extend(willshaw_workloads(n));
        }
    }
    if wanted("bcpnn_store") || wanted("bcpnn_retrieve") {
        w.extend(bcpnn_workloads());
    }
    if wanted("eprop_run") {
        // `EPROP_SIZES=300,3000`: other network sizes.
        let sizes: Vec<usize> = std::env::var("EPROP_SIZES")
            .ok()
            .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
            .unwrap_or_else(|| vec![100, 1_000, 10_000]);
        for n_rec in sizes {
            w.push(eprop_workload(n_rec));
        }
    }
    w.retain(|w| wanted(w.kernel));
    w
}

/// Alternate 1- and 2-thread runs of every workload; print the fastest of
/// each, their ratio, the busiest thread's CPU time and the ratio of the
/// CPU times (the speed-up a loaded machine hides: serial parts and
/// imbalance count, waiting for a core does not).
fn thread_ratios() {
    let reps: usize = std::env::var("THREAD_RATIOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let pools = [pool(1), pool(2)];
    let force = std::env::var_os("RATIO_FORCE").is_some();
    print_ratio_header();
    for w in thread_workloads() {
        let mut best = [f64::INFINITY; 2];
        let mut cpu = [f64::INFINITY; 2];
        let mut hash = [None; 2];
        // Short kernels get more repetitions: about 50 ms of each at least.
        let t = Instant::now();
        pools[0].install((w.prepare)())();
        let once = t.elapsed().as_secs_f64() * 1e3;
        let reps = reps.max(((50.0 / once) as usize).min(1000));
        for _ in 0..reps.max(1) {
            for (k, pool) in pools.iter().enumerate() {
                let run = (w.prepare)();
                // `RATIO_FORCE=1`: 2 threads split every loop (calibration).
                let _forced = (k == 1 && force).then(synaplast_core::parallel::force_split);
                let ((ms, hash_of), busiest) = with_busiest_cpu(pool, || {
                    let t = Instant::now();
                    let hash_of = pool.install(run);
                    (t.elapsed().as_secs_f64() * 1e3, hash_of)
                });
                best[k] = best[k].min(ms);
                cpu[k] = cpu[k].min(busiest);
                let h = hash_of();
                assert!(
                    hash[0].is_none_or(|h0| h0 == h),
                    "{} at {}: {k} threads changed the result",
                    w.kernel,
                    w.size
                );
                hash[k] = Some(h);
            }
        }
        print_ratio_row(w.kernel, w.size, best, cpu);
    }
}

/// The hash of every workload's result on 1, 2 and 3 threads.
fn same_bits() {
    let pools = [pool(1), pool(2), pool(3)];
    for w in thread_workloads() {
        let h: Vec<String> = pools
            .iter()
            .map(|p| format!("{:016x}", p.install((w.prepare)())()))
            .collect();
        println!("{} {} {}", w.kernel, w.size, h.join(" "));
    }
}

fn main() {
    if std::env::var_os("SAME_BITS").is_some() {
        same_bits();
        return;
    }
    if std::env::var_os("THREAD_RATIOS").is_some() {
        thread_ratios();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
