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
    let cfg = Config {
        sizes: vec![784, 100, 10],
        activation: Activation::LeakyRelu,
        leaky_slope: 0.1,
        output: OutputKind::LinearMse,
        learning_rate: 0.01,
        init_std: 0.03,
        fractions: vec![1.0, 1.0],
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
    if std::env::var("ONLY_TRAIN").is_ok() {
        for _ in 0..5 {
            mk().train(&spec(36_000, false)).expect("train");
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
