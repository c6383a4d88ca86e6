"""Associative memories against a dense NumPy reference and closed-form theory."""

import numpy as np
import pytest
import scipy.sparse as sp

import synaplast
from synaplast import memory as mem

FLOOR = 1e-4
RULES = ["willshaw", "bayes", "bcpnn", "covariance", "hebb", "hopfield"]


# ----------------------------------------------------------------------------- reference


def ref_weights(U, V, rule, p01=0.0, p10=0.0, block=0):
    """Dense weights and bias of every rule, straight from the formulas."""
    U = U.astype(np.float64)
    V = U if V is None else V.astype(np.float64)
    M = U.shape[0]
    m, n = U.shape[1], V.shape[1]
    M11 = U.T @ V
    c = U.sum(0)[:, None]
    d = V.sum(0)[None, :]
    bias = np.zeros(n)
    if rule == "willshaw":
        W = (M11 > 0).astype(np.float64)
    elif rule == "hebb":
        W = M11
    elif rule == "hopfield":
        W = (2 * U - 1).T @ (2 * V - 1)
    elif rule == "covariance":
        W = (U - U.mean()).T @ (V - V.mean())
    elif rule == "bcpnn":
        eps = 1 / (M + 1)
        pi = np.maximum(c / M, eps)
        pj = np.maximum(d / M, eps)
        W = np.log(np.maximum(M11 / M, eps * eps) / (pi * pj))
        bias = np.log(pj[0])
    elif rule == "bayes":
        M10, M01 = c - M11, d - M11
        M00 = M - c - d + M11
        T1 = np.maximum(M11 * (1 - p01) + M01 * p10, FLOOR)
        T2 = np.maximum(M00 * (1 - p10) + M10 * p01, FLOOR)
        T3 = np.maximum(M10 * (1 - p01) + M00 * p10, FLOOR)
        T4 = np.maximum(M01 * (1 - p10) + M11 * p01, FLOOR)
        W = np.log(T1 * T2 / (T3 * T4))
        G = np.log(T4 / T2)
    mask = np.zeros((m, n), bool)
    keep_diag = rule in ("willshaw", "bayes")
    if block:
        ids = np.arange(n) // block
        mask = ids[:, None] == ids[None, :]
        if keep_diag:
            mask &= ~np.eye(n, dtype=bool)
        W = np.where(mask, 0.0, W)
    if rule == "bayes":
        m_eff = m - mask.sum(0)
        d0 = d[0]
        bias = (1 - m_eff) * np.log(np.maximum(d0, FLOOR) / np.maximum(M - d0, FLOOR))
        bias += np.where(mask, 0.0, G).sum(0)
        bias[d0 == 0] = -np.inf
        bias[d0 == M] = np.inf
    return W, bias


TIE = 1e-9


def ref_select(x, retrieval, rule, active, threshold=None, l=None, h=None):  # noqa: E741
    """Selected units and whether the choice is determined (no unit within
    TIE of the decision, so float summation order cannot change it)."""
    fin = np.abs(x[np.isfinite(x)])
    tol = TIE * max(1.0, fin.max() if fin.size else 1.0)
    # Integer-valued rules sum exactly, so their exact ties are reproduced.
    exact = rule in ("willshaw", "hebb", "hopfield")
    if retrieval == "threshold":
        t = threshold if threshold is not None else (active if rule == "willshaw" else 0.0)
        near = np.abs(x - t) < tol
        return x >= t, not (near & ((x != t) | (not exact))).any()
    if retrieval == "wta":
        if l == 0:
            return np.zeros_like(x, bool), True
        t = np.sort(x)[::-1][l - 1]
        near = np.abs(x - t) < tol
        # exact (integer) ties are reproduced exactly; float near-ties are not
        if exact:
            return x >= t, not (near & (x != t)).any()
        return x >= t, near.sum() == 1
    size = x.size // h
    y = np.zeros_like(x, bool)
    ok = True
    for g in range(h):
        blk = x[g * size : (g + 1) * size]
        y[g * size + np.argmax(blk)] = True
        top = np.sort(blk)[::-1]
        ok &= top.size < 2 or top[0] - top[1] > tol or (exact and top[0] == top[1])
    return y, ok


def ref_ane(x, y, mean_act):
    P = 1 / (1 + np.exp(-x))
    miss = P[~y].sum()
    add = (1 - P[y]).sum()

    def half(e):
        return max(np.round(2 * e), 1.0) / 2

    return min(half(miss) / max(mean_act, 1), 0.999), min(
        half(add) / max(x.size - mean_act, 1), 0.999
    )


def ref_retrieve(U, V, Q, rule, retrieval="threshold", threshold=None, l=None, h=None,  # noqa: E741
                 n_iter=1, adaptive=False, p01=0.0, p10=0.0):  # fmt: skip
    auto = V is None
    n = U.shape[1] if auto else V.shape[1]
    block = (n // h if retrieval == "hypercolumn" else 1) if auto else 0
    out, determined = [], []
    mean_act = (U if auto else V).sum() / U.shape[0]
    cache = {}

    def weights(a, b):
        if (a, b) not in cache:
            cache[(a, b)] = ref_weights(U, V, rule, a, b, block)
        return cache[(a, b)]

    for q in Q.astype(bool):
        s = q
        ok = True
        noise = (p01, p10)
        for _ in range(n_iter):
            W, b = weights(*noise) if adaptive and rule == "bayes" else weights(p01, p10)
            x = np.zeros(n)
            for i in np.nonzero(s)[0]:
                x += W[i]
            x += b
            y, det = ref_select(x, retrieval, rule, s.sum(), threshold, l, h)
            ok &= det
            if adaptive and rule == "bayes":
                noise = ref_ane(x, y, mean_act)
            stable = auto and np.array_equal(y, s)
            s = y
            if stable:
                break
        out.append(s)
        determined.append(ok)
    return np.array(out, dtype=np.uint8), np.array(determined)


def ref_anchored(U, Q, retrieval, l=None, n_iter=1, adaptive=False, p01=0.0, p10=0.0):  # noqa: E741
    """Query-anchored Bayesian retrieval, from the observation model: the
    potential is the log posterior odds of the query bits (rates p01, p10)
    plus, from step 2 on, of the state bits of the units outside the query
    (the added part's rates), each unit's own state bit left out."""
    U = U.astype(np.float64)
    M, n = U.shape
    M11 = U.T @ U
    c = U.sum(0)[:, None]
    d = U.sum(0)[None, :]
    M10, M01, M00 = c - M11, d - M11, M - c - d + M11
    ln1 = np.log(np.maximum(d, FLOOR))
    ln0 = np.log(np.maximum(M - d, FLOOR))
    prior = (ln1 - ln0)[0]
    mean_act = U.sum() / M

    def lik(a01, a10):
        L1 = np.log(np.maximum(M11 * (1 - a01) + M01 * a10, FLOOR)) - ln1
        L1 -= np.log(np.maximum(M10 * (1 - a01) + M00 * a10, FLOOR)) - ln0
        L0 = np.log(np.maximum(M11 * a01 + M01 * (1 - a10), FLOOR)) - ln1
        L0 -= np.log(np.maximum(M10 * a01 + M00 * (1 - a10), FLOOR)) - ln0
        return L1, L0

    def fix(x):
        x[d[0] == 0] = -np.inf
        x[d[0] == M] = np.inf
        return x

    def half(e):
        return max(np.round(2 * e), 1.0) / 2

    Lq1, Lq0 = lik(p01, p10)
    out, determined = [], []
    for q in Q.astype(bool):
        xq = fix(prior + np.where(q[:, None], Lq1, Lq0).sum(0))
        x, ok = xq, True
        y, det = ref_select(x, retrieval, "bayes", q.sum(), None, l)
        ok &= det
        rates = (p01, p10)
        for _ in range(n_iter - 1):
            if adaptive:
                P = 1 / (1 + np.exp(-x))
                rates = (
                    min(half(P[~y & ~q].sum()) / max(p01 * mean_act, 1), 0.999),
                    min(half((1 - P[y & ~q]).sum()) / max((n - mean_act) * (1 - p10), 1), 0.999),
                )
            L1, L0 = lik(*rates)
            E = np.where(y[:, None], L1, L0)
            E[q] = 0.0
            np.fill_diagonal(E, 0.0)
            x = fix(xq + E.sum(0))
            nxt, det = ref_select(x, retrieval, "bayes", y.sum(), None, l)
            ok &= det
            stable = np.array_equal(nxt, y)
            y = nxt
            if stable:
                break
        out.append(y)
        determined.append(ok)
    return np.array(out, dtype=np.uint8), np.array(determined)


# ----------------------------------------------------------------------------- data


@pytest.fixture(scope="module")
def hetero():
    U = mem.exact_k_patterns(40, 30, 4, 1)
    V = mem.exact_k_patterns(40, 24, 3, 2)
    Q = mem.noisy_queries(U[:15], miss=1, add=1, random_state=3)
    return U, V, Q


@pytest.fixture(scope="module")
def auto():
    U = mem.exact_k_patterns(30, 40, 5, 4)
    Q = mem.noisy_queries(U[:15], miss=2, add=1, random_state=5)
    return U, Q


def assert_same(got, ref):
    """Equal on every query whose reference retrieval is determined (no
    near-tie within 1e-9); near-ties must be rare."""
    want, det = ref
    assert got.shape == want.shape
    assert det.mean() >= 0.7, "too many near-ties for a meaningful comparison"
    np.testing.assert_array_equal(got[det], want[det])


# ----------------------------------------------------------------------------- rules


@pytest.mark.parametrize("rule", RULES)
def test_potentials_match_dense_reference_hetero(hetero, rule):
    U, V, Q = hetero
    est = synaplast.AssociativeMemory(rule=rule, retrieval="wta", p01=0.2, p10=0.05).fit(U, V)
    W, b = ref_weights(U, V, rule, 0.2, 0.05)
    x_ref = Q @ W + b
    np.testing.assert_allclose(est.decision_function(Q), x_ref, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("rule", RULES)
def test_potentials_match_dense_reference_auto(auto, rule):
    U, Q = auto
    est = synaplast.AssociativeMemory(rule=rule, retrieval="wta", p01=0.3).fit(U)
    W, b = ref_weights(U, None, rule, 0.3, 0.0, block=1)
    np.testing.assert_allclose(est.decision_function(Q), Q @ W + b, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("retrieval", ["threshold", "wta"])
def test_one_step_retrieval_matches_reference(hetero, rule, retrieval):
    U, V, Q = hetero
    kw = {}
    if retrieval == "threshold" and rule not in ("willshaw", "bayes"):
        kw["threshold"] = 1.5
    est = synaplast.AssociativeMemory(rule=rule, retrieval=retrieval, l=3, p01=0.25, p10=0.04, **kw)
    est.fit(U, V)
    want = ref_retrieve(U, V, Q, rule, retrieval, l=3, p01=0.25, p10=0.04, **kw)
    assert_same(est.predict(Q), want)


# Covariance potentials of units with equal counts tie up to rounding, so
# iterated float comparisons are mostly undetermined: it is checked by
# composing one-step retrievals below instead.
@pytest.mark.parametrize("rule", [r for r in RULES if r != "covariance"])
@pytest.mark.parametrize("adaptive", [False, True])
def test_iterative_wta_retrieval_matches_reference(auto, rule, adaptive):
    U, Q = auto
    est = synaplast.AssociativeMemory(
        rule=rule, retrieval="wta", l=5, n_iter=4, p01=0.4, p10=0.02,
        noise_estimation="adaptive" if adaptive else None,
    )  # fmt: skip
    est.fit(U)
    want = ref_retrieve(
        U, None, Q, rule, "wta", l=5, n_iter=4, adaptive=adaptive, p01=0.4, p10=0.02
    )
    assert_same(est.predict(Q), want)


@pytest.mark.parametrize("rule", RULES)
def test_iterations_compose_one_step_retrievals(auto, rule):
    U, Q = auto
    kw = dict(rule=rule, retrieval="wta", l=5, p01=0.4, p10=0.02)
    one = synaplast.AssociativeMemory(n_iter=1, **kw).fit(U)
    many, iters, _ = synaplast.AssociativeMemory(n_iter=4, **kw).fit(U).retrieve(Q)
    state = Q.copy()
    steps = np.zeros(len(Q), int)
    live = np.ones(len(Q), bool)
    for _ in range(4):
        nxt = one.predict(state)
        steps += live
        stable = (nxt == state).all(1)
        state = np.where(live[:, None], nxt, state)
        live &= ~stable
    np.testing.assert_array_equal(many, state)
    np.testing.assert_array_equal(iters, steps)


def test_bayes_threshold_iterative_with_ane_matches_reference(auto):
    U, Q = auto
    kw = dict(rule="bayes", retrieval="threshold", n_iter=5, p01=0.4, p10=0.025)
    est = synaplast.AssociativeMemory(noise_estimation="adaptive", **kw).fit(U)
    want = ref_retrieve(
        U, None, Q, "bayes", "threshold", n_iter=5, adaptive=True, p01=0.4, p10=0.025
    )
    assert_same(est.predict(Q), want)
    plain = synaplast.AssociativeMemory(**kw).fit(U).predict(Q)
    assert not np.array_equal(plain, est.predict(Q))
    want_plain = ref_retrieve(U, None, Q, "bayes", "threshold", n_iter=5, p01=0.4, p10=0.025)
    assert_same(plain, want_plain)


@pytest.mark.parametrize("rule", ["bcpnn", "willshaw", "bayes", "hebb"])
def test_hypercolumn_retrieval_matches_reference(rule):
    P = mem.hypercolumn_patterns(40, 6, 5, 0)
    Q = mem.corrupt_hypercolumns(P, 6, 2, 1)
    est = synaplast.AssociativeMemory(
        rule=rule, retrieval="hypercolumn", n_hypercolumns=6, n_iter=5, p01=0.3, p10=0.05
    ).fit(P)
    want = ref_retrieve(P, None, Q, rule, "hypercolumn", h=6, n_iter=5, p01=0.3, p10=0.05)
    assert_same(est.predict(Q), want)
    W, b = ref_weights(P, None, rule, 0.3, 0.05, block=5)
    np.testing.assert_allclose(est.decision_function(Q), Q @ W + b, rtol=1e-9, atol=1e-9)


def test_partial_fit_equals_fit_and_sparse_equals_dense(hetero):
    U, V, Q = hetero
    for rule in ("bayes", "willshaw", "covariance"):
        a = synaplast.AssociativeMemory(rule=rule, retrieval="wta", l=3).fit(U, V)
        b = synaplast.AssociativeMemory(rule=rule, retrieval="wta", l=3)
        b.partial_fit(U[:17], V[:17]).partial_fit(U[17:], V[17:])
        np.testing.assert_allclose(a.decision_function(Q), b.decision_function(Q), rtol=1e-12)
        c = synaplast.AssociativeMemory(rule=rule, retrieval="wta", l=3)
        c.fit(sp.csr_matrix(U), sp.csr_array(V))
        out = c.predict(sp.csr_matrix(Q))
        assert sp.issparse(out)
        np.testing.assert_array_equal(out.toarray(), a.predict(Q))


def test_compress_is_lossless_and_inverts_dense_willshaw():
    U = mem.exact_k_patterns(150, 40, 6, 3)
    Q = mem.noisy_queries(U[:20], miss=2, random_state=1)
    plain = synaplast.AssociativeMemory(retrieval="wta", l=6, n_iter=3).fit(U)
    comp = synaplast.AssociativeMemory(retrieval="wta", l=6, n_iter=3, compress=True).fit(U)
    assert plain.p1_ > 0.5
    assert comp.capacity_.details["inverted"]
    np.testing.assert_array_equal(plain.predict(Q), comp.predict(Q))
    np.testing.assert_array_equal(plain.decision_function(Q), comp.decision_function(Q))
    nonsilent = round(plain.p1_ * 1600)
    assert comp.capacity_.n_synapses == 1600 - nonsilent
    assert plain.capacity_.n_synapses == plain.capacity_.n_potential
    assert comp.capacity_.details["C_S"] == pytest.approx(
        comp.capacity_.bits_per_synapse / (1 - comp.p1_)
    )
    # more pairs into the inverted store
    comp.partial_fit(U[:5])
    W, _ = ref_weights(U, None, "willshaw")
    assert comp.p1_ == pytest.approx(W.mean())


def test_willshaw_counters_and_energy(hetero):
    U, V, _ = hetero
    est = synaplast.AssociativeMemory().fit(U, V)
    W, _ = ref_weights(U, V, "willshaw")
    assert est.p1_ == pytest.approx(W.mean())
    assert est.energy_.writes == W.sum()
    assert est.energy_.write_inefficiency == 1.0
    cnt = synaplast.AssociativeMemory(rule="hebb", threshold=1).fit(U, V)
    assert cnt.energy_.writes == 40 * 4 * 3
    assert cnt.energy_.min_writes == W.sum()


# ----------------------------------------------------------------------------- theory


def test_willshaw_theory_table():
    t = mem.willshaw_theory(1000, 1000, 10, 10, 0.01)
    assert t["p1"] == pytest.approx(0.399, abs=0.001)
    assert t["M_eps"] == pytest.approx(5083, abs=1)
    assert t["C"] == pytest.approx(0.41, abs=0.005)
    assert t["C_S"] == pytest.approx(1.02, abs=0.005)
    t5 = mem.willshaw_theory(1000, 1000, 5, 5, 0.01)
    assert t5["p1"] == pytest.approx(0.138, abs=0.001)
    assert t5["M_eps"] == pytest.approx(5945, rel=0.002)
    assert t5["C"] == pytest.approx(0.27, abs=0.005)
    assert t5["C_S"] == pytest.approx(1.94, abs=0.01)
    assert mem.willshaw_theory(10_000, 10_000, 13, 13, 0.01)["C"] == pytest.approx(0.46, abs=0.01)
    t17 = mem.willshaw_theory(100_000, 100_000, 17, 17, 0.01)
    assert t17["M_eps"] == pytest.approx(2.1e7, rel=0.03)
    assert t17["C"] == pytest.approx(0.50, abs=0.01)


def test_willshaw_measured_noise_near_finite_size_monte_carlo():
    # Reduced size: n = 500, k = 8; theory p1 and the finite-size noise.
    t = mem.willshaw_theory(500, 500, 8, 8, 0.01)
    M = int(t["M_eps"])
    U = mem.exact_k_patterns(M, 500, 8, 11, sparse=True)
    V = mem.exact_k_patterns(M, 500, 8, 12, sparse=True)
    est = synaplast.AssociativeMemory().fit(U, V)
    assert est.p1_ == pytest.approx(t["p1"], abs=0.01)
    eps = mem.output_noise(est.predict(U), V).mean()
    # exact false-alarm rate at the measured load, averaged over units
    assert 0.008 < eps < 0.03


def test_transinformation_and_output_noise():
    assert mem.transinformation(0.5, 0.0, 0.0) == pytest.approx(1.0)
    assert mem.transinformation(0.1, 0.5, 0.5 * 0.1 / 0.9 * 0.0) > 0
    assert mem.transinformation(0.3, 0.3, 0.3) < mem.transinformation(0.3, 0.1, 0.1)
    assert mem.transinformation(0.2, 1.0, 0.0) == pytest.approx(0.0)
    Y = np.array([[1, 1, 0, 0], [0, 0, 1, 1]])
    T = np.array([[1, 0, 0, 0], [0, 0, 1, 1]])
    np.testing.assert_allclose(mem.output_noise(Y, T), [1.0, 0.0])


def test_generators():
    P = mem.exact_k_patterns(300, 50, 7, 0)
    assert P.shape == (300, 50) and (P.sum(1) == 7).all()
    big = mem.exact_k_patterns(10, 100_000, 17, 0, sparse=True)
    assert big.shape == (10, 100_000) and (np.diff(big.indptr) == 17).all()
    dense_k = mem.exact_k_patterns(20, 10, 9, 1)
    assert (dense_k.sum(1) == 9).all()
    B = mem.bernoulli_patterns(2000, 40, 0.1, 0)
    assert abs(B.mean() - 0.1) < 0.01
    H = mem.hypercolumn_patterns(50, 4, 8, 0)
    assert (H.reshape(50, 4, 8).sum(2) == 1).all()
    C = mem.corrupt_hypercolumns(H, 4, 2, 0)
    assert ((C != H).reshape(50, 4, 8).any(2).sum(1) == 2).all()
    Q = mem.noisy_queries(P, miss=3, add=2, random_state=0)
    assert (Q.sum(1) == 6).all()
    assert ((P == 1) & (Q == 1)).sum(1).min() == 4
    assert np.array_equal(mem.exact_k_patterns(5, 30, 4, 7), mem.exact_k_patterns(5, 30, 4, 7))


def test_measure_capacity_bisects_near_theory():
    task = mem.RecallTask(m=300, k=6, n=300, l=6, n_queries=300)
    res = mem.measure_capacity(synaplast.AssociativeMemory(), task, eps=0.05, rtol=0.05)
    t = mem.willshaw_theory(300, 300, 6, 6, 0.05)
    assert 0.6 * t["M_eps"] < res.M_eps < 1.2 * t["M_eps"]
    assert res.noise <= 0.05
    above = [e for e in res.evaluations if e[0] > res.M_eps]
    assert above and min(above)[1] > 0.05
    assert 0 < res.C < 0.7 and res.C_S > res.C


def test_threads_do_not_change_results(auto):
    U, Q = auto
    est = synaplast.AssociativeMemory(
        rule="bayes", retrieval="wta", l=5, n_iter=4, p01=0.3, noise_estimation="adaptive"
    ).fit(U)
    with synaplast.threads(1):
        a = est.predict(Q)
    with synaplast.threads(2):
        b = est.predict(Q)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("retrieval", ["wta", "threshold"])
@pytest.mark.parametrize("adaptive", [False, True])
def test_anchored_bayes_retrieval_matches_reference(auto, retrieval, adaptive):
    U, Q = auto
    kw = dict(rule="bayes", retrieval=retrieval, l=5, n_iter=4, p01=0.4, p10=0.02)
    est = synaplast.AssociativeMemory(
        anchor=True, noise_estimation="adaptive" if adaptive else None, **kw
    ).fit(U)
    want = ref_anchored(U, Q, retrieval, l=5, n_iter=4, adaptive=adaptive, p01=0.4, p10=0.02)
    assert_same(est.predict(Q), want)
    # one step: anchoring changes nothing
    one = dict(kw, n_iter=1)
    np.testing.assert_array_equal(
        synaplast.AssociativeMemory(anchor=True, **one).fit(U).predict(Q),
        synaplast.AssociativeMemory(**one).fit(U).predict(Q),
    )


def test_anchored_bayes_with_ane_beats_plain_iteration():
    # Half cues at a load where the iterations matter (n = 300, k = 8).
    U = mem.exact_k_patterns(420, 300, 8, 11)
    Q = mem.noisy_queries(U[:200], miss=4, add=0, random_state=12)
    kw = dict(rule="bayes", retrieval="wta", l=8, n_iter=5, p01=0.5)
    noise = {}
    for name, extra in {
        "plain": {},
        "plain_ane": dict(noise_estimation="adaptive"),
        "anchored_ane": dict(anchor=True, noise_estimation="adaptive"),
    }.items():
        Y = synaplast.AssociativeMemory(**kw, **extra).fit(U).predict(Q)
        noise[name] = mem.output_noise(Y, U[:200]).mean()
    assert noise["anchored_ane"] < noise["plain"]
    assert noise["anchored_ane"] < noise["plain_ane"]


def test_anchor_validation():
    U = mem.exact_k_patterns(20, 30, 4, 1)
    with pytest.raises(ValueError, match="anchor"):
        synaplast.AssociativeMemory(rule="willshaw", anchor=True).fit(U)
    with pytest.raises(ValueError, match="anchor"):
        synaplast.AssociativeMemory(
            rule="bayes", anchor=True, retrieval="hypercolumn", n_hypercolumns=5
        ).fit(U)
    with pytest.raises(TypeError, match="anchor"):
        synaplast.AssociativeMemory(rule="bayes", anchor="yes").fit(U)
    est = synaplast.AssociativeMemory(rule="bayes", anchor=True).fit(U, U[:, ::-1].copy())
    with pytest.raises(ValueError, match="anchor"):
        est.predict(U[:3])
