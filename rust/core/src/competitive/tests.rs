use super::*;
use crate::error::Error;
use crate::rng::stream_rng;
use crate::state::Persist;
use crate::test_util::in_pool;
use rand::Rng;

fn cfg(sizes: &[usize]) -> Config {
    Config {
        sizes: sizes.to_vec(),
        activation: Activation::LeakyRelu,
        leaky_slope: 0.1,
        output: OutputKind::LinearMse,
        learning_rate: 0.05,
        init_std: 0.1,
        fractions: vec![1.0; sizes.len() - 1],
        selection: Selection::Layer,
        plastic_units: None,
        path_mode: PathMode::Fixed,
        caching: None,
        batch_size: 1,
        error_clip: f32::INFINITY,
    }
}

fn data(n: usize, d: usize, classes: u32, seed: u64) -> (Vec<f32>, Vec<u32>) {
    let mut rng = stream_rng(seed, 0);
    let x: Vec<f32> = (0..n * d).map(|_| rng.random::<f32>() - 0.5).collect();
    let y: Vec<u32> = (0..n).map(|_| rng.random_range(0..classes)).collect();
    (x, y)
}

fn spec<'a>(x: &'a [f32], y: &'a [u32], n: u64) -> TrainSpec<'a> {
    TrainSpec {
        x,
        y,
        eval: None,
        schedule: Schedule {
            sampling: Sampling::Replacement,
            max_samples: n,
            eval_every: 2000,
            target_accuracy: None,
            seed: 7,
        },
    }
}

#[test]
fn bad_configurations_are_errors() {
    let mut c = cfg(&[4, 3, 2]);
    c.fractions = vec![0.0, 1.0];
    assert!(matches!(Mlp::new(c, 0), Err(Error::Value(_))));
    let mut c = cfg(&[4, 3, 2]);
    c.plastic_units = Some(4);
    assert!(matches!(Mlp::new(c, 0), Err(Error::Value(_))));
    assert!(Mlp::new(cfg(&[4, 2]), 0).is_err());
    let mut c = cfg(&[4, 3, 2]);
    c.learning_rate = f32::NAN;
    assert!(Mlp::new(c, 0).is_err());
    let mut c = cfg(&[4, 3, 2]);
    c.batch_size = 0;
    assert!(Mlp::new(c, 0).is_err());
}

#[test]
fn bad_data_leaves_the_network_unchanged() {
    let mut m = Mlp::new(cfg(&[4, 3, 2]), 1).unwrap();
    let before = m.clone();
    let (x, mut y) = data(10, 4, 2, 0);
    y[3] = 5;
    assert!(matches!(m.train(&spec(&x, &y, 10)), Err(Error::Index(_))));
    let (mut x, y) = data(10, 4, 2, 0);
    x[0] = f32::NAN;
    assert!(m.train(&spec(&x, &y, 10)).is_err());
    assert!(m.train(&spec(&x[..7], &y, 10)).is_err());
    assert_eq!(m, before);
}

#[test]
fn divergence_is_an_error_not_a_panic() {
    let mut c = cfg(&[4, 8, 2]);
    c.learning_rate = 1e30;
    c.init_std = 1.0;
    let mut m = Mlp::new(c, 1).unwrap();
    let before = m.clone();
    let (x, y) = data(20, 4, 2, 0);
    let r = m.train(&spec(&x, &y, 200));
    assert!(matches!(r, Err(Error::Value(_))));
    assert_eq!(m, before);
}

#[test]
fn plain_counts_every_weight_each_sample() {
    let mut m = Mlp::new(cfg(&[5, 4, 3]), 2).unwrap();
    let (x, y) = data(30, 5, 3, 1);
    m.train(&spec(&x, &y, 17)).unwrap();
    let writes: u64 = m.layers().iter().map(|l| l.energy.writes).sum();
    // every input non-zero, leaky ReLU: all (5+1)*4 + (4+1)*3 weights each sample
    assert_eq!(writes, 17 * (24 + 15));
    let me = m.minimal_energy();
    assert_eq!(me[0].writes + me[1].writes, 39);
}

#[test]
fn top_fraction_writes_about_p_of_each_layer() {
    let mut c = cfg(&[20, 10, 4]);
    c.fractions = vec![0.1, 0.25];
    let mut m = Mlp::new(c, 3).unwrap();
    let (x, y) = data(50, 20, 4, 2);
    m.train(&spec(&x, &y, 40)).unwrap();
    // kept = n - round((1-p)(n-1)): 210 - 188 = 22; 44 - 32 = 12
    assert_eq!(m.layers()[0].energy.writes, 40 * 22);
    assert_eq!(m.layers()[1].energy.writes, 40 * 12);
}

#[test]
fn fixed_path_touches_only_its_units() {
    let mut c = cfg(&[6, 10, 3]);
    c.plastic_units = Some(3);
    let mut m = Mlp::new(c, 4).unwrap();
    let init: Vec<Vec<f32>> = m.layers().iter().map(|l| l.w.clone()).collect();
    let (x, y) = data(40, 6, 3, 3);
    m.train(&spec(&x, &y, 25)).unwrap();
    let path = m.paths()[0].clone();
    assert_eq!(path.iter().filter(|&&b| b).count(), 3);
    let (l0, l1) = (&m.layers()[0], &m.layers()[1]);
    for j in 0..10 {
        let changed = (0..7).any(|i| l0.w[j * 7 + i] != init[0][j * 7 + i]);
        assert_eq!(changed, path[j], "hidden unit {j}");
    }
    for k in 0..3 {
        for j in 0..10 {
            assert_eq!(l1.w[k * 11 + j] != init[1][k * 11 + j], path[j]);
        }
        assert_ne!(
            l1.w[k * 11 + 10],
            init[1][k * 11 + 10],
            "output bias is plastic"
        );
    }
    assert_eq!(l0.energy.writes, 25 * 3 * 7);
    assert_eq!(l1.energy.writes, 25 * 3 * 4);
}

#[test]
fn caching_consolidates_and_keeps_w_equal_l_plus_s() {
    let mut c = cfg(&[6, 5, 3]);
    c.caching = Some(Caching {
        decay: 0.99,
        maintenance_cost: 0.01,
        threshold: 0.05,
    });
    let mut m = Mlp::new(c, 5).unwrap();
    let (x, y) = data(40, 6, 3, 4);
    m.train(&spec(&x, &y, 60)).unwrap();
    for l in m.layers() {
        for i in 0..l.w.len() {
            assert_eq!(l.w[i], l.long[i] + l.short[i]);
        }
        assert!(l.energy.maintenance_energy > 0.0);
    }
    assert!(m.layers().iter().any(|l| l.energy.consolidations > 0));
    m.consolidate_all();
    for l in m.layers() {
        assert!(l.short.iter().all(|&s| s == 0.0));
        assert_eq!(l.w, l.long);
    }
}

#[test]
fn results_do_not_depend_on_threads() {
    // A hidden layer of over twice SPLIT weights takes the row-parallel path.
    let mut c = cfg(&[300, 500, 10]);
    c.fractions = vec![0.05, 0.3];
    c.learning_rate = 0.01;
    c.init_std = 0.03;
    let (x, y) = data(30, 300, 10, 5);
    let run = |threads: usize, c: Config| {
        in_pool(threads, || {
            let mut m = Mlp::new(c, 9).unwrap();
            let mut s = spec(&x, &y, 12);
            s.eval = Some((&x, &y));
            s.schedule.eval_every = 4;
            let out = m.train(&s).unwrap();
            (m.layers().to_vec(), out)
        })
    };
    assert_eq!(run(1, c.clone()), run(3, c.clone()));
    let mut c2 = c.clone();
    c2.selection = Selection::Neuron;
    c2.batch_size = 3;
    assert_eq!(run(1, c2.clone()), run(2, c2));
}

#[test]
fn target_accuracy_stops_training() {
    let (x, _) = data(200, 8, 2, 6);
    // Learnable labels: sign of the first feature.
    let y: Vec<u32> = (0..200).map(|i| (x[i * 8] > 0.0) as u32).collect();
    let mut c = cfg(&[8, 16, 2]);
    c.learning_rate = 0.05;
    let mut m = Mlp::new(c, 1).unwrap();
    let mut s = spec(&x, &y, 100_000);
    s.eval = Some((&x, &y));
    s.schedule.eval_every = 50;
    s.schedule.target_accuracy = Some(0.9);
    let out = m.train(&s).unwrap();
    assert!(out.reached);
    assert!(out.samples < 100_000);
    assert!(out.history.last().unwrap().accuracy >= 0.9);
    assert_eq!(out.samples % 50, 0);
}

#[test]
fn speculative_evaluation_gives_the_sequential_outcome() {
    // With two threads a checkpoint is evaluated on a snapshot while
    // training goes on; stopping must roll back to exactly the snapshot.
    let (x, _) = data(300, 8, 2, 6);
    let y: Vec<u32> = (0..300).map(|i| (x[i * 8] > 0.0) as u32).collect();
    let mut c = cfg(&[8, 16, 2]);
    c.learning_rate = 0.05;
    for (target, max) in [(0.9, 100_000u64), (1.0, 530), (0.9, 50)] {
        let run = |threads: usize| {
            in_pool(threads, || {
                let mut m = Mlp::new(c.clone(), 1).unwrap();
                let mut s = spec(&x, &y, max);
                s.eval = Some((&x, &y));
                s.schedule.eval_every = 50;
                s.schedule.target_accuracy = Some(target);
                let out = m.train(&s).unwrap();
                let again = m.train(&s).unwrap();
                (m, out, again)
            })
        };
        let (seq, par) = (run(1), run(2));
        assert_eq!(seq.1, par.1, "target {target}");
        assert_eq!(seq.2, par.2, "target {target}");
        assert_eq!(seq.0.layers(), par.0.layers());
        assert_eq!(seq.0.samples_seen(), par.0.samples_seen());
        assert_eq!(seq.0, par.0);
    }
}

#[test]
fn forward_matches_a_scalar_loop() {
    let m = Mlp::new(cfg(&[7, 5, 3]), 8).unwrap();
    let (x, _) = data(9, 7, 3, 7);
    let out = m.forward(&x).unwrap();
    for s in 0..9 {
        let xs = &x[s * 7..(s + 1) * 7];
        let l0 = &m.layers()[0];
        let h: Vec<f32> = (0..5)
            .map(|j| {
                let z: f32 = (0..7).map(|i| l0.w[j * 8 + i] * xs[i]).sum::<f32>() + l0.w[j * 8 + 7];
                if z > 0.0 {
                    z
                } else {
                    0.1 * z
                }
            })
            .collect();
        let l1 = &m.layers()[1];
        for k in 0..3 {
            let z: f32 = (0..5).map(|j| l1.w[k * 6 + j] * h[j]).sum::<f32>() + l1.w[k * 6 + 5];
            assert!((z - out[s * 3 + k]).abs() < 1e-5);
        }
    }
}

#[test]
fn chunked_training_equals_one_call() {
    for sampling in [Sampling::Replacement, Sampling::Shuffle] {
        let (x, y) = data(23, 6, 3, 9);
        let mut c = cfg(&[6, 7, 3]);
        c.fractions = vec![0.3, 1.0];
        let mut a = Mlp::new(c.clone(), 2).unwrap();
        let mut s = spec(&x, &y, 60);
        s.schedule.sampling = sampling;
        a.train(&s).unwrap();
        let mut b = Mlp::new(c, 2).unwrap();
        for n in [13, 30, 17] {
            s.schedule.max_samples = n;
            b.train(&s).unwrap();
        }
        assert_eq!(a.layers(), b.layers());
        assert_eq!(a.samples_seen(), 60);
    }
}

#[test]
fn fused_update_and_forward_equal_separate_steps() {
    // In one call the first-layer update is fused with the next sample's
    // product (two rows at a time, the odd last row alone, row-parallel for
    // large layers); one sample per call never fuses. Both must agree bit
    // for bit, including the energy counters.
    for sizes in [vec![9usize, 7, 3], vec![300, 501, 4]] {
        let (x, y) = data(40, sizes[0], sizes[2] as u32, 3);
        let mut c = cfg(&sizes);
        c.learning_rate = 0.005;
        c.init_std = 0.03;
        let mut fused = Mlp::new(c.clone(), 4).unwrap();
        fused.train(&spec(&x, &y, 25)).unwrap();
        let mut stepped = Mlp::new(c, 4).unwrap();
        for _ in 0..25 {
            stepped.train(&spec(&x, &y, 1)).unwrap();
        }
        assert_eq!(fused.layers(), stepped.layers(), "sizes {sizes:?}");
    }
}

#[test]
fn state_round_trips_and_rejects_tampering() {
    let (x, y) = data(60, 5, 3, 2);
    let mut c = cfg(&[5, 6, 3]);
    c.caching = Some(Caching {
        decay: 0.9,
        maintenance_cost: 0.01,
        threshold: 0.05,
    });
    c.plastic_units = Some(3);
    let mut m = Mlp::new(c, 4).unwrap();
    m.train(&spec(&x, &y, 40)).unwrap();
    let bytes = m.to_bytes();
    let back = Mlp::from_bytes(&bytes).unwrap();
    assert_eq!(back.state(), m.state());
    for cut in [0, 5, bytes.len() / 2, bytes.len() - 1] {
        assert!(Mlp::from_bytes(&bytes[..cut]).is_err());
    }
    let mut s = m.state();
    s.layers[0].weights.pop();
    assert!(Mlp::from_state(s).is_err());
    let mut s = m.state();
    s.paths[0] = vec![true; 6];
    assert!(Mlp::from_state(s).is_err());
    let mut s = m.state();
    s.config.sizes = vec![5, 100_000, 100_000, 3];
    assert!(Mlp::from_state(s).is_err());
}

#[test]
fn large_networks_copy_and_check_their_input_alike_with_any_thread_count() {
    // Layers over twice the split size: copied and checked in parallel
    // inside a pool, serially elsewhere; the same either way.
    let mut c = cfg(&[784, 200, 10]);
    c.caching = Some(Caching {
        decay: 0.9,
        maintenance_cost: 0.01,
        threshold: 0.5,
    });
    let m = Mlp::new(c, 3).unwrap();
    assert_eq!(m.clone(), m);
    assert_eq!(in_pool(2, || m.clone()), m);
    let (mut x, y) = data(200, 784, 10, 4);
    for threads in [1, 2] {
        let mut a = m.clone();
        in_pool(threads, || a.train(&spec(&x, &y, 5))).unwrap();
        assert_ne!(a, m);
    }
    x[150 * 784 + 3] = f32::NAN;
    let mut a = m.clone();
    let err = in_pool(2, || a.train(&spec(&x, &y, 5))).unwrap_err();
    assert!(matches!(err, Error::Value(_)), "{err:?}");
    assert_eq!(a, m);
}
