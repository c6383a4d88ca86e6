use super::*;
use crate::rng::stream_rng;
use crate::state::Persist;
use crate::test_util::in_pool;
use rand::Rng;

fn cfg(n_in: usize, n_rec: usize, n_out: usize) -> Config {
    Config {
        n_in,
        n_rec,
        n_out,
        tau_m: 20.0,
        v_th: 0.3,
        c_reg: 0.5,
        f_target: 0.01,
        kappa: 0.9,
        kappa_reg: 0.9,
        eta: 1e-2,
        ..Config::default()
    }
}

fn conn(p_in: f64, p_rec: f64, scales: [f64; 4], dale: Option<f64>) -> Connectivity {
    Connectivity {
        p_in,
        p_rec,
        input_scale: scales[0],
        recurrent_scale: scales[1],
        readout_scale: scales[2],
        feedback_scale: scales[3],
        dale,
        symmetric_init: false,
    }
}

fn opts(learn: bool, batch_size: usize, record_y: bool, record_raster: bool) -> RunOptions {
    RunOptions {
        learn,
        batch_size,
        record_y,
        record_raster,
    }
}

fn inputs(
    s: usize,
    t: usize,
    n_in: usize,
    n_out: usize,
    p: f64,
    seed: u64,
) -> (Vec<u8>, Vec<f32>, Vec<f32>) {
    let mut rng = stream_rng(seed, 0);
    let x = (0..s * t * n_in)
        .map(|_| (rng.random::<f64>() < p) as u8)
        .collect();
    let y = (0..s * t * n_out)
        .map(|i| ((i as f32) * 0.05).sin())
        .collect();
    (x, y, vec![1.0; s * t])
}

fn run_with(c: Config, seed: u64, s: usize, t: usize) -> (Vec<f32>, Vec<f32>, Vec<f64>) {
    let mut net =
        Network::random(c.clone(), &conn(0.5, 0.5, [3.0, 1.5, 1.0, 1.0], None), seed).unwrap();
    let (x, y, m) = inputs(s, t, c.n_in, c.n_out, 0.1, seed + 1);
    let b = Batch {
        n_seq: s,
        n_steps: t,
        x: &x,
        target: &y,
        mask: &m,
    };
    let out = net.run(&b, &opts(true, 2, false, false)).unwrap();
    (
        net.synapses().weights().unwrap().to_vec(),
        net.w_out().to_vec(),
        out.loss,
    )
}

fn assert_close(a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len());
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / (1.0 + x.abs()))
        .fold(0.0f32, f32::max);
    assert!(worst <= tol, "relative deviation {worst}");
}

#[test]
fn event_driven_equals_time_driven() {
    for (nest, at_spike, reset, cutoff, adapt, adam) in [
        (false, false, true, usize::MAX, 0.0, false),
        (true, true, false, 7, 0.0, false),
        (false, true, true, 5, 0.5, true),
        (true, false, false, 3, 0.2, false),
        (false, false, false, 1, 0.0, true),
        (true, true, false, 2, 0.0, false),
    ] {
        let mut c = cfg(6, 8, 2);
        c.nest_compatible = nest;
        c.update_at_spike = at_spike;
        c.reset_each_sequence = reset;
        c.cutoff = Some(cutoff);
        c.adapt_beta = adapt;
        if cutoff <= 2 {
            c.c_reg = 0.0;
        }
        if adam {
            c.optimizer = OptimizerKind::Adam;
        }
        let mut ct = c.clone();
        ct.event_driven = false;
        eprintln!("case nest={nest} at_spike={at_spike} reset={reset} cutoff={cutoff} adapt={adapt} adam={adam}");
        let (w_e, o_e, l_e) = run_with(c, 3, 4, 60);
        let (w_t, o_t, l_t) = run_with(ct, 3, 4, 60);
        assert_close(&w_e, &w_t, 1e-5);
        assert_close(&o_e, &o_t, 1e-5);
        for (a, b) in l_e.iter().zip(&l_t) {
            assert!((a - b).abs() <= 1e-4 * (1.0 + a.abs()));
        }
        // learning did something
        let (w0, _, _) = {
            let net = Network::random(cfg(6, 8, 2), &conn(0.5, 0.5, [3.0, 1.5, 1.0, 1.0], None), 3)
                .unwrap();
            (net.synapses().weights().unwrap().to_vec(), 0, 0)
        };
        assert!(w0.iter().zip(&w_e).any(|(a, b)| a != b));
    }
}

#[test]
fn silent_empty_and_zero_length_do_not_panic() {
    let c = cfg(3, 4, 1);
    let mut net = Network::random(c.clone(), &conn(1.0, 1.0, [1.0; 4], None), 1).unwrap();
    for (s, t) in [(0, 5), (3, 0), (2, 4)] {
        let x = vec![0u8; s * t * 3];
        let y = vec![0.0f32; s * t];
        let m = vec![1.0f32; s * t];
        let b = Batch {
            n_seq: s,
            n_steps: t,
            x: &x,
            target: &y,
            mask: &m,
        };
        let out = net.run(&b, &opts(true, 1, true, true)).unwrap();
        assert_eq!(out.loss.len(), s);
    }
    // no inputs at all
    let mut c0 = cfg(0, 2, 1);
    c0.cutoff = Some(2);
    let mut net0 = Network::random(c0, &conn(0.0, 0.0, [1.0; 4], None), 1).unwrap();
    let b = Batch {
        n_seq: 1,
        n_steps: 3,
        x: &[],
        target: &[0.0; 3],
        mask: &[1.0; 3],
    };
    net0.run(&b, &opts(true, 1, false, false)).unwrap();
}

#[test]
fn bad_input_is_an_error() {
    let c = cfg(3, 4, 1);
    let mut net = Network::random(c, &conn(1.0, 1.0, [1.0; 4], None), 1).unwrap();
    let before = net.synapses().weights().unwrap().to_vec();
    let b = Batch {
        n_seq: 1,
        n_steps: 2,
        x: &[0, 2, 0, 0, 0, 0],
        target: &[0.0; 2],
        mask: &[1.0; 2],
    };
    assert!(net.run(&b, &opts(true, 1, false, false)).is_err());
    let b = Batch {
        n_seq: 1,
        n_steps: 2,
        x: &[0; 5],
        target: &[0.0; 2],
        mask: &[1.0; 2],
    };
    assert!(net.run(&b, &opts(true, 1, false, false)).is_err());
    assert_eq!(before, net.synapses().weights().unwrap());
    let mut bad = cfg(3, 4, 1);
    bad.tau_m = -1.0;
    assert!(Network::random(bad, &conn(1.0, 1.0, [1.0; 4], None), 1).is_err());
    assert!(Network::random(cfg(3, 4, 1), &conn(1.5, 1.0, [1.0; 4], None), 1).is_err());
}

#[test]
fn deterministic_across_thread_counts() {
    let c = cfg(20, 40, 2);
    let a = in_pool(1, || run_with(c.clone(), 9, 3, 40));
    let b = in_pool(3, || run_with(c.clone(), 9, 3, 40));
    assert_eq!(a.0, b.0);
    assert_eq!(a.1, b.1);
    assert_eq!(a.2, b.2);
}

/// A network large enough for every parallel path of a step (rows split
/// into runs of synapses, the synaptic input, the neuron update) gives the
/// same weights, losses, counts and energy counters on 1, 2 and 3 threads.
/// (Half a minute unoptimised: run by `cargo test --release`.)
#[test]
#[cfg_attr(debug_assertions, ignore = "8,000 neurons: run with --release")]
fn large_network_is_deterministic_across_thread_counts() {
    // Sparse input: a few heavy rows per step, split into runs; dense
    // input: many rows, and enough events for a split synaptic input.
    for (adam, adapt, rate) in [(false, 0.0, 0.03), (true, 0.2, 0.03), (false, 0.0, 0.3)] {
        let mut c = cfg(100, 8000, 2);
        c.nest_compatible = true;
        c.update_at_spike = true;
        c.reset_each_sequence = false;
        c.cutoff = Some(40);
        c.adapt_beta = adapt;
        if adam {
            c.optimizer = OptimizerKind::Adam;
        }
        let net0 =
            Network::random(c.clone(), &conn(1.0, 0.01, [3.0, 1.5, 1.0, 1.0], None), 5).unwrap();
        let run = || {
            let mut net = net0.clone();
            let (x, y, m) = inputs(1, 45, 100, 2, rate, 6);
            let b = Batch {
                n_seq: 1,
                n_steps: 45,
                x: &x,
                target: &y,
                mask: &m,
            };
            let out = net.run(&b, &opts(true, 1, false, false)).unwrap();
            let bits = |v: &[f32]| v.iter().map(|w| w.to_bits()).collect::<Vec<_>>();
            let (cn, co) = net.counters();
            (
                bits(net.synapses().weights().unwrap()),
                bits(net.w_out()),
                out.loss.iter().map(|l| l.to_bits()).collect::<Vec<_>>(),
                net.stats(),
                (
                    cn.writes,
                    cn.abs_change.to_bits(),
                    co.writes,
                    co.abs_change.to_bits(),
                ),
            )
        };
        let one = in_pool(1, run);
        assert!(
            one.3.spikes > 0 && one.4 .0 > 0,
            "the run must spike and learn"
        );
        for threads in [2, 3] {
            assert!(
                in_pool(threads, run) == one,
                "{threads} threads, case {adam} {rate}"
            );
        }
    }
}

#[test]
fn dale_signs_are_kept() {
    let mut c = cfg(5, 10, 1);
    c.eta = 1.0;
    let mut net = Network::random(c, &conn(0.8, 0.8, [3.0, 2.0, 1.0, 1.0], Some(0.8)), 4).unwrap();
    let (x, y, m) = inputs(3, 50, 5, 1, 0.2, 5);
    let b = Batch {
        n_seq: 3,
        n_steps: 50,
        x: &x,
        target: &y,
        mask: &m,
    };
    net.run(&b, &opts(true, 1, false, false)).unwrap();
    let sign = net.sign().to_vec();
    let ip = net.synapses().indptr().to_vec();
    let w = net.synapses().weights().unwrap();
    for p in 0..sign.len() {
        for s in ip[p]..ip[p + 1] {
            assert!(w[s] * sign[p] as f32 >= 0.0);
        }
    }
}

#[test]
fn state_round_trips_and_rejects_tampering() {
    let mut c = cfg(3, 5, 2);
    c.optimizer = OptimizerKind::Adam;
    let mut net = Network::random(c, &conn(0.8, 0.8, [3.0, 1.0, 1.0, 1.0], Some(0.8)), 2).unwrap();
    let (x, y, m) = inputs(3, 20, 3, 2, 0.2, 5);
    let b = Batch {
        n_seq: 3,
        n_steps: 20,
        x: &x,
        target: &y,
        mask: &m,
    };
    net.run(&b, &opts(true, 2, false, false)).unwrap();
    let bytes = net.to_bytes();
    let back = Network::from_bytes(&bytes).unwrap();
    assert_eq!(back.state(), net.state());
    for cut in [0, 7, bytes.len() / 2, bytes.len() - 1] {
        assert!(Network::from_bytes(&bytes[..cut]).is_err());
    }
    let mut s = net.state();
    s.adam.m1.pop();
    assert!(Network::from_state(s).is_err());
    let mut s = net.state();
    s.sign[0] = 3;
    assert!(Network::from_state(s).is_err());
    let mut s = net.state();
    s.w_out[0] = f32::NAN;
    assert!(Network::from_state(s).is_err());
}

/// Connection probabilities so small that `1 - p` rounds to 1 made the
/// geometric skips -inf and the row loop append synapses forever.
#[test]
fn tiny_connection_probabilities_terminate() {
    for p in [1e-17, 1e-300, f64::MIN_POSITIVE] {
        let net = Network::random(cfg(50, 40, 2), &conn(p, p, [1.0; 4], None), 3).unwrap();
        assert_eq!(net.synapses().nnz(), 0);
    }
}

/// Run the partitions `bounds` of `whole` in lock-step threads that
/// exchange spikes through a shared vector.
fn run_partitions(
    whole: &Network,
    bounds: &[usize],
    batch: &Batch<'_>,
    o: &RunOptions,
) -> Vec<(RunOutput, Network, Vec<usize>)> {
    use std::sync::{Barrier, Mutex};
    let n = bounds.len() - 1;
    let shared = Mutex::new(vec![0u8; whole.config().n_rec]);
    let barrier = Barrier::new(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|r| {
                let (lo, hi) = (bounds[r], bounds[r + 1]);
                let (mut part, map) = whole.partition(lo, hi).unwrap();
                let (shared, barrier) = (&shared, &barrier);
                s.spawn(move || {
                    let out = part
                        .run_exchanging(batch, o, &mut |local, all| {
                            shared.lock().unwrap()[lo..hi].copy_from_slice(local);
                            barrier.wait();
                            all.copy_from_slice(&shared.lock().unwrap());
                            barrier.wait();
                            Ok(())
                        })
                        .unwrap();
                    (out, part, map)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Partitions stepped in lock-step by threads (exchanging spikes through a
/// shared vector) compute exactly what the whole network computes.
#[test]
fn partitions_match_the_whole_network() {
    let c = Config {
        event_driven: true,
        cutoff: Some(25),
        reset_each_sequence: false,
        ..cfg(12, 40, 2)
    };
    let whole = Network::random(c, &conn(0.5, 0.3, [2.0, 1.0, 1.0, 1.0], None), 5).unwrap();
    let (x, y, m) = inputs(2, 60, 12, 2, 0.15, 9);
    let batch = Batch {
        n_seq: 2,
        n_steps: 60,
        x: &x,
        target: &y,
        mask: &m,
    };
    let o = opts(true, 1, false, true);
    let mut reference = whole.clone();
    let expect = reference.run(&batch, &o).unwrap();
    assert!(expect.raster.iter().filter(|&&z| z != 0).count() > 20);
    let results = run_partitions(&whole, &[0, 7, 30, 40], &batch, &o);
    let mut weights = vec![0.0f32; whole.synapses().nnz()];
    for (out, part, map) in &results {
        assert_eq!(out.loss, expect.loss);
        assert_eq!(out.raster, expect.raster);
        assert_eq!(part.w_out(), reference.w_out());
        for (k, &s) in map.iter().enumerate() {
            weights[s] = part.synapses().weights().unwrap()[k];
        }
    }
    assert_eq!(weights, reference.synapses().weights().unwrap());
    assert!(whole.partition(3, 3).is_err());
    assert!(results[0].1.partition(0, 2).is_err());
}

/// A block built on its own is the block of the whole network.
#[test]
fn random_partition_is_the_partition_of_the_random_network() {
    for (p_in, p_rec, dale, n_rec) in [
        (0.5, 0.3, None, 40),
        (1.0, 1.0, Some(0.8), 17),
        (0.05, 0.02, None, 300),
    ] {
        let c = cfg(9, n_rec, 3);
        let k = conn(p_in, p_rec, [2.0, 1.0, 1.0, 1.0], dale);
        let whole = Network::random(c.clone(), &k, 11).unwrap();
        for (lo, hi) in [(0, n_rec), (0, 5), (3, n_rec / 2), (n_rec - 1, n_rec)] {
            let (a, map_a) = whole.partition(lo, hi).unwrap();
            let (b, map_b) = Network::random_partition(c.clone(), &k, 11, lo, hi).unwrap();
            assert_eq!(map_a, map_b);
            assert_eq!(a.state(), b.state());
            assert_eq!(a.neurons(), b.neurons());
        }
        assert!(Network::random_partition(c.clone(), &k, 11, 4, 4).is_err());
        assert!(Network::random_partition(c, &k, 11, 0, n_rec + 1).is_err());
    }
}

/// What partitions learned, absorbed back, is the whole network's state
/// (sums of floating-point energy aside), and it learns on as the whole does.
#[test]
fn absorbed_partitions_equal_the_whole_network() {
    let c = Config {
        optimizer: OptimizerKind::Adam,
        cutoff: Some(20),
        ..cfg(10, 30, 2)
    };
    assert!(c.reset_each_sequence);
    let whole = Network::random(c, &conn(0.5, 0.4, [3.0, 1.5, 1.0, 1.0], None), 4).unwrap();
    let (x, y, m) = inputs(3, 50, 10, 2, 0.15, 2);
    let batch = Batch {
        n_seq: 3,
        n_steps: 50,
        x: &x,
        target: &y,
        mask: &m,
    };
    let o = opts(true, 2, false, false);
    let mut reference = whole.clone();
    reference.run(&batch, &o).unwrap();
    let results = run_partitions(&whole, &[0, 11, 30], &batch, &o);
    let parts: Vec<_> = results
        .iter()
        .map(|(_, p, map)| (p.state(), map.clone()))
        .collect();
    let mut merged = whole.clone();
    merged.absorb(&results[0].1, &parts).unwrap();
    let (got, want) = (merged.state(), reference.state());
    assert_eq!(got.synapses.weights, want.synapses.weights);
    assert_eq!(got.w_out, want.w_out);
    assert_eq!(got.adam, want.adam);
    assert_eq!(got.stats, want.stats);
    assert_eq!(got.readout_counters, want.readout_counters);
    assert_eq!(merged.memory_bytes(), reference.memory_bytes());
    let (gc, wc) = (got.synapses.counters, want.synapses.counters);
    assert_eq!(gc.writes, wc.writes);
    assert!((gc.abs_change - wc.abs_change).abs() <= 1e-9 * wc.abs_change);
    // learning on from the absorbed network (at rest) and from the live one
    let again = (
        merged.run(&batch, &o).unwrap(),
        reference.run(&batch, &o).unwrap(),
    );
    assert_eq!(again.0.loss, again.1.loss);
    assert_eq!(merged.synapses().weights(), reference.synapses().weights());
    // bad partition sets leave the network as it was
    let before = merged.state();
    let local = &results[1].1;
    assert!(merged.absorb(local, &[]).is_err());
    assert!(merged.absorb(local, &parts[..1]).is_err());
    assert!(merged
        .absorb(local, &[parts[0].clone(), parts[0].clone()])
        .is_err());
    let mut shifted = parts.clone();
    shifted[1].1[0] = parts[0].1[0];
    assert!(merged.absorb(local, &shifted).is_err());
    let mut other = parts.clone();
    other[1].0.w_out[0] += 1.0;
    assert!(merged.absorb(local, &other).is_err());
    // rows that do not start at entry 0 (tampered bytes): an error, no
    // unchecked synapse written
    let mut offset = parts.clone();
    offset[1].0.synapses.indptr[0] = 1;
    offset[1].1[0] = usize::MAX; // would have been written unchecked
    assert!(merged.absorb(local, &offset).is_err());
    assert_eq!(merged.state(), before);
    assert!(results[0].1.clone().absorb(local, &parts).is_err());
}

/// Partitions that predict (no learning) change only counts: absorbing the
/// counts they took gives the whole network's after the same prediction.
#[test]
fn absorbed_prediction_counts_equal_the_whole_network() {
    let c = Config {
        cutoff: Some(20),
        ..cfg(10, 30, 2)
    };
    let mut whole = Network::random(c, &conn(0.5, 0.4, [3.0, 1.5, 1.0, 1.0], None), 4).unwrap();
    let (x, y, m) = inputs(3, 50, 10, 2, 0.15, 2);
    let batch = Batch {
        n_seq: 3,
        n_steps: 50,
        x: &x,
        target: &y,
        mask: &m,
    };
    whole.run(&batch, &opts(true, 2, false, false)).unwrap();
    let o = opts(false, 1, true, false);
    let mut reference = whole.clone();
    let expect = reference.run(&batch, &o).unwrap();
    let mut results = run_partitions(&whole, &[0, 11, 30], &batch, &o);
    let taken: Vec<Stats> = results.iter_mut().map(|(_, p, _)| p.take_stats()).collect();
    assert!(taken.iter().all(|t| t.steps == 150) && taken.iter().any(|t| t.spikes > 0));
    assert!(results
        .iter()
        .all(|(_, p, _)| p.stats() == Stats::default()));
    let mut merged = whole.clone();
    merged.absorb_stats(&taken).unwrap();
    assert_eq!(merged.stats(), reference.stats());
    assert_ne!(merged.stats(), whole.stats());
    for (out, _, _) in &results {
        assert_eq!(out.y, expect.y);
    }
    // no counts, unequal steps, or a partition absorbing: errors, nothing changed
    let before = merged.stats();
    assert!(merged.absorb_stats(&[]).is_err());
    let mut uneven = taken.clone();
    uneven[1].steps += 1;
    assert!(merged.absorb_stats(&uneven).is_err());
    assert_eq!(merged.stats(), before);
    assert!(results[0].1.absorb_stats(&taken).is_err());
}

#[test]
fn entry_major_archive_mirrors_the_rings() {
    // Long sequences with a low input rate: trace windows outgrow the ring,
    // which widens; the entry-major copies must follow every write.
    let c = cfg(20, 40, 2);
    let mut net =
        Network::random(c.clone(), &conn(1.0, 1.0, [3.0, 1.5, 1.0, 1.0], None), 4).unwrap();
    let (s, t) = (2, 300);
    let (x, y, m) = inputs(s, t, c.n_in, c.n_out, 0.02, 5);
    let b = Batch {
        n_seq: s,
        n_steps: t,
        x: &x,
        target: &y,
        mask: &m,
    };
    net.run(&b, &opts(true, 1, false, false)).unwrap();
    let a = &net.archive;
    let (w, n) = (a.width, a.n_rec());
    assert!(w > 4, "the ring should have widened (width {w})");
    for (ring, t) in [(&a.psi, &a.psi_t), (&a.lsig, &a.lsig_t), (&a.reg, &a.reg_t)] {
        for i in 0..n {
            for sl in 0..w {
                assert_eq!(ring[i * w + sl].to_bits(), t[sl * n + i].to_bits());
            }
        }
    }
}
