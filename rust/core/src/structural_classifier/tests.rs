use super::readout::Carry;
use super::*;
use crate::state::Persist;
use crate::test_util::in_pool;
use rand::Rng;

fn data(n: usize, d: usize, seed: u64) -> Vec<f32> {
    let mut rng = stream_rng(seed, 0);
    (0..n * d)
        .map(|_| {
            if rng.random::<f32>() < 0.5 {
                rng.random::<f32>()
            } else {
                0.0
            }
        })
        .collect()
}

/// Activities as the readout's code stores them (bfloat16): the dense
/// references below take these as their inputs.
fn stored(h: &[f32]) -> Vec<f32> {
    use crate::math::bf16::{from_bf16, to_bf16};
    h.iter().map(|&v| from_bf16(to_bf16(v))).collect()
}

fn new_net(
    n_in: usize,
    n_hidden: usize,
    n_classes: usize,
    init_per_unit: usize,
    low: f32,
    high: f32,
    seed: u64,
) -> Result<StructuralNet> {
    let cfg = Config {
        n_in,
        n_hidden,
        n_classes,
        init_per_unit,
        init_weights: (low, high),
        direct: false,
    };
    StructuralNet::new(&cfg, seed)
}

/// Prune to `max_per_unit`, then grow `n_grow` per unit (one epoch boundary).
fn prune_and_grow(net: &mut StructuralNet, silent: f32, max_per_unit: usize, grow: Growing) {
    net.prune(&Pruning {
        silent_threshold: silent,
        max_per_unit,
    })
    .unwrap();
    net.grow(&grow).unwrap();
}

fn growing(n_grow: usize, growth: Growth, low: f32, high: f32, seed: u64) -> Growing {
    Growing {
        n_grow,
        growth,
        init_weights: (low, high),
        seed,
    }
}

fn params() -> HiddenParams {
    HiddenParams {
        n_winners: 2,
        learning_rate: 0.1,
        homeostasis_rate: 0.05,
        competition_rate: 0.2,
        target_activity: 0.3,
        w_max: 1.0,
        w_consolidate: None,
        inhibition_rate: 0.0,
        weight_dependence: WeightDependence::Additive,
    }
}

#[test]
fn hidden_step_matches_dense_reference() {
    let (n, d, nh) = (7, 9, 5);
    let x = data(n, d, 1);
    let mut net = new_net(d, nh, 3, 6, 0.01, 0.5, 3).unwrap();
    net.theta = vec![0.1, 0.0, 0.3, 0.2, 0.05];
    net.beta = vec![0.0, 0.2, -0.1, 0.0, 0.3];
    let w0 = net.hidden.to_dense().unwrap();
    let mask: Vec<bool> = w0.iter().map(|&w| w != 0.0).collect();
    let p = params();
    // dense reference
    let mut u = vec![0.0f32; n * nh];
    for b in 0..n {
        for i in 0..nh {
            u[b * nh + i] =
                (0..d).map(|j| w0[i * d + j] * x[b * d + j]).sum::<f32>() - net.theta[i];
        }
    }
    let mut y = vec![0.0f32; n * nh];
    for b in 0..n {
        let mut idx: Vec<usize> = (0..nh).collect();
        let norm = |i: usize| {
            (0..d)
                .map(|j| w0[i * d + j].powi(2))
                .sum::<f32>()
                .sqrt()
                .max(1e-6)
        };
        let raw = |i: usize| (0..d).map(|j| w0[i * d + j] * x[b * d + j]).sum::<f32>();
        let sc = |i: usize| raw(i) / norm(i) - net.beta[i];
        idx.sort_by(|&a, &c| sc(c).total_cmp(&sc(a)).then(a.cmp(&c)));
        for &i in &idx[..p.n_winners] {
            y[b * nh + i] = 1.0;
        }
    }
    let mut w_ref = w0.clone();
    for i in 0..nh {
        let c: f32 = (0..n).map(|b| y[b * nh + i]).sum();
        for j in 0..d {
            if mask[i * d + j] {
                let s: f32 = (0..n).map(|b| y[b * nh + i] * x[b * d + j]).sum();
                w_ref[i * d + j] =
                    (w0[i * d + j] + p.learning_rate * (s - c * w0[i * d + j])).clamp(0.0, 1.0);
            }
        }
    }
    let theta_ref: Vec<f32> = (0..nh)
        .map(|i| {
            let a = (0..n).filter(|&b| u[b * nh + i] > 0.0).count() as f32 / n as f32;
            net.theta[i] + p.homeostasis_rate * (a - p.target_activity)
        })
        .collect();
    let beta_ref: Vec<f32> = (0..nh)
        .map(|i| {
            let w = (0..n).filter(|&b| y[b * nh + i] > 0.0).count() as f32 / n as f32;
            net.beta[i] + p.competition_rate * (w - p.n_winners as f32 / nh as f32)
        })
        .collect();
    net.hidden_step(&x, n, &p, true).unwrap();
    for (a, b) in net.beta.iter().zip(&beta_ref) {
        assert!((a - b).abs() < 1e-6);
    }
    let w1 = net.hidden.to_dense().unwrap();
    for (a, b) in w1.iter().zip(&w_ref) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    for (a, b) in net.theta.iter().zip(&theta_ref) {
        assert!((a - b).abs() < 1e-6);
    }
    assert!(w1.iter().all(|&w| w >= 0.0));
    net.hidden.check_invariants().unwrap();
}

#[test]
fn prune_and_grow_keep_budget_and_invariants() {
    let (n, d, nh) = (20, 30, 4);
    let x = data(n, d, 2);
    let mut net = new_net(d, nh, 2, 20, 0.0, 0.2, 5).unwrap();
    let order: Vec<u32> = (0..n as u32).collect();
    net.hidden_epoch(&x, n, &order, 5, &params(), true).unwrap();
    for growth in [Growth::Random, Growth::Coactivity] {
        net.hidden_epoch(&x, n, &order, 5, &params(), true).unwrap();
        prune_and_grow(&mut net, 0.05, 6, growing(3, growth, 0.01, 0.02, 9));
        net.hidden.check_invariants().unwrap();
        assert!(net.hidden.row_counts().iter().all(|&c| c <= 9));
        assert!(net.hidden.weights().unwrap().iter().all(|&w| w >= 0.0));
    }
    net.prune(&Pruning {
        silent_threshold: 0.0,
        max_per_unit: 6,
    })
    .unwrap();
    assert!(net.hidden.row_counts().iter().all(|&c| c <= 6));
}

#[test]
fn deterministic_across_threads() {
    let (n, d, nh) = (64, 20, 12);
    let x = data(n, d, 4);
    let labels: Vec<u32> = (0..n as u32).map(|i| i % 3).collect();
    let run = |threads: usize| {
        in_pool(threads, || {
            let mut net = new_net(d, nh, 3, 10, 0.01, 0.1, 7).unwrap();
            let order: Vec<u32> = (0..n as u32).rev().collect();
            for e in 0..3 {
                net.hidden_epoch(&x, n, &order, 16, &params(), true)
                    .unwrap();
                prune_and_grow(
                    &mut net,
                    0.01,
                    8,
                    growing(2, Growth::Coactivity, 0.01, 0.05, e),
                );
            }
            let step = ReadoutStep {
                rate: 0.5,
                batch_size: 16,
                l2: 1e-4,
            };
            net.readout_epoch(&x, &labels, n, &order, &step).unwrap();
            net
        })
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn readout_step_is_softmax_gradient() {
    let mut net = new_net(4, 3, 2, 2, 0.0, 0.1, 1).unwrap();
    net.set_readout(&[0.1, -0.2, 0.3, 0.0, 0.5, -0.1]).unwrap();
    let h = stored(&[0.5, 0.0, 0.2, 0.1, 0.9, 0.0]);
    let labels = vec![1u32, 0];
    let v0 = net.readout();
    let z = net.logits_from_hidden(&h, 2).unwrap();
    let code = SparseCode::from_dense(&h, 2, 3).unwrap();
    assert_eq!(code.nnz(), 4);
    assert_eq!(code.to_dense(), h);
    let (rate, l2) = (0.2, 0.05);
    net.readout_step_code(&code, &labels, &[0, 1], rate, l2);
    let v1 = net.readout();
    for k in 0..2 {
        for j in 0..3 {
            let mut g = 0.0;
            for b in 0..2 {
                let mut p = z[b * 2..b * 2 + 2].to_vec();
                crate::math::softmax(&mut p);
                let t = if labels[b] as usize == k { 1.0 } else { 0.0 };
                g += (t - p[k]) * h[b * 3 + j];
            }
            let expect = (1.0 - rate * l2) * v0[k * 3 + j] + rate / 2.0 * g;
            assert!((v1[k * 3 + j] - expect).abs() < 1e-6);
        }
    }
    // logits over the sparse code equal the dense product
    for b in 0..2 {
        for k in 0..2 {
            let dense: f32 = (0..3).map(|j| h[b * 3 + j] * v0[k * 3 + j]).sum();
            assert!((z[b * 2 + k] - dense).abs() < 1e-6);
        }
    }
}

/// A readout wider than one page of 16-bit unit indices learns and
/// predicts as the dense product says, units on both sides of every page
/// boundary included.
#[test]
fn readout_wider_than_a_page_is_the_dense_product() {
    let nh = 2 * code::PAGE + 300;
    let mut net = new_net(3, nh, 2, 1, 0.0, 0.1, 1).unwrap();
    let v0: Vec<f32> = (0..2 * nh)
        .map(|i| ((i % 97) as f32 * 0.37).sin())
        .collect();
    net.set_readout(&v0).unwrap();
    let mut h = vec![0.0f32; 2 * nh];
    let active = [3, code::PAGE - 1, code::PAGE, 2 * code::PAGE + 299];
    for (k, &j) in active.iter().enumerate() {
        h[j] = stored(&[0.3 + 0.1 * k as f32])[0];
        h[nh + active[active.len() - 1 - k]] = stored(&[0.9 - 0.2 * k as f32])[0];
    }
    let z = net.logits_from_hidden(&h, 2).unwrap();
    for b in 0..2 {
        for k in 0..2 {
            let dense: f32 = (0..nh).map(|j| h[b * nh + j] * v0[k * nh + j]).sum();
            assert!((z[b * 2 + k] - dense).abs() < 1e-5, "logit {b} {k}");
        }
    }
    let code = SparseCode::from_dense(&h, 2, nh).unwrap();
    assert_eq!(code.to_dense(), h);
    let labels = [1u32, 0];
    net.readout_step_code(&code, &labels, &[0, 1], 0.5, 0.0);
    let v1 = net.readout();
    for k in 0..2 {
        for &j in &active {
            let mut g = 0.0;
            for b in 0..2 {
                let mut p = z[b * 2..b * 2 + 2].to_vec();
                crate::math::softmax(&mut p);
                let t = if labels[b] as usize == k { 1.0 } else { 0.0 };
                g += (t - p[k]) * h[b * nh + j];
            }
            let want = v0[k * nh + j] + 0.5 / 2.0 * g;
            assert!((v1[k * nh + j] - want).abs() < 1e-6, "weight {k} {j}");
        }
    }
    // units no sample activates keep their weights
    assert_eq!(v1[5], v0[5]);
    assert_eq!(v1[nh + code::PAGE + 1], v0[nh + code::PAGE + 1]);
}

#[test]
fn readout_fit_stops_when_the_loss_stalls_and_is_deterministic() {
    let (n, d, nh) = (120, 12, 8);
    let x = data(n, d, 6);
    let labels: Vec<u32> = (0..n as u32).map(|i| i % 2).collect();
    let fit = |threads: usize, tol: f64, patience: usize| {
        in_pool(threads, || {
            let mut net = new_net(d, nh, 2, 6, 0.05, 0.3, 2).unwrap();
            let r = net
                .readout_fit(&x, &labels, n, &schedule(40, tol, patience, 3))
                .unwrap();
            (net, r)
        })
    };
    let (full_net, full) = fit(1, 0.0, 0);
    assert_eq!(full.loss.len(), 40);
    assert!(!full.converged);
    assert_eq!(fit(3, 0.0, 0).0, full_net);
    // a huge tolerance stops after the first `patience` epochs without improvement
    let (_, early) = fit(2, 1e9, 2);
    assert!(early.converged);
    assert_eq!(early.loss.len(), 3);
    assert_eq!(early.loss[..], full.loss[..3]);
    assert!(full.loss[39] < full.loss[0]);
}

#[test]
fn bad_inputs_are_errors_and_leave_state() {
    let mut net = new_net(3, 2, 2, 2, 0.0, 0.1, 1).unwrap();
    let before = net.clone();
    assert!(net
        .hidden_epoch(&[1.0, -1.0, 0.0], 1, &[0], 1, &params(), false)
        .is_err());
    assert!(net
        .hidden_epoch(&[1.0, 1.0, 0.0], 1, &[1], 1, &params(), false)
        .is_err());
    let mut p = params();
    p.n_winners = 3;
    assert!(net
        .hidden_epoch(&[1.0, 1.0, 0.0], 1, &[0], 1, &p, false)
        .is_err());
    assert!(net
        .readout_epoch(
            &[1.0, 1.0, 0.0],
            &[2],
            1,
            &[0],
            &ReadoutStep {
                rate: 0.1,
                batch_size: 1,
                l2: 0.0
            }
        )
        .is_err());
    assert!(net
        .prune(&Pruning {
            silent_threshold: f32::NAN,
            max_per_unit: 1
        })
        .is_err());
    assert!(net
        .grow(&growing(1, Growth::Coactivity, 0.0, 0.0, 0))
        .is_err());
    assert!(net.grow(&growing(1, Growth::Random, -1.0, 0.0, 0)).is_err());
    assert_eq!(net, before);
    assert!(new_net(0, 2, 2, 1, 0.0, 0.1, 0).is_err());
    assert!(new_net(3, 2, 2, 1, -1.0, 0.1, 0).is_err());
}

#[test]
fn scatter_kernel_and_code_equal_the_blocked_product_bitwise() {
    // mostly-zero inputs take the scattering kernel, dense ones the blocked one
    let (n, d, nh) = (70, 40, 300);
    let mut net = new_net(d, nh, 4, 9, 0.01, 0.6, 8).unwrap();
    net.theta = (0..nh).map(|i| 0.05 * (i % 7) as f32).collect();
    let dense: Vec<f32> = data(n, d, 9).iter().map(|v| v + 0.01).collect();
    let sparse: Vec<f32> = dense
        .iter()
        .enumerate()
        .map(|(k, &v)| if k % 3 == 0 { v } else { 0.0 })
        .collect();
    assert!(kernels::prefer_scatter(&sparse) && !kernels::prefer_scatter(&dense));
    for x in [&sparse, &dense] {
        let blocked = net.hidden.forward(x, n).unwrap();
        assert_eq!(kernels::forward(&net.hidden, x, n).unwrap(), blocked);
        let h = net.transform(x, n).unwrap();
        let code = net.code(x, n).unwrap();
        assert_eq!(code, SparseCode::from_dense(&h, n, nh).unwrap());
        assert!(code.nnz() > 0 && code.nnz() < n * nh);
    }
}

#[test]
fn epoch_with_kept_view_and_norms_equals_step_by_step() {
    // hidden_epoch keeps the units' norms and, for sparse inputs, one
    // input-major view up to date; each step alone computes them afresh
    let (n, d, nh) = (48, 30, 10);
    let dense: Vec<f32> = data(n, d, 12).iter().map(|v| v + 0.01).collect();
    let sparse: Vec<f32> = dense
        .iter()
        .enumerate()
        .map(|(k, &v)| if k % 3 == 0 { v } else { 0.0 })
        .collect();
    assert!(kernels::prefer_scatter(&sparse) && !kernels::prefer_scatter(&dense));
    for x in [sparse, dense] {
        let net0 = new_net(d, nh, 2, 8, 0.05, 0.4, 13).unwrap();
        let order: Vec<u32> = (0..n as u32).map(|i| (i * 7) % n as u32).collect();
        let mut a = net0.clone();
        a.hidden_epoch(&x, n, &order, 8, &params(), true).unwrap();
        let mut b = net0.clone();
        for chunk in order.chunks(8) {
            let xb: Vec<f32> = chunk
                .iter()
                .flat_map(|&s| x[s as usize * d..(s as usize + 1) * d].iter().copied())
                .collect();
            b.hidden_step(&xb, chunk.len(), &params(), true).unwrap();
        }
        assert_eq!(a, b);
        assert_ne!(a.hidden, net0.hidden);
    }
}

#[test]
fn inhibition_keeps_signs_is_deterministic_and_validated() {
    let (n, d, nh) = (64, 20, 12);
    let x = data(n, d, 14);
    let labels: Vec<u32> = (0..n as u32).map(|i| i % 3).collect();
    let run = |threads: usize| {
        in_pool(threads, || {
            let mut net = new_net(d, nh, 3, 10, 0.01, 0.1, 7).unwrap();
            net.set_inhibition(Some(Inhibition::new(4, nh, 3).unwrap()))
                .unwrap();
            let mut p = params();
            p.inhibition_rate = 0.5;
            let order: Vec<u32> = (0..n as u32).rev().collect();
            for _ in 0..3 {
                net.hidden_epoch(&x, n, &order, 16, &p, false).unwrap();
            }
            net.readout_fit(&x, &labels, n, &schedule(3, 0.0, 0, 1))
                .unwrap();
            net
        })
    };
    let net = run(1);
    assert_eq!(net, run(3));
    let inh = net.inhibition.as_ref().unwrap();
    assert!(inh.e_to_i.iter().all(|&a| a >= 0.0));
    assert!(inh.i_to_e.iter().all(|&g| g >= 0.0));
    assert!(inh.i_to_e.iter().any(|&g| g > 0.0));
    assert!(Inhibition::new(0, 3, 0).is_err());
    assert!(Inhibition::from_parts(2, 1, vec![0.1, -0.1], vec![0.0, 0.0]).is_err());
    assert!(Inhibition::from_parts(2, 1, vec![0.1], vec![0.0, 0.0]).is_err());
    let mut other = new_net(d, nh + 1, 3, 10, 0.01, 0.1, 7).unwrap();
    assert!(other
        .set_inhibition(Some(Inhibition::new(4, nh, 3).unwrap()))
        .is_err());
    assert!(other.inhibition.is_none());
}

/// `epochs` readout epochs at rate 0.5, batches of 16, weight decay 1e-4.
fn schedule(epochs: usize, tol: f64, n_iter_no_change: usize, seed: u64) -> ReadoutSchedule {
    ReadoutSchedule {
        rates: vec![0.5; epochs],
        batch_size: 16,
        l2: 1e-4,
        tol,
        n_iter_no_change,
        seed,
        average_from: None,
        centre: false,
    }
}

#[test]
fn direct_pathway_code_is_hidden_code_then_inputs() {
    let (n, d, nh, c) = (7, 5, 4, 3);
    let x = data(n, d, 8);
    let cfg = Config {
        n_in: d,
        n_hidden: nh,
        n_classes: c,
        init_per_unit: 3,
        init_weights: (0.05, 0.4),
        direct: true,
    };
    let mut net = StructuralNet::new(&cfg, 5).unwrap();
    assert_eq!(net.n_readout_in(), nh + d);
    let v: Vec<f32> = (0..c * (nh + d)).map(|i| (i as f32 * 0.37).sin()).collect();
    net.set_readout(&v).unwrap();
    assert_eq!(net.readout(), v);
    let code = net.code(&x, n).unwrap().to_dense();
    let h = net.transform(&x, n).unwrap();
    let z = net.logits_from_code(&net.code(&x, n).unwrap()).unwrap();
    for b in 0..n {
        // presynaptic activity of the readout: [h_b, x_b]
        assert_eq!(
            code[b * (nh + d)..b * (nh + d) + nh],
            stored(&h[b * nh..(b + 1) * nh])
        );
        assert_eq!(
            code[b * (nh + d) + nh..(b + 1) * (nh + d)],
            stored(&x[b * d..(b + 1) * d])
        );
        for k in 0..c {
            let dense: f32 = (0..nh + d)
                .map(|j| code[b * (nh + d) + j] * v[k * (nh + d) + j])
                .sum();
            assert!((z[b * c + k] - dense).abs() < 1e-5);
        }
    }
    // prediction reads the exact rates: the dense product of [h_b, x_b],
    // and the stored code's logits within its rounding
    let exact = net.logits(&x, n).unwrap();
    for b in 0..n {
        for k in 0..c {
            let pre = h[b * nh..(b + 1) * nh].iter().chain(&x[b * d..(b + 1) * d]);
            let dense: f64 = pre
                .zip(&v[k * (nh + d)..(k + 1) * (nh + d)])
                .map(|(&a, &w)| a as f64 * w as f64)
                .sum();
            assert!((exact[b * c + k] as f64 - dense).abs() < 1e-5);
            assert!((exact[b * c + k] - z[b * c + k]).abs() < 2e-2);
        }
    }
    // the state keeps the pathway; a readout of the wrong width is refused
    assert_eq!(StructuralNet::from_bytes(&net.to_bytes()).unwrap(), net);
    assert!(net.set_readout(&v[..c * nh]).is_err());
}

#[test]
fn averaged_readout_is_the_mean_over_the_last_epoch() {
    let (n, d, nh) = (40, 6, 5);
    let x = data(n, d, 3);
    let labels: Vec<u32> = (0..n as u32).map(|i| i % 3).collect();
    let net0 = new_net(d, nh, 3, 4, 0.05, 0.3, 1).unwrap();
    let code = net0.code(&x, n).unwrap();
    let mut sched = schedule(3, 0.0, 0, 9);
    sched.average_from = Some(1);
    let mut averaged = net0.clone();
    averaged.readout_fit_code(&code, &labels, &sched).unwrap();
    // Reference: the same steps one batch at a time, summing the weights
    // after every batch of the last epoch (the mean restarts with every
    // epoch from `average_from` on).
    let mut net = net0.clone();
    let (mut sum_w, mut sum_b, mut count) = (vec![0.0f64; 3 * nh], vec![0.0f64; 3], 0.0);
    for e in 0..3 {
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.shuffle(&mut stream_rng(9, e as u64));
        for chunk in order.chunks(16) {
            net.readout_step_code(&code, &labels, chunk, 0.5, 1e-4);
            if e == 2 {
                count += 1.0;
                sum_w
                    .iter_mut()
                    .zip(net.readout())
                    .for_each(|(s, w)| *s += w as f64);
                sum_b
                    .iter_mut()
                    .zip(&net.readout_bias)
                    .for_each(|(s, w)| *s += *w as f64);
            }
        }
    }
    for (a, s) in averaged.readout().iter().zip(&sum_w) {
        assert!((*a as f64 - s / count).abs() < 1e-5, "{a} vs {}", s / count);
    }
    for (a, s) in averaged.readout_bias.iter().zip(&sum_b) {
        assert!((*a as f64 - s / count).abs() < 1e-5);
    }
    assert_ne!(averaged.readout(), net.readout());
    // averaging counts the final change of the weights as writes
    assert!(averaged.readout_counters.writes > net.readout_counters.writes);
}

#[test]
fn state_round_trips_and_rejects_tampering() {
    let (n, d, nh) = (30, 12, 5);
    let x = data(n, d, 21);
    let mut net = new_net(d, nh, 3, 8, 0.01, 0.1, 4).unwrap();
    net.set_inhibition(Some(Inhibition::new(2, nh, 1).unwrap()))
        .unwrap();
    let order: Vec<u32> = (0..n as u32).collect();
    net.hidden_epoch(&x, n, &order, 10, &params(), true)
        .unwrap();
    let bytes = net.to_bytes();
    assert_eq!(StructuralNet::from_bytes(&bytes).unwrap(), net);
    for cut in [0, 3, bytes.len() / 2, bytes.len() - 1] {
        assert!(StructuralNet::from_bytes(&bytes[..cut]).is_err());
    }
    let mut state = net.state();
    state.theta.pop();
    assert!(StructuralNet::from_state(state).is_err());
    let mut state = net.state();
    state.trace[0] = f32::NAN;
    assert!(StructuralNet::from_state(state).is_err());
    assert!(crate::SynapseMatrix::from_bytes(&bytes).is_err());
}

/// A tampered state with binary hidden synapses was accepted and panicked
/// on the first learning step (`expect("hidden synapses are weighted")`).
#[test]
fn state_with_binary_hidden_synapses_is_refused() {
    let net = new_net(6, 4, 2, 3, 0.1, 0.5, 1).unwrap();
    let mut state = net.state();
    state.hidden.binary = true;
    state.hidden.weights = None;
    assert!(matches!(
        StructuralNet::from_state(state),
        Err(Error::Type(_))
    ));
}

/// Batch sizes beyond the samples (up to `usize::MAX`) train as one batch
/// of all samples; they overflowed the batch buffer's size before.
#[test]
fn huge_batch_size_is_one_batch() {
    let (n, d) = (20, 6);
    let x = data(n, d, 5);
    let order: Vec<u32> = (0..n as u32).collect();
    let mut a = new_net(d, 4, 2, 3, 0.1, 0.5, 1).unwrap();
    let mut b = a.clone();
    a.hidden_epoch(&x, n, &order, n, &params(), true).unwrap();
    b.hidden_epoch(&x, n, &order, usize::MAX, &params(), true)
        .unwrap();
    assert_eq!(a, b);
}

#[test]
fn settled_thresholds_make_every_unit_active_on_the_target_fraction() {
    let (n, d, nh) = (50, 9, 7);
    let x = data(n, d, 12);
    let mut net = new_net(d, nh, 2, 4, 0.05, 0.6, 3).unwrap();
    net.theta.iter_mut().for_each(|t| *t = 100.0); // every unit silent
    in_pool(2, || net.settle_thresholds(&x, n, 0.3)).unwrap();
    let u = net.drive(&x, n).unwrap();
    let w = net.hidden.to_dense().unwrap();
    for i in 0..nh {
        let active = (0..n).filter(|&b| u[b * nh + i] > 0.0).count();
        // drives tied at the threshold stay inactive
        assert!(active <= 15, "unit {i}: {active}");
        let drives: Vec<f32> = (0..n)
            .map(|b| (0..d).map(|j| w[i * d + j] * x[b * d + j]).sum())
            .collect();
        let mut sorted = drives.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        assert!((net.theta[i] - sorted[15]).abs() < 1e-5);
        if sorted[14] > sorted[15] {
            assert_eq!(active, 15);
        }
    }
    assert!(net.settle_thresholds(&x, n, 1.0).is_err());
}

#[test]
fn multiplicative_step_matches_dense_reference_and_keeps_the_fixed_point() {
    let (n, d, nh) = (8, 9, 5);
    let x = data(n, d, 4);
    let mut net = new_net(d, nh, 3, 6, 0.01, 0.5, 5).unwrap();
    let p = HiddenParams {
        weight_dependence: WeightDependence::Multiplicative,
        learning_rate: 0.3,
        ..params()
    };
    let w0 = net.hidden.to_dense().unwrap();
    let (winners, _) = net.competition(&x, n, p.n_winners).unwrap();
    let mut w_ref = w0.clone();
    for i in 0..nh {
        let wins: Vec<usize> = (0..n)
            .filter(|&b| winners[b].contains(&(i as u32)))
            .collect();
        for j in 0..d {
            let w = w0[i * d + j];
            if w != 0.0 && !wins.is_empty() {
                let s: f32 = wins.iter().map(|&b| x[b * d + j]).sum();
                let c = wins.len() as f32;
                w_ref[i * d + j] = (w + p.learning_rate * w * (s - c * w)).clamp(0.0, 1.0);
            }
        }
    }
    net.hidden_step(&x, n, &p, false).unwrap();
    for (a, b) in net.hidden.to_dense().unwrap().iter().zip(&w_ref) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    // Closed form: repeated wins on one input move log w by log(1 + η (x − w))
    // per win and converge to the additive rule's fixed point w = x.
    let (eta, xj) = (0.2f32, 0.8f32);
    let mut w = 0.02f32;
    let mut log_sum = w.ln();
    for _ in 0..200 {
        let dw = hebbian_delta(WeightDependence::Multiplicative, eta, w, xj, 1.0);
        log_sum += (1.0 + eta * (xj - w)).ln();
        w += dw;
        assert!((w.ln() - log_sum).abs() < 1e-4);
    }
    assert!((w - xj).abs() < 1e-5);
    assert_eq!(
        hebbian_delta(WeightDependence::Additive, 0.5, 0.2, 2.0, 2.0),
        0.8
    );
    assert_eq!(
        hebbian_delta(WeightDependence::Multiplicative, 0.5, 0.0, 2.0, 2.0),
        0.0
    );
}

/// Reserve units are silent and never learn; consolidated units keep
/// their synapses and thresholds; recruits learn; the roles survive a
/// state round trip and a tampered state is refused.
#[test]
fn reserve_consolidation_and_recruitment() {
    let (n, d, nh) = (60, 12, 8);
    let x = data(n, d, 31);
    let order: Vec<u32> = (0..n as u32).collect();
    let mut net = new_net(d, nh, 3, 6, 0.01, 0.1, 5).unwrap();
    let removed = net.reserve_units(5).unwrap();
    assert_eq!(removed, 5 * 6);
    assert_eq!(net.count_role(UnitRole::Reserve), 5);
    assert!((3..nh).all(|i| net.hidden.row(i).0.is_empty()));
    assert!(net.reserve_units(3).is_err()); // one plastic unit must stay
    let p = params();
    let (wins, _) = net.hidden_epoch(&x, n, &order, 10, &p, true).unwrap();
    assert!(
        wins[3..].iter().all(|&w| w == 0),
        "reserve units won: {wins:?}"
    );
    assert!(net.theta[3..].iter().all(|&t| t == 0.0));
    net.settle_thresholds(&x, n, 0.3).unwrap();
    assert!(net.theta[3..].iter().all(|&t| t == 0.0));
    // reserve units are silent in the code
    let h = net.transform(&x, n).unwrap();
    assert!(h.chunks(nh).all(|row| row[3..].iter().all(|&v| v == 0.0)));
    // growth leaves reserve units alone, whichever the rule
    for growth in [Growth::Random, Growth::Coactivity] {
        net.grow(&growing(2, growth, 0.01, 0.1, 3)).unwrap();
        assert!((3..nh).all(|i| net.hidden.row(i).0.is_empty()));
    }
    // consolidation prunes to the budget and freezes
    assert_eq!(net.consolidate(1e-3, 2).unwrap(), 3);
    assert!((0..3).all(|i| net.hidden.row(i).0.len() <= 2));
    let frozen = (net.hidden.clone(), net.theta[..3].to_vec());
    assert_eq!(net.recruit(2, 4, (0.01, 0.1), 9).unwrap(), 2);
    assert_eq!(net.count_role(UnitRole::Plastic), 2);
    assert!((3..5).all(|i| net.hidden.row(i).0.len() == 4));
    let (wins, _) = net.hidden_epoch(&x, n, &order, 10, &p, true).unwrap();
    assert!(wins[..3].iter().all(|&w| w == 0) && wins[3..5].iter().all(|&w| w > 0));
    net.settle_thresholds(&x, n, 0.3).unwrap();
    net.prune(&Pruning {
        silent_threshold: 1e-3,
        max_per_unit: 1,
    })
    .unwrap();
    net.grow(&growing(1, Growth::Random, 0.01, 0.1, 4)).unwrap();
    for i in 0..3 {
        assert_eq!(
            net.hidden.row(i),
            frozen.0.row(i),
            "consolidated unit {i} changed"
        );
    }
    assert_eq!(&net.theta[..3], &frozen.1[..]);
    // n_winners above the plastic units is an error, not a silent change
    let mut wide = p;
    wide.n_winners = 3;
    assert!(net.hidden_epoch(&x, n, &order, 10, &wide, false).is_err());
    // state round trip; a reserve unit with synapses is refused
    let back = StructuralNet::from_bytes(&net.to_bytes()).unwrap();
    assert_eq!(back, net);
    let mut state = net.state();
    state.roles[0] = UnitRole::Reserve;
    assert!(StructuralNet::from_state(state).is_err());
    let mut state = net.state();
    state.roles.pop();
    assert!(StructuralNet::from_state(state).is_err());
}

/// A translated step equals the dense softmax gradient of the samples and
/// of their translations `h − μ_own + μ_absent` (weighted), normalised by
/// the number of samples, with bias, in a 3-class readout.
#[test]
fn translated_readout_step_is_the_weighted_softmax_gradient() {
    let mut net = new_net(4, 3, 3, 2, 0.0, 0.1, 1).unwrap();
    let v_init = [0.1, -0.2, 0.3, 0.0, 0.5, -0.1, 0.2, 0.2, -0.3];
    net.set_readout(&v_init).unwrap();
    net.readout_bias = vec![0.1, -0.1, 0.05];
    let h = stored(&[0.5, 0.0, 0.2, 0.1, 0.9, 0.0]);
    let labels = vec![1u32, 2];
    let protos = vec![0.3, 0.4, 0.5, 0.2, 0.1, 0.0, 0.0, 0.6, 0.1];
    let tr = Translation {
        prototypes: protos.clone(),
        absent: vec![0],
        weight: 1.5,
    };
    let code = SparseCode::from_dense(&h, 2, 3).unwrap();
    let (v0, c0) = (net.readout(), net.readout_bias.clone());
    // members: (row, label, weight)
    let mut members: Vec<(Vec<f32>, usize, f32)> = Vec::new();
    for b in 0..2 {
        let row = h[b * 3..b * 3 + 3].to_vec();
        let own = labels[b] as usize;
        let moved: Vec<f32> = (0..3)
            .map(|j| row[j] - protos[own * 3 + j] + protos[j])
            .collect();
        members.push((row, own, 1.0));
        members.push((moved, 0, 1.5));
    }
    let rate = 0.2;
    let step = ReadoutStep {
        rate,
        batch_size: 2,
        l2: 0.0,
    };
    net.readout_step_translated(
        &code,
        &labels,
        &[0, 1],
        Some(&tr),
        &step,
        &mut Carry::new(&code),
    );
    let v1 = net.readout();
    let mut gb = [0.0f32; 3];
    for k in 0..3 {
        for j in 0..3 {
            let mut g = 0.0;
            for (r, lab, wt) in &members {
                let mut z: Vec<f32> = (0..3)
                    .map(|c| c0[c] + (0..3).map(|i| r[i] * v0[c * 3 + i]).sum::<f32>())
                    .collect();
                crate::math::softmax(&mut z);
                let t = if *lab == k { 1.0 } else { 0.0 };
                g += wt * (t - z[k]) * r[j];
                if j == 0 {
                    gb[k] += wt * (t - z[k]);
                }
            }
            let expect = v0[k * 3 + j] + rate / 2.0 * g;
            assert!((v1[k * 3 + j] - expect).abs() < 1e-5, "{k} {j}");
        }
        let expect = c0[k] + rate / 2.0 * gb[k];
        assert!((net.readout_bias[k] - expect).abs() < 1e-5, "bias {k}");
    }
}

#[test]
fn class_sums_add_up_the_code_per_class() {
    let (n, d) = (20, 6);
    let x = data(n, d, 8);
    let mut net = new_net(d, 4, 3, 6, 0.01, 0.5, 2).unwrap();
    net.settle_thresholds(&x, n, 0.5).unwrap();
    let labels: Vec<u32> = (0..n as u32).map(|i| i % 3).collect();
    let (sums, counts) = net.class_sums(&x, &labels, n).unwrap();
    assert_eq!(counts, vec![7, 7, 6]);
    let h = stored(&net.transform(&x, n).unwrap());
    for k in 0..3 {
        for j in 0..4 {
            let s: f64 = (0..n)
                .filter(|&b| labels[b] == k as u32)
                .map(|b| h[b * 4 + j] as f64)
                .sum();
            assert!((sums[k * 4 + j] - s).abs() < 1e-5);
        }
    }
    assert!(net.class_sums(&x, &[5; 20], n).is_err());
    net.reset_readout(5).unwrap();
    assert_eq!((net.n_classes(), net.readout().len()), (5, 20));
    assert!(net.reset_readout(0).is_err());
}

#[test]
fn input_check_takes_every_finite_rate_and_nothing_else() {
    let good = [0.0f32, -0.0, 1e-40, 0.5, f32::MAX];
    let bad = [
        -1e-40f32,
        -1.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -f32::NAN,
    ];
    // short inputs and inputs long enough for the parallel pass, the
    // offending value at either end
    for n in [7usize, 64 << 14] {
        let mut x = vec![0.25f32; n];
        for &g in &good {
            x[n - 1] = g;
            assert!(check_nonneg_input(&x).is_ok(), "{g}");
        }
        for &b in &bad {
            for at in [0, n - 1] {
                let mut y = x.clone();
                y[at] = b;
                assert!(check_nonneg_input(&y).is_err(), "{b} at {at}");
            }
        }
    }
}
