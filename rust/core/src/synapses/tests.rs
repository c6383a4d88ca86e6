//! Property tests of the synapse store against a dense reference.

use super::*;
use crate::synapses::Clamp;
use crate::test_util::in_pool;
use proptest::prelude::*;

/// A dense `n_post × n_pre` matrix with about `density` non-zeros.
fn dense_matrix() -> impl Strategy<Value = (usize, usize, Vec<f32>)> {
    (1usize..12, 1usize..12).prop_flat_map(|(r, c)| {
        let cell = prop_oneof![3 => Just(0.0f32), 2 => -2.0f32..2.0];
        (Just(r), Just(c), proptest::collection::vec(cell, r * c))
    })
}

fn dense_product(w: &[f32], n_post: usize, n_pre: usize, x: &[f32], batch: usize) -> Vec<f32> {
    let mut y = vec![0.0f32; batch * n_post];
    for b in 0..batch {
        for i in 0..n_post {
            for j in 0..n_pre {
                y[b * n_post + i] += w[i * n_pre + j] * x[b * n_pre + j];
            }
        }
    }
    y
}

fn close(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-4 * (1.0 + y.abs()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn dense_roundtrip((r, c, d) in dense_matrix()) {
        let m = SynapseMatrix::from_dense(&d, r, c, false).unwrap();
        m.check_invariants().unwrap();
        prop_assert_eq!(m.to_dense().unwrap(), d.clone());
        prop_assert_eq!(m.nnz(), d.iter().filter(|&&v| v != 0.0).count());
    }

    #[test]
    fn products_match_dense((r, c, d) in dense_matrix(), batch in prop_oneof![Just(0usize), Just(1), 2usize..40, Just(70)], seed in 0u64..1000) {
        let m = SynapseMatrix::from_dense(&d, r, c, false).unwrap();
        let x: Vec<f32> = (0..batch * c).map(|k| ((k as u64 * 7919 + seed) % 13) as f32 - 6.0).collect();
        let y = m.forward(&x, batch).unwrap();
        prop_assert!(close(&y, &dense_product(&d, r, c, &x, batch)));
        // transposed: g W == dense product with Wᵀ
        let g: Vec<f32> = (0..batch * r).map(|k| ((k as u64 * 31 + seed) % 7) as f32 - 3.0).collect();
        let mut dt = vec![0.0f32; r * c];
        for i in 0..r { for j in 0..c { dt[j * r + i] = d[i * c + j]; } }
        let back = m.backward(&g, batch).unwrap();
        prop_assert!(close(&back, &dense_product(&dt, c, r, &g, batch)));
        // identical bits for any number of threads
        prop_assert_eq!(in_pool(1, || m.forward(&x, batch).unwrap()), in_pool(3, || m.forward(&x, batch).unwrap()));
        prop_assert_eq!(in_pool(1, || m.backward(&g, batch).unwrap()), in_pool(3, || m.backward(&g, batch).unwrap()));
        // into a reused buffer holding another product's values: every
        // element rewritten, the same bits as a fresh product
        let mut buf = vec![f32::NAN; batch * r + 3];
        m.forward_into(&x, batch, &mut buf).unwrap();
        prop_assert_eq!(&buf, &y);
        let mut same = vec![f32::NAN; batch * r];
        m.forward_into(&x, batch, &mut same).unwrap();
        prop_assert_eq!(same.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), y.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
    }

    #[test]
    fn prune_below_matches_dense((r, c, d) in dense_matrix(), t in 0.0f32..2.5) {
        let mut m = SynapseMatrix::from_dense(&d, r, c, false).unwrap();
        let before = m.nnz();
        let removed = m.prune_below(t).unwrap();
        m.check_invariants().unwrap();
        let expect: Vec<f32> = d.iter().map(|&v| if v.abs() < t { 0.0 } else { v }).collect();
        prop_assert_eq!(m.to_dense().unwrap(), expect);
        prop_assert_eq!(removed, before - m.nnz());
        prop_assert_eq!(m.counters().pruned as usize, removed);
    }

    #[test]
    fn prune_weakest_removes_floor_fraction_per_row((r, c, d) in dense_matrix(), f in 0.0f64..=1.0) {
        let mut m = SynapseMatrix::from_dense(&d, r, c, false).unwrap();
        let counts = m.row_counts();
        m.prune_weakest(f).unwrap();
        m.check_invariants().unwrap();
        for (i, (&before, after)) in counts.iter().zip(m.row_counts()).enumerate() {
            prop_assert_eq!(after, before - (f * before as f64).floor() as usize);
            // every surviving weight is at least as strong as every pruned one
            let row = &d[i * c..(i + 1) * c];
            let kept = m.to_dense().unwrap();
            let kept = &kept[i * c..(i + 1) * c];
            let min_kept = kept.iter().zip(row).filter(|(k, _)| **k != 0.0).map(|(k, _)| k.abs()).fold(f32::INFINITY, f32::min);
            let max_pruned = row.iter().zip(kept).filter(|(o, k)| **o != 0.0 && **k == 0.0).map(|(o, _)| o.abs()).fold(0.0, f32::max);
            prop_assert!(max_pruned <= min_kept);
        }
    }

    #[test]
    fn grow_matches_dense((r, c, d) in dense_matrix(), cands in proptest::collection::vec((0u32..12, 0u32..12), 0..30)) {
        let mut m = SynapseMatrix::from_dense(&d, r, c, false).unwrap();
        let cands: Vec<(u32, u32)> = cands.into_iter().filter(|&(i, j)| (i as usize) < r && (j as usize) < c).collect();
        let post: Vec<u32> = cands.iter().map(|p| p.0).collect();
        let pre: Vec<u32> = cands.iter().map(|p| p.1).collect();
        let grown = m.grow(&post, &pre, None, GrowInit::Constant(0.5), 1).unwrap();
        m.check_invariants().unwrap();
        let mut expect = d.clone();
        let mut n = 0;
        for &(i, j) in &cands {
            let e = &mut expect[i as usize * c + j as usize];
            if *e == 0.0 { *e = 0.5; n += 1; }
        }
        prop_assert_eq!(grown, n);
        prop_assert_eq!(m.to_dense().unwrap(), expect);
    }

    #[test]
    fn grow_random_fills_absent_positions((r, c, d) in dense_matrix(), k in 0usize..14, seed in 0u64..50) {
        let mut m = SynapseMatrix::from_dense(&d, r, c, false).unwrap();
        let counts = m.row_counts();
        let mut m2 = m.clone();
        m.grow_random(k, GrowInit::Uniform(0.01, 0.1), seed).unwrap();
        m.check_invariants().unwrap();
        for (before, after) in counts.iter().zip(m.row_counts()) {
            prop_assert_eq!(after, (before + k).min(c));
        }
        // old synapses untouched, new ones in range
        let (old, new) = (d, m.to_dense().unwrap());
        for (o, n) in old.iter().zip(&new) {
            if *o != 0.0 { prop_assert_eq!(o, n); } else if *n != 0.0 { prop_assert!((0.01..0.1).contains(n)); }
        }
        in_pool(3, || m2.grow_random(k, GrowInit::Uniform(0.01, 0.1), seed).unwrap());
        prop_assert_eq!(m2, m);
    }

    #[test]
    fn hebbian_matches_dense((r, c, d) in dense_matrix(), batch in 1usize..5) {
        // excitatory synapses: start inside the bounds [0, inf)
        let d: Vec<f32> = d.iter().map(|v| v.abs()).collect();
        let mut m = SynapseMatrix::from_dense(&d, r, c, false).unwrap();
        let post: Vec<f32> = (0..batch * r).map(|k| (k % 3) as f32 * 0.5).collect();
        let pre: Vec<f32> = (0..batch * c).map(|k| (k % 4) as f32 * 0.25).collect();
        let (writes, abs) = m.hebbian_update(&post, &pre, batch, 0.1, Clamp { min: 0.0, max: f32::INFINITY }).unwrap();
        let mut expect = d.clone();
        let (mut n, mut s) = (0u64, 0.0f64);
        for i in 0..r { for j in 0..c {
            if d[i * c + j] == 0.0 { continue; }
            let corr: f32 = (0..batch).map(|b| post[b * r + i] * pre[b * c + j]).sum();
            let new = (d[i * c + j] + 0.1 * corr).max(0.0);
            if new != d[i * c + j] { n += 1; s += (new - d[i * c + j]).abs() as f64; }
            expect[i * c + j] = new;
        }}
        prop_assert!(close(&m.to_dense().unwrap(), &expect));
        prop_assert_eq!(writes, n);
        prop_assert!((abs - s).abs() < 1e-4 * (1.0 + s));
        prop_assert!(m.weights().unwrap().iter().all(|&w| w >= 0.0));
    }

    #[test]
    fn minimal_energy_matches_dense((r, c, d) in dense_matrix(), t in 0.0f32..2.0) {
        let init = SynapseMatrix::from_dense(&d, r, c, false).unwrap();
        let mut m = init.clone();
        m.prune_below(t).unwrap();
        m.grow_random(2, GrowInit::Constant(0.3), 9).unwrap();
        let me = m.minimal_energy_from(&init).unwrap();
        let dense = crate::energy::MinimalEnergy::between_dense(&d, &m.to_dense().unwrap());
        prop_assert_eq!(me.writes, dense.writes);
        prop_assert!((me.abs_change - dense.abs_change).abs() < 1e-6);
    }
}

#[test]
fn coo_sums_duplicates_and_rejects_out_of_range() {
    let m = SynapseMatrix::from_coo(2, 3, &[1, 0, 1], &[2, 1, 2], Some(&[1.0, 2.0, 3.0]), false)
        .unwrap();
    assert_eq!(m.to_dense().unwrap(), vec![0.0, 2.0, 0.0, 0.0, 0.0, 4.0]);
    let err = SynapseMatrix::from_coo(2, 3, &[2], &[0], None, false).unwrap_err();
    assert!(matches!(err, Error::Index(_)));
    let b = SynapseMatrix::from_coo(2, 3, &[1, 1], &[2, 2], None, true).unwrap();
    assert_eq!(b.nnz(), 1);
}

#[test]
fn failed_grow_leaves_matrix_unchanged() {
    let mut m = SynapseMatrix::from_dense(&[1.0, 0.0, 0.0, 1.0], 2, 2, false).unwrap();
    let before = m.clone();
    assert!(matches!(
        m.grow(&[0, 5], &[1, 0], None, GrowInit::Constant(1.0), 0),
        Err(Error::Index(_))
    ));
    assert_eq!(m, before);
    assert!(m
        .grow(&[0], &[1], None, GrowInit::Uniform(1.0, 0.0), 0)
        .is_err());
    assert_eq!(m, before);
}

#[test]
fn empty_and_degenerate_shapes() {
    let m = SynapseMatrix::empty(0, 5, false).unwrap();
    assert_eq!(m.forward(&[], 0).unwrap().len(), 0);
    assert_eq!(m.backward(&[], 3).unwrap(), vec![0.0; 15]);
    let mut m = SynapseMatrix::empty(3, 1, true).unwrap();
    assert_eq!(m.grow_random(5, GrowInit::Constant(1.0), 0).unwrap(), 3);
    assert_eq!(m.forward(&[2.0], 1).unwrap(), vec![2.0, 2.0, 2.0]);
    assert!(m
        .hebbian_update(&[1.0; 3], &[1.0], 1, 0.1, Clamp::default())
        .is_err());
    assert!(m.forward(&[1.0, 2.0], 1).is_err());
}

#[test]
fn binary_prune_weakest_prefers_low_indices() {
    let mut m = SynapseMatrix::from_dense(&[1.0, 1.0, 1.0, 1.0], 1, 4, true).unwrap();
    m.prune_weakest(0.5).unwrap();
    assert_eq!(m.indices(), &[2, 3]);
}

#[test]
fn products_span_several_sample_blocks() {
    // More samples than one block (256) and more rows than one task (32).
    let (r, c, batch) = (70, 45, 600);
    let d: Vec<f32> = (0..r * c)
        .map(|k| {
            if k % 7 == 0 {
                (k % 11) as f32 - 5.0
            } else {
                0.0
            }
        })
        .collect();
    let m = SynapseMatrix::from_dense(&d, r, c, false).unwrap();
    let x: Vec<f32> = (0..batch * c).map(|k| (k % 13) as f32 * 0.1).collect();
    let y = m.forward(&x, batch).unwrap();
    assert!(close(&y, &dense_product(&d, r, c, &x, batch)));
    let g: Vec<f32> = (0..batch * r).map(|k| (k % 5) as f32 - 2.0).collect();
    let mut dt = vec![0.0f32; r * c];
    for i in 0..r {
        for j in 0..c {
            dt[j * r + i] = d[i * c + j];
        }
    }
    assert!(close(
        &m.backward(&g, batch).unwrap(),
        &dense_product(&dt, c, r, &g, batch)
    ));
    assert_eq!(
        in_pool(1, || m.forward(&x, batch).unwrap()),
        in_pool(4, || m.forward(&x, batch).unwrap())
    );
    assert_eq!(
        in_pool(1, || m.backward(&g, batch).unwrap()),
        in_pool(4, || m.backward(&g, batch).unwrap())
    );
}

#[test]
fn backward_index_follows_structural_changes() {
    let mut m = SynapseMatrix::from_dense(&[1.0, 2.0, 0.0, 3.0], 2, 2, false).unwrap();
    assert_eq!(m.backward(&[1.0, 1.0], 1).unwrap(), vec![1.0, 5.0]);
    m.prune_below(1.5).unwrap();
    assert_eq!(m.backward(&[1.0, 1.0], 1).unwrap(), vec![0.0, 5.0]);
    m.grow(&[1], &[0], None, GrowInit::Constant(4.0), 0)
        .unwrap();
    assert_eq!(m.backward(&[1.0, 1.0], 1).unwrap(), vec![4.0, 5.0]);
    m.apply_delta(&[1.0, 1.0, 1.0], Clamp::default()).unwrap();
    assert_eq!(m.backward(&[1.0, 1.0], 1).unwrap(), vec![5.0, 7.0]);
}

/// Products from several threads sharing one pool: a caller waiting for its
/// parallel loop may run another caller's product on the same thread, so the
/// thread-local tile must not be borrowed across the loop (it panicked with
/// "already borrowed").
#[test]
fn products_reentered_by_the_pool() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let (n_post, n_pre, batch) = (512, 64, 600);
    let d: Vec<f32> = (0..n_post * n_pre)
        .map(|k| if k % 3 == 0 { (k % 7) as f32 } else { 0.0 })
        .collect();
    let m = SynapseMatrix::from_dense(&d, n_post, n_pre, false).unwrap();
    let x: Vec<f32> = (0..batch * n_pre).map(|k| (k % 5) as f32).collect();
    let want = m.forward(&x, batch).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..20 {
                    let y = pool.install(|| m.forward(&x, batch)).unwrap();
                    assert_eq!(y, want);
                    let g = vec![1.0f32; batch * n_post];
                    pool.install(|| m.backward(&g, batch)).unwrap();
                }
            });
        }
    });
}

/// Initial weight ranges wider than float32 made `rand` panic on an unwrap.
#[test]
fn grow_init_range_wider_than_f32_is_refused() {
    let mut m = SynapseMatrix::empty(4, 6, false).unwrap();
    let init = GrowInit::Uniform(-2e38, 2e38);
    assert!(matches!(m.grow_random(2, init, 0), Err(Error::Value(_))));
    assert!(matches!(
        m.grow(&[0], &[1], None, init, 0),
        Err(Error::Value(_))
    ));
    assert_eq!(m.nnz(), 0);
    m.grow_random(2, GrowInit::Uniform(-1e38, 1e38), 0).unwrap();
    assert_eq!(m.nnz(), 8);
}

/// Shapes and products too large for memory are refused with `Memory`
/// before anything is allocated (they aborted the process).
#[test]
fn absurd_shapes_are_refused() {
    // 4 TiB dense copy.
    let m = SynapseMatrix::empty(1 << 20, 1 << 20, false).unwrap();
    assert!(matches!(m.to_dense(), Err(Error::Memory(_))));
    // No presynaptic units: any batch is a valid input, 2^56 outputs are not.
    let m = SynapseMatrix::empty(1 << 16, 0, false).unwrap();
    assert!(matches!(m.forward(&[], 1 << 40), Err(Error::Memory(_))));
    assert!(matches!(m.forward(&[], usize::MAX), Err(Error::Memory(_))));
    // 2^48 synapses to grow.
    let mut m = SynapseMatrix::empty(1 << 16, MAX_NEURONS, false).unwrap();
    let init = GrowInit::Uniform(0.0, 1.0);
    assert!(matches!(
        m.grow_random(1 << 32, init, 0),
        Err(Error::Memory(_))
    ));
}

/// Updates that overflow float32 saturate instead of storing `inf`, and
/// non-finite weights are refused at construction.
#[test]
fn weights_stay_finite() {
    let mut m = SynapseMatrix::from_dense(&[3e38, 1.0], 1, 2, false).unwrap();
    m.apply_delta(&[3e38, -1.0], Clamp::default()).unwrap();
    assert!(m.weights().unwrap().iter().all(|w| w.is_finite()));
    assert_eq!(m.weights().unwrap()[0], f32::MAX);
    for bad in [f32::NAN, f32::INFINITY] {
        assert!(SynapseMatrix::from_dense(&[bad, 1.0], 1, 2, false).is_err());
        assert!(m.set_weights(&[bad, 1.0]).is_err());
    }
}

#[test]
fn apply_delta_rows_equals_apply_delta_with_zeros_elsewhere() {
    let dense: Vec<f32> = (0..20)
        .map(|i| if i % 3 == 0 { 0.0 } else { i as f32 * 0.04 })
        .collect();
    let mut all = SynapseMatrix::from_dense(&dense, 4, 5, false).unwrap();
    let mut some = all.clone();
    let clamp = Clamp { min: 0.0, max: 1.0 };
    let rows = [1u32, 3];
    let lens: Vec<usize> = rows
        .iter()
        .map(|&r| all.indptr()[r as usize + 1] - all.indptr()[r as usize])
        .collect();
    let part: Vec<f32> = (0..lens.iter().sum::<usize>())
        .map(|k| 0.3 - 0.2 * k as f32)
        .collect();
    let mut full = vec![0.0f32; all.nnz()];
    let mut k = 0;
    for &r in &rows {
        for slot in &mut full[all.indptr()[r as usize]..all.indptr()[r as usize + 1]] {
            *slot = part[k];
            k += 1;
        }
    }
    let a = all.apply_delta(&full, clamp).unwrap();
    let b = some.apply_delta_rows(&rows, &part, clamp).unwrap();
    assert_eq!(all.weights(), some.weights());
    assert_eq!(a.0, b.0);
    assert!((a.1 - b.1).abs() < 1e-9);
    assert!(some.apply_delta_rows(&[3, 1], &part, clamp).is_err());
    assert!(some.apply_delta_rows(&rows, &part[1..], clamp).is_err());
    assert!(some.apply_delta_rows(&[4], &[], clamp).is_err());
}
