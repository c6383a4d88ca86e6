//! Time the parts of the reference competitive-plasticity run (784-100-10,
//! plain online backprop, test every 2,000 samples until 95%).
//!
//! Data: raw little-endian files written by
//! `python -c "import sys; sys.path.insert(0, 'benches'); from suites.energy import dump_mnist; dump_mnist(DIR)"`;
//! run `cargo run --release --example competitive_speed -- DIR`.
use std::time::Instant;
use synaplast_core::competitive::{
    Activation, Config, Mlp, OutputKind, PathMode, Sampling, Schedule, Selection, TrainSpec,
};

fn read_f32(path: &str) -> Vec<f32> {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn read_u32(path: &str) -> Vec<u32> {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    b.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// User plus system CPU time of this process in seconds (Linux; 10 ms
/// resolution), NaN elsewhere.
fn process_cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime is the
    // 12th, stime the 13th, in clock ticks of 1/100 s.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    if f.len() == 2 {
        (f[0] + f[1]) / 100.0
    } else {
        f64::NAN
    }
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "/tmp".into());
    let (xtr, ytr) = (
        read_f32(&format!("{dir}/xtr.f32")),
        read_u32(&format!("{dir}/ytr.u32")),
    );
    let (xte, yte) = (
        read_f32(&format!("{dir}/xte.f32")),
        read_u32(&format!("{dir}/yte.u32")),
    );
    // HIDDEN and FRACTION (top fraction of the hidden layer; the output
    // layer's is min(78.4 p, 1)) select other settings than the reference.
    let env = |k: &str, d: f64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let (hidden, p) = (env("HIDDEN", 100.0) as usize, env("FRACTION", 1.0));
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
    let mk = || Mlp::new(cfg.clone(), 0).expect("valid config");
    let spec = |n: u64, eval: bool| TrainSpec {
        x: &xtr,
        y: &ytr,
        eval: if eval {
            Some((&xte[..], &yte[..]))
        } else {
            None
        },
        schedule: Schedule {
            sampling: Sampling::Replacement,
            max_samples: n,
            eval_every: 2000,
            target_accuracy: if eval { Some(0.95) } else { None },
            seed: 0,
        },
    };
    if std::env::var("ONLY_FORWARD").is_ok() {
        let net = mk();
        for _ in 0..50 {
            net.forward(&xte).expect("forward");
        }
        return;
    }
    if std::env::var("FINGERPRINT").is_ok() {
        // Bits of the weights and energy counters after 3,000 samples, for
        // comparing builds and thread counts.
        for selection in [Selection::Layer, Selection::Neuron] {
            let mut net = Mlp::new(
                Config {
                    selection,
                    ..cfg.clone()
                },
                0,
            )
            .expect("valid config");
            net.train(&spec(3_000, false)).expect("train");
            let mut h = std::hash::DefaultHasher::new();
            for layer in net.layers() {
                std::hash::Hash::hash(
                    &layer.w.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    &mut h,
                );
                std::hash::Hash::hash(
                    &(layer.energy.writes, layer.energy.abs_change.to_bits()),
                    &mut h,
                );
            }
            let e: Vec<_> = net
                .layers()
                .iter()
                .map(|l| (l.energy.writes, l.energy.abs_change))
                .collect();
            println!("{selection:?} {:016x} {e:?}", std::hash::Hasher::finish(&h));
        }
        return;
    }
    if std::env::var("ONLY_TRAIN").is_ok() {
        // Wall and CPU time of the process (on a loaded machine the CPU
        // time of one thread is the steadier measure).
        for _ in 0..5 {
            let (t, c) = (Instant::now(), process_cpu_s());
            mk().train(&spec(20_000, false)).expect("train");
            println!(
                "{:.2} µs/sample, CPU {:.2} µs/sample",
                t.elapsed().as_secs_f64() / 20_000.0 * 1e6,
                (process_cpu_s() - c) / 20_000.0 * 1e6
            );
        }
        return;
    }
    // Minimum over repetitions: the machine may be shared.
    let best = |reps: usize, f: &mut dyn FnMut()| {
        (0..reps)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let mut out = None;
    let full = best(3, &mut || {
        let mut net = mk();
        out = Some(net.train(&spec(300_000, true)).expect("train"));
    });
    let out = out.expect("ran");
    let n = out.samples;
    let train = best(3, &mut || {
        mk().train(&spec(n, false)).expect("train");
    });
    let net = mk();
    let eval = best(10, &mut || {
        net.accuracy(&xte, &yte).expect("accuracy");
    });
    let fwd = best(10, &mut || {
        net.forward(&xte).expect("forward");
    });
    println!("forward alone {:.1} ms", fwd * 1e3);
    println!(
        "threads {}: full run {full:.3} s ({n} samples, {} evaluations, reached {}); \
         training alone {train:.3} s = {:.1} µs/sample; one evaluation {:.1} ms (minimum of repetitions)",
        rayon::current_num_threads(),
        out.history.len(),
        out.reached,
        train / n as f64 * 1e6,
        eval * 1e3
    );
}
