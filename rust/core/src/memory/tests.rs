use super::*;
use crate::rng::stream_rng;
use crate::test_util::in_pool;
use rand::seq::index::sample;

/// `p` random patterns of exactly `k` of `n` units (also used by the lean store's tests).
pub(super) fn random_patterns(p: usize, n: usize, k: usize, seed: u64) -> Patterns {
    let rows: Vec<Vec<u32>> = (0..p)
        .map(|r| {
            let mut rng = stream_rng(seed, r as u64);
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

fn dense_m11(u: &Patterns, v: &Patterns) -> Vec<u64> {
    let mut c = vec![0u64; u.dim * v.dim];
    for r in 0..u.len() {
        for &i in u.row(r) {
            for &j in v.row(r) {
                c[i as usize * v.dim + j as usize] += 1;
            }
        }
    }
    c
}

#[test]
fn counters_match_dense_in_several_batches() {
    let u = random_patterns(60, 30, 4, 1);
    let v = random_patterns(60, 20, 3, 2);
    let mut s = AssocStore::new(30, 20, false, false).unwrap();
    let mut b = AssocStore::new(30, 20, true, false).unwrap();
    for (a, z) in [(0, 25), (25, 60)] {
        let rows = |p: &Patterns| (a..z).map(|r| p.row(r).to_vec()).collect::<Vec<_>>();
        let uu = Patterns::from_rows(30, &rows(&u)).unwrap();
        let vv = Patterns::from_rows(20, &rows(&v)).unwrap();
        s.store(&uu, &vv).unwrap();
        b.store(&uu, &vv).unwrap();
    }
    let d = dense_m11(&u, &v);
    for i in 0..30 {
        for j in 0..20 {
            assert_eq!(s.m11(i, j), d[i * 20 + j]);
            assert_eq!(b.m11(i, j), u64::from(d[i * 20 + j] > 0));
        }
    }
    assert_eq!(s.n_pairs(), 60);
    assert_eq!(s.counters().writes, 60 * 4 * 3);
    assert_eq!(b.counters().writes, b.nonsilent());
}

#[test]
fn compression_inverts_dense_binary_store_losslessly() {
    let u = random_patterns(60, 40, 5, 3);
    let mut b = AssocStore::new(40, 40, true, true).unwrap();
    b.store(&u, &u).unwrap();
    assert!(b.p1() > 0.5);
    let q = random_patterns(10, 40, 3, 4);
    let params = RetrieveParams {
        rule: Rule::Willshaw,
        mode: Mode::Wta(5),
        n_iter: 3,
        adaptive: false,
        anchor: false,
        p01: 0.0,
        p10: 0.0,
    };
    let before = retrieval::retrieve(&b, &q, &params).unwrap();
    let pot = retrieval::potentials(&b, &q, Rule::Willshaw, 0.0, 0.0, 1).unwrap();
    let nnz = b.nonsilent();
    assert!(b.compress());
    assert_eq!(b.nonsilent(), nnz);
    assert_eq!(b.stored_entries() as u64, 1600 - nnz);
    let after = retrieval::retrieve(&b, &q, &params).unwrap();
    assert_eq!(after.patterns, before.patterns);
    assert_eq!(after.iterations, before.iterations);
    assert!(before.patterns.indices.len() < 10 * 40);
    assert_eq!(
        retrieval::potentials(&b, &q, Rule::Willshaw, 0.0, 0.0, 1).unwrap(),
        pot
    );
    // Storing more into the inverted store removes silent synapses.
    let more = random_patterns(5, 40, 5, 5);
    b.store(&more, &more).unwrap();
    for r in 0..5 {
        for &i in more.row(r) {
            for &j in more.row(r) {
                assert_eq!(b.m11(i as usize, j as usize), 1);
            }
        }
    }
}

#[test]
fn bad_input_is_rejected_without_change() {
    let mut s = AssocStore::new(10, 8, false, false).unwrap();
    let u = random_patterns(3, 10, 2, 1);
    let v_bad = random_patterns(3, 9, 2, 1);
    assert!(s.store(&u, &v_bad).is_err());
    assert_eq!(s.n_pairs(), 0);
    assert!(Patterns::new(5, vec![0, 2], vec![3, 1]).is_err());
    assert!(Patterns::new(5, vec![0, 1], vec![7]).is_err());
    assert!(Patterns::new(5, vec![0, 2], vec![1]).is_err());
    let b = AssocStore::new(10, 8, true, false).unwrap();
    assert!(retrieval::potentials(&b, &u, Rule::Bayes, 0.0, 0.0, 0).is_err());
    let p = RetrieveParams {
        rule: Rule::Hebb,
        mode: Mode::Threshold(None),
        n_iter: 1,
        adaptive: false,
        anchor: false,
        p01: 0.0,
        p10: 0.0,
    };
    assert!(retrieval::retrieve(&s, &u, &p).is_err());
    let p2 = RetrieveParams {
        mode: Mode::Wta(2),
        n_iter: 2,
        ..p
    };
    assert!(retrieval::retrieve(&s, &u, &p2).is_err());
    let p3 = RetrieveParams {
        mode: Mode::Wta(2),
        p01: 1.0,
        ..p
    };
    assert!(retrieval::retrieve(&s, &u, &p3).is_err());
}

#[test]
fn retrieval_is_thread_independent() {
    let u = random_patterns(300, 64, 6, 7);
    let mut s = AssocStore::new(64, 64, false, true).unwrap();
    s.store(&u, &u).unwrap();
    let q = random_patterns(50, 64, 4, 8);
    let params = RetrieveParams {
        rule: Rule::Bayes,
        mode: Mode::Wta(6),
        n_iter: 4,
        adaptive: true,
        anchor: false,
        p01: 0.3,
        p10: 0.01,
    };
    let one = in_pool(1, || retrieval::retrieve(&s, &q, &params).unwrap());
    let four = in_pool(4, || retrieval::retrieve(&s, &q, &params).unwrap());
    assert_eq!(one, four);
}

#[test]
fn willshaw_clean_subset_query_has_no_misses() {
    let u = random_patterns(100, 200, 8, 11);
    let v = random_patterns(100, 150, 7, 12);
    let mut s = AssocStore::new(200, 150, true, false).unwrap();
    s.store(&u, &v).unwrap();
    let params = RetrieveParams {
        rule: Rule::Willshaw,
        mode: Mode::Threshold(None),
        n_iter: 1,
        adaptive: false,
        anchor: false,
        p01: 0.0,
        p10: 0.0,
    };
    let out = retrieval::retrieve(&s, &u, &params).unwrap();
    for r in 0..100 {
        let got = out.patterns.row(r);
        assert!(v.row(r).iter().all(|j| got.contains(j)));
    }
}

#[test]
fn anchored_retrieval_is_validated_and_thread_independent() {
    let u = random_patterns(300, 64, 6, 7);
    let mut s = AssocStore::new(64, 64, false, true).unwrap();
    s.store(&u, &u).unwrap();
    let q = random_patterns(50, 64, 3, 9);
    let params = RetrieveParams {
        rule: Rule::Bayes,
        mode: Mode::Wta(6),
        n_iter: 4,
        adaptive: true,
        anchor: true,
        p01: 0.5,
        p10: 0.0,
    };
    let one = in_pool(1, || retrieval::retrieve(&s, &q, &params).unwrap());
    let four = in_pool(4, || retrieval::retrieve(&s, &q, &params).unwrap());
    assert_eq!(one, four);
    // Anchoring differs from plain iteration, and is only defined for Bayes
    // without hypercolumns.
    let plain = retrieval::retrieve(
        &s,
        &q,
        &RetrieveParams {
            anchor: false,
            ..params
        },
    )
    .unwrap();
    assert_ne!(plain.patterns, one.patterns);
    for bad in [
        RetrieveParams {
            rule: Rule::Bcpnn,
            ..params
        },
        RetrieveParams {
            mode: Mode::Hypercolumn(8),
            ..params
        },
    ] {
        assert!(retrieval::retrieve(&s, &q, &bad).is_err());
    }
    let mut h = AssocStore::new(64, 64, false, false).unwrap();
    h.store(&u, &u).unwrap();
    let one_step = RetrieveParams {
        n_iter: 1,
        ..params
    };
    assert!(retrieval::retrieve(&h, &q, &one_step).is_err());
}

#[test]
fn state_round_trips_and_rejects_tampering() {
    use crate::state::Persist;
    let u = random_patterns(40, 30, 4, 3);
    let v = random_patterns(40, 20, 3, 4);
    for binary in [false, true] {
        let mut s = AssocStore::new(30, 20, binary, false).unwrap();
        s.store(&u, &v).unwrap();
        if binary {
            s.compress();
        }
        let bytes = s.to_bytes();
        assert_eq!(AssocStore::from_bytes(&bytes).unwrap(), s);
        assert!(AssocStore::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let mut t = s.state();
        t.indices[0] = 99;
        assert!(AssocStore::from_state(t).is_err());
        let mut t = s.state();
        t.config.m = usize::MAX;
        assert!(AssocStore::from_state(t).is_err());
        let mut t = s.state();
        t.n_pairs = 0;
        assert!(AssocStore::from_state(t).is_err());
    }
}

#[test]
fn cancelled_store_and_retrieval_change_nothing() {
    use crate::cancel::{scope, Token};
    let u = random_patterns(40, 30, 4, 3);
    let v = random_patterns(40, 20, 3, 4);
    for binary in [false, true] {
        let mut s = AssocStore::new(30, 20, binary, false).unwrap();
        s.store(&u, &v).unwrap();
        let before = s.clone();
        let token = Token::new();
        token.cancel();
        let r = scope(&token, || s.store(&u, &v));
        assert!(matches!(r, Err(Error::Interrupted(_))), "{r:?}");
        assert_eq!(s, before);
        let p = RetrieveParams {
            rule: if binary { Rule::Willshaw } else { Rule::Hebb },
            mode: Mode::Wta(3),
            n_iter: 1,
            adaptive: false,
            anchor: false,
            p01: 0.0,
            p10: 0.0,
        };
        let r = scope(&token, || retrieval::retrieve(&s, &u, &p));
        assert!(matches!(r, Err(Error::Interrupted(_))));
        // Not cancelled: the same as without a token.
        let fresh = Token::new();
        scope(&fresh, || s.store(&u, &v)).unwrap();
        let mut plain = before.clone();
        plain.store(&u, &v).unwrap();
        assert_eq!(s, plain);
    }
}

#[test]
fn patterns_refuse_an_indptr_that_overshoots_then_falls() {
    // [0, 5, 2] with 2 indices: the first row would slice past the end.
    let err = Patterns::new(4, vec![0, 5, 2], vec![0, 1]);
    assert!(matches!(err, Err(Error::Shape(_))));
}

/// Rows `a..b` of `p`.
fn slice_rows(p: &Patterns, a: usize, b: usize) -> Patterns {
    let rows: Vec<Vec<u32>> = (a..b).map(|r| p.row(r).to_vec()).collect();
    Patterns::from_rows(p.dim, &rows).unwrap()
}

#[test]
fn merged_halves_equal_storing_everything() {
    let u = random_patterns(80, 30, 4, 11);
    let v = random_patterns(80, 20, 3, 12);
    for binary in [false, true] {
        let mut whole = AssocStore::new(30, 20, binary, false).unwrap();
        whole.store(&u, &v).unwrap();
        let mut a = AssocStore::new(30, 20, binary, false).unwrap();
        a.store(&slice_rows(&u, 0, 35), &slice_rows(&v, 0, 35))
            .unwrap();
        let mut b = AssocStore::new(30, 20, binary, false).unwrap();
        b.store(&slice_rows(&u, 35, 80), &slice_rows(&v, 35, 80))
            .unwrap();
        if binary {
            b.compress(); // an inverted store merges too
        }
        a.merge(&b).unwrap();
        assert_eq!(a, whole);
        let other = AssocStore::new(30, 21, binary, false).unwrap();
        assert!(a.merge(&other).is_err());
        assert_eq!(a, whole);
    }
}

#[test]
fn column_shards_give_the_columns_of_the_potentials() {
    let u = random_patterns(70, 24, 4, 13);
    let v = random_patterns(70, 24, 4, 14);
    let q = slice_rows(&u, 0, 10);
    for rule in [Rule::Bayes, Rule::Bcpnn, Rule::Covariance, Rule::Hopfield] {
        let mut whole = AssocStore::new(24, 24, false, false).unwrap();
        whole.store(&u, &v).unwrap();
        let x = retrieval::potentials(&whole, &q, rule, 0.1, 0.01, 0).unwrap();
        for (lo, hi) in [(0, 9), (9, 24)] {
            let mut shard = AssocStore::new(24, 24, false, false).unwrap();
            shard.store_columns(&u, &v, lo, hi).unwrap();
            let xs = retrieval::potentials(&shard, &q, rule, 0.1, 0.01, 0).unwrap();
            for r in 0..q.len() {
                assert_eq!(xs[r * 24 + lo..r * 24 + hi], x[r * 24 + lo..r * 24 + hi]);
            }
        }
    }
    let mut s = AssocStore::new(24, 24, false, false).unwrap();
    assert!(s.store_columns(&u, &v, 10, 30).is_err());
}

/// Bits of potentials, with `-0.0` read as `0.0` (adding a dense `0.0` turns
/// one into the other; they compare equal).
fn bits(x: &[f64]) -> Vec<u64> {
    x.iter().map(|&v| (v + 0.0).to_bits()).collect()
}

#[test]
fn dense_kernel_gives_the_sparse_potentials_bit_for_bit() {
    use rules::{Rule, Weights};
    let (n, h) = (48, 6);
    for (auto, p) in [(true, 150), (false, 40), (true, 3)] {
        let u = random_patterns(p, n, 7, 11);
        let v = if auto {
            u.clone()
        } else {
            random_patterns(p, n, 5, 12)
        };
        let mut s = AssocStore::new(n, n, false, auto).unwrap();
        s.store(&u, &v).unwrap();
        let q = random_patterns(20, n, 6, 13);
        for rule in [
            Rule::Bcpnn,
            Rule::Bayes,
            Rule::Hebb,
            Rule::Hopfield,
            Rule::Covariance,
        ] {
            for block in [0, 1, n / h] {
                let sparse = Weights::new(&s, rule, 0.3, 0.01, block).unwrap();
                let mut dense = Weights::new(&s, rule, 0.3, 0.01, block).unwrap();
                dense.build_dense();
                assert!(dense.is_dense() && !sparse.is_dense());
                // Few distinct increments (count-valued rules): one-byte codes;
                // the Bayesian increments depend on the unit counts too.
                if rule == Rule::Bayes && p > 3 {
                    assert!(!dense.is_coded(), "{rule:?}");
                } else if rule != Rule::Bayes {
                    assert!(dense.is_coded(), "{rule:?}");
                }
                for r in 0..q.len() {
                    let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
                    sparse.potentials(q.row(r), &mut a);
                    dense.potentials(q.row(r), &mut b);
                    assert_eq!(bits(&a), bits(&b), "{rule:?} block {block} auto {auto}");
                }
            }
        }
    }
}

#[test]
fn code_kernels_add_the_table_values_in_row_order() {
    use super::dense::{add_codes, CODES};
    use rand::Rng;
    let raw = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    let mut rng = stream_rng(5, 0);
    let mut values = [0.0f64; CODES];
    for v in values.iter_mut() {
        *v = rng.random_range(-3.0..3.0);
    }
    values[3] = -0.0;
    for n in [1, 7, 8, 31, 32, 33, 75, 200] {
        let m = 9;
        let codes: Vec<u8> = (0..m * n)
            .map(|_| rng.random_range(0..CODES as u8))
            .collect();
        let s: Vec<u32> = vec![0, 2, 3, 7, 8];
        let x0: Vec<f64> = (0..n).map(|j| j as f64 * 0.37 - 1.0).collect();
        // Reference: plain f64 rows added one after the other.
        let mut want = x0.clone();
        for &i in &s {
            for j in 0..n {
                want[j] += values[codes[i as usize * n + j] as usize];
            }
        }
        let mut got = x0.clone();
        add_codes(&codes, n, &s, &values, &mut got);
        assert_eq!(raw(&got), raw(&want), "portable, n = {n}");
        #[cfg(target_arch = "x86_64")]
        if crate::math::simd::has_avx512() {
            // SAFETY: AVX-512F checked; codes below 32.
            let mut wide = x0.clone();
            unsafe { super::dense::avx512::add_codes(&codes, n, &s, &values, CODES, &mut wide) };
            assert_eq!(raw(&wide), raw(&got), "avx512, n = {n}");
            // Codes below 16: the one-lookup kernel.
            let low: Vec<u8> = codes.iter().map(|&c| c % 16).collect();
            let (mut a, mut b) = (x0.clone(), x0.clone());
            add_codes(&low, n, &s, &values, &mut a);
            unsafe { super::dense::avx512::add_codes(&low, n, &s, &values, 16, &mut b) };
            assert_eq!(raw(&a), raw(&b), "avx512 narrow, n = {n}");
        }
    }
}

#[test]
fn coded_tables_switch_at_a_lower_density() {
    use super::dense::worth_it;
    // 10 % of the columns per row, many rows read: codes pay, f64 rows not.
    assert!(worth_it(1000, 1000, 100_000, 100_000, true));
    assert!(!worth_it(1000, 1000, 100_000, 100_000, false));
    // 3 %: neither; few rows read: neither.
    assert!(!worth_it(1000, 1000, 30_000, 100_000, true));
    assert!(!worth_it(1000, 1000, 900_000, 10, true));
    // A coded table may be 8x larger than f64 rows within the cap.
    let side = 8192;
    assert!(worth_it(side, side, side * side, usize::MAX / 2, true));
    assert!(!worth_it(side, side, side * side, usize::MAX / 2, false));
}

#[test]
fn hypercolumn_winners_match_the_first_largest_scan() {
    use rand::Rng;
    let mut rng = stream_rng(9, 0);
    let scan = |b: &[f64]| {
        let mut best = 0;
        for (t, v) in b.iter().enumerate() {
            if *v > b[best] {
                best = t;
            }
        }
        best as u32
    };
    let pool = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        2.5,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    for size in [1, 2, 7, 8, 9, 16, 31, 33, 64] {
        for _ in 0..400 {
            let x: Vec<f64> = (0..3 * size)
                .map(|_| pool[rng.random_range(0..pool.len())])
                .collect();
            let want: Vec<u32> = (0..3)
                .map(|g| g as u32 * size as u32 + scan(&x[g * size..(g + 1) * size]))
                .collect();
            assert_eq!(retrieval::hypercolumn_winners(&x, 3), want, "{x:?}");
        }
    }
}

#[test]
fn willshaw_integer_kernel_selects_what_the_f64_kernel_selects() {
    use retrieval::{select, Mode};
    use rules::{Rule, Weights};
    let (n, h) = (60, 6);
    for (auto, p, k) in [
        (false, 30, 5),
        (false, 400, 9),
        (true, 60, 6),
        (true, 300, 10),
    ] {
        let u = random_patterns(p, n, k, 21);
        let v = if auto {
            u.clone()
        } else {
            random_patterns(p, n, k, 22)
        };
        let q = random_patterns(25, n, 7, 23);
        for compress in [false, true] {
            let mut s = AssocStore::new(n, n, true, auto).unwrap();
            s.store(&u, &v).unwrap();
            if compress {
                s.compress();
            }
            let modes = [
                Mode::Threshold(None),
                Mode::Threshold(Some(2.5)),
                Mode::Threshold(Some(-1.0)),
                Mode::Threshold(Some(1e9)),
                Mode::Wta(0),
                Mode::Wta(3),
                Mode::Wta(n),
                Mode::Hypercolumn(h),
            ];
            for mode in modes {
                let block = retrieval::self_block(&s, mode);
                let w = Weights::new(&s, Rule::Willshaw, 0.0, 0.0, block).unwrap();
                for r in 0..q.len() {
                    let st = q.row(r);
                    let mut x = vec![0.0; n];
                    w.potentials(st, &mut x);
                    let want = select(&x, mode, Rule::Willshaw, st.len());
                    let mut c8 = vec![0u8; n];
                    willshaw::potentials(&s, st, block, &mut c8);
                    assert_eq!(c8.iter().map(|&c| c as f64).collect::<Vec<_>>(), x);
                    assert_eq!(willshaw::select(&c8, mode, st.len()), want, "{mode:?}");
                    // The u16 counter (states over 255 units) on the same state.
                    let mut c16 = vec![0u16; n];
                    willshaw::potentials(&s, st, block, &mut c16);
                    assert_eq!(willshaw::select(&c16, mode, st.len()), want, "{mode:?}");
                }
            }
        }
    }
}

#[test]
fn counters_match_dense_when_rows_are_counting_sorted() {
    // Many co-activations per address unit on few content units: the
    // counting sort path of storing (and the comparison sort in the first,
    // small batch).
    let u = random_patterns(500, 30, 6, 31);
    let v = random_patterns(500, 24, 5, 32);
    let mut s = AssocStore::new(30, 24, false, false).unwrap();
    let mut b = AssocStore::new(30, 24, true, false).unwrap();
    // A column shard (content units 7..19), also counted through histograms.
    let mut c = AssocStore::new(30, 24, false, false).unwrap();
    for (a, z) in [(0, 3), (3, 200), (200, 500)] {
        let rows = |p: &Patterns| (a..z).map(|r| p.row(r).to_vec()).collect::<Vec<_>>();
        let uu = Patterns::from_rows(30, &rows(&u)).unwrap();
        let vv = Patterns::from_rows(24, &rows(&v)).unwrap();
        in_pool(2, || s.store(&uu, &vv)).unwrap();
        in_pool(1, || b.store(&uu, &vv)).unwrap();
        in_pool(1, || c.store_columns(&uu, &vv, 7, 19)).unwrap();
    }
    let d = dense_m11(&u, &v);
    for i in 0..30 {
        for j in 0..24 {
            assert_eq!(s.m11(i, j), d[i * 24 + j]);
            assert_eq!(b.m11(i, j), u64::from(d[i * 24 + j] > 0));
            let shard = if (7..19).contains(&j) {
                d[i * 24 + j]
            } else {
                0
            };
            assert_eq!(c.m11(i, j), shard);
        }
    }
    assert_eq!(s.counters().writes, 500 * 6 * 5);
    assert_eq!(
        s.counters().grown,
        d.iter().filter(|&&x| x > 0).count() as u64
    );
}

#[test]
fn willshaw_intersection_selects_what_counting_selects() {
    use retrieval::{select, Mode};
    use rules::{Rule, Weights};
    let n = 200;
    for (p, k, seed) in [(40, 8, 41), (300, 10, 42), (1500, 12, 43)] {
        let u = random_patterns(p, n, k, seed);
        let v = random_patterns(p, n, k, seed + 1);
        let mut s = AssocStore::new(n, n, true, false).unwrap();
        s.store(&u, &v).unwrap();
        // Clean, partial and noisy queries of several sizes.
        let mut qs: Vec<Vec<u32>> = (0..30).map(|r| u.row(r).to_vec()).collect();
        qs.extend((0..30).map(|r| u.row(r)[..k / 2].to_vec()));
        let noisy = random_patterns(30, n, 9, seed + 2);
        qs.extend((0..30).map(|r| noisy.row(r).to_vec()));
        qs.push(Vec::new());
        let w = Weights::new(&s, Rule::Willshaw, 0.0, 0.0, 0).unwrap();
        for st in &qs {
            let mut x = vec![0.0; n];
            w.potentials(st, &mut x);
            for miss in 0..=4usize {
                let t = st.len() as f64 - miss as f64 - 0.25 * (miss % 2) as f64;
                let want = select(&x, Mode::Threshold(Some(t)), Rule::Willshaw, st.len());
                match willshaw::by_intersection(&s, st, t) {
                    Some(got) => assert_eq!(got, want, "t = {t}, |s| = {}", st.len()),
                    None => assert!(t <= 0.0 || st.len() as f64 - t.ceil() > 3.0),
                }
            }
        }
    }
}

#[test]
fn seek_finds_the_first_position_not_below() {
    use rand::Rng;
    let mut rng = stream_rng(61, 0);
    for len in [0usize, 1, 2, 7, 100, 1000] {
        let n = 5000;
        let mut row: Vec<u32> = (0..len).map(|_| rng.random_range(0..n as u32)).collect();
        row.sort_unstable();
        row.dedup();
        for _ in 0..200 {
            let from = rng.random_range(0..=row.len());
            let v = rng.random_range(0..n as u32 + 1);
            let want = from + row[from..].partition_point(|&x| x < v);
            assert_eq!(
                willshaw::seek(&row, from, v, n),
                want,
                "len {len} from {from} v {v}"
            );
        }
    }
}
