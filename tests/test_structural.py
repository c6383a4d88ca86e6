"""StructuralPlasticityClassifier: rules against dense NumPy references,
counts against recounts, invariants, determinism, errors, scikit-learn API."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import synaplast
from conftest import bfloat16, f_act, hidden_params, structural_net, toy
from synaplast.analysis import dale_compliance, lognormal_fit, weight_statistics
from synaplast.structural import StructuralPlasticityClassifier as SPC


def hidden_reference(W, theta, beta, X, k, eta, eta_th, eta_b, rho, w_max):
    """One mini-batch of the hidden rules on a dense weight matrix."""
    mask = W != 0
    u = X @ W.T - theta
    norm = np.maximum(np.sqrt((W**2).sum(1)), 1e-6)
    score = (X @ W.T) / norm - beta
    y = np.zeros_like(u)
    for b in range(X.shape[0]):
        order = sorted(range(W.shape[0]), key=lambda i: (-score[b, i], i))[:k]
        y[b, order] = 1.0
    c = y.sum(0)
    dW = eta * (y.T @ X - c[:, None] * W)
    W1 = np.where(mask, np.clip(W + dW, 0, w_max), 0)
    theta1 = theta + eta_th * ((u > 0).mean(0) - rho)
    beta1 = beta + eta_b * (y.mean(0) - k / W.shape[0])
    return W1, theta1, beta1


def test_hidden_rules_equal_dense_reference():
    X, _ = toy(n=12, d=10)
    net = structural_net(10, 6, 3, 7, 0.01, 0.4, 5)
    W0 = net.hidden.to_dense().astype(np.float64)
    theta0 = net.theta.astype(np.float64)
    W1, th1, b1 = hidden_reference(
        W0, theta0, np.zeros(6), X.astype(np.float64), 2, 0.1, 0.05, 0.5, 0.3, 0.5
    )
    order = np.arange(12, dtype=np.int64)
    net.hidden_epoch(X, order, hidden_params(2, 0.1, 0.05, 0.5, 0.3, 0.5, None), 12, False)
    np.testing.assert_allclose(net.hidden.to_dense(), W1, atol=1e-5)
    np.testing.assert_allclose(net.theta, th1, atol=1e-6)
    np.testing.assert_allclose(net.beta, b1, atol=1e-6)
    # energy counters: writes = synapses that changed, abs_change = Σ|Δw|
    writes, abs_change, grown, pruned = net.hidden.counters
    changed = (W1 != W0) & (W0 != 0)
    assert writes == int(changed.sum())
    assert abs_change == pytest.approx(np.abs(W1 - W0).sum(), rel=1e-4)
    assert grown == 0 and pruned == 0


def test_two_batches_equal_sequential_reference():
    X, _ = toy(n=8, d=6)
    net = structural_net(6, 4, 2, 6, 0.05, 0.3, 1)
    W = net.hidden.to_dense().astype(np.float64)
    th, be = np.zeros(4), np.zeros(4)
    order = np.array([3, 1, 0, 2, 7, 5, 4, 6], dtype=np.int64)
    for chunk in (order[:4], order[4:]):
        W, th, be = hidden_reference(
            W, th, be, X[chunk].astype(np.float64), 1, 0.2, 0.1, 0.3, 0.25, 1.0
        )
    net.hidden_epoch(X, order, hidden_params(1, 0.2, 0.1, 0.3, 0.25, 1.0, None), 4, False)
    np.testing.assert_allclose(net.hidden.to_dense(), W, atol=1e-5)
    np.testing.assert_allclose(net.theta, th, atol=1e-6)
    np.testing.assert_allclose(net.beta, be, atol=1e-6)


def test_consolidated_synapses_are_frozen():
    X, _ = toy(n=10, d=8)
    net = structural_net(8, 3, 2, 8, 0.01, 0.4, 2)
    W0 = net.hidden.to_dense()
    order = np.arange(10, dtype=np.int64)
    net.hidden_epoch(X, order, hidden_params(3, 0.2, 0.0, 0.0, 0.5, 1.0, 0.3), 10, False)
    W1 = net.hidden.to_dense()
    frozen = W0 >= 0.3
    assert frozen.any()
    np.testing.assert_array_equal(W1[frozen], W0[frozen])


def test_structural_step_prunes_grows_and_counts():
    X, _ = toy(n=60, d=20)
    net = structural_net(20, 5, 3, 12, 0.0, 0.05, 3)
    before = net.hidden.to_dense()
    order = np.arange(60, dtype=np.int64)
    net.hidden_epoch(X, order, hidden_params(1, 0.3, 0.05, 0.5, 0.2, 1.0, None), 10, True)
    trace = net.trace.reshape(5, 20).copy()
    W = net.hidden.to_dense()
    stored = net.hidden.nnz  # synapses in storage, some may have weight exactly 0
    pruned = net.prune({"silent_threshold": 0.02, "max_per_unit": 6})
    W2 = net.hidden.to_dense()
    # independent recount: silent ones gone, at most 6 per unit, the strongest kept
    for i in range(5):
        alive = W[i][(W[i] >= 0.02)]
        keep = np.sort(alive)[::-1][:6]
        np.testing.assert_allclose(np.sort(W2[i][W2[i] != 0])[::-1], keep[keep != 0])
    assert pruned == stored - int((W2 != 0).sum())
    assert net.hidden.nnz == int(np.count_nonzero(W2))
    assert net.hidden.counters[3] == pruned
    # co-activity growth: new synapses where the trace is largest among absent positions
    grown = net.grow({"n_grow": 2, "growth": "coactivity", "init_weights": (0.01, 0.01), "seed": 1})
    W3 = net.hidden.to_dense()
    new = (W3 != 0) & (W2 == 0)
    assert grown == int(new.sum())
    for i in range(5):
        absent = np.flatnonzero((W2[i] == 0) & (trace[i] > 0))
        best = absent[np.argsort(-trace[i][absent], kind="stable")][:2]
        if best.size:  # units that never won grow at random positions instead
            assert set(np.flatnonzero(new[i])) == set(best)
        assert new[i].sum() == min(2, int((W2[i] == 0).sum()))
    net.hidden.check_invariants()
    assert (net.hidden.weights >= 0).all()
    assert before.shape == W3.shape
    # the trace, once used, is freed until the next tracking epoch
    assert net.trace.size == 0
    net.hidden_epoch(X, order, hidden_params(1, 0.3, 0.05, 0.5, 0.2, 1.0, None), 10, True)
    assert net.trace.size == 100


def test_fitted_model_keeps_no_trace_until_partial_fit():
    X, y = toy(n=200, d=20)
    est = SPC(n_hidden=30, random_state=0).fit(X, y)
    # no growth follows fit's last epoch: no co-activity trace is kept
    assert est._net.trace.size == 0
    est.partial_fit(X, y)
    assert est._net.trace.size == 30 * est.encoder_.n_channels_


def test_readout_delta_rule_equals_reference():
    X, y = toy(n=9, d=7)
    net = structural_net(7, 5, 3, 7, 0.05, 0.3, 4)
    # (the readout trains on its stored code: the activities in bfloat16)
    H = bfloat16(net.transform(X)).astype(np.float64)
    V = np.zeros((3, 5))
    bvec = np.zeros(3)
    for chunk in (np.arange(5), np.arange(5, 9)):
        z = H[chunk] @ V.T + bvec
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        err = np.eye(3)[y[chunk]] - p
        V += 0.3 / len(chunk) * err.T @ H[chunk] - 0.3 * 0.01 * V
        bvec += 0.3 / len(chunk) * err.sum(0)
    step = {"rate": 0.3, "batch_size": 5, "l2": 0.01}
    net.readout_epoch(X, y.astype(np.int64), np.arange(9, dtype=np.int64), step)
    np.testing.assert_allclose(net.readout, V, atol=1e-5)
    np.testing.assert_allclose(net.readout_bias, bvec, atol=1e-5)


def test_centred_readout_with_dead_zone_equals_reference():
    """The covariance form of the delta rule, ``ΔV = η/B Σ_b e_b (h_b − m)``
    with ``m`` the mean of the stored code, samples with every ``|e| <
    1e-3`` left out (the dead zone), against dense NumPy in float64."""
    X, y = toy(n=60, d=12)
    net = structural_net(12, 20, 3, 4, 0.05, 0.3, 4)
    H = bfloat16(net.transform(X)).astype(np.float64)
    m = H.mean(0)
    T = np.eye(3)[y]
    rates, l2, n = [20.0] * 30, 1e-4, len(y)
    V, cp = np.zeros((3, 20)), np.zeros(3)  # cp: the bias of the centred form
    gated = 0
    for rate in rates:
        z = cp + (H - m) @ V.T
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        err = T - p
        open_ = (np.abs(err) >= 1e-3).any(1)
        gated += int((~open_).sum())
        V = (1 - rate * l2) * V + rate / n * err[open_].T @ (H[open_] - m)
        cp += rate / n * err[open_].sum(0)
    assert 0 < gated < n * len(rates)  # the dead zone is exercised
    schedule = {
        "rates": rates,
        "batch_size": n,
        "l2": l2,
        "tol": 0.0,
        "n_iter_no_change": 0,
        "seed": 0,
        "average_from": None,
        "centre": True,
    }
    net.readout_fit(X, y.astype(np.int64), schedule)
    np.testing.assert_allclose(net.readout, V, atol=1e-4)
    # the fit ends in the usual form: z = c + V h
    np.testing.assert_allclose(net.readout_bias, cp - V @ m, atol=1e-4)


def test_transform_is_rectified_sigmoid():
    X, y = toy()
    est = SPC(n_hidden=12, max_iter=2, readout_max_iter=2, direct_input=True, random_state=0)
    est.fit(X, y)
    W = est.synapses_.to_dense().astype(np.float64)
    R = est.encoder_.transform(X).astype(np.float64)
    u = R @ W.T - est.theta_
    np.testing.assert_allclose(est.transform(X), f_act(u), atol=1e-5)
    # the readout sees the hidden code and, through the direct pathway, the rates
    assert est.coefs_readout_.shape == (3, 12 + R.shape[1])
    z = np.hstack([est.transform(X), R]) @ est.coefs_readout_.T + est.intercept_readout_
    p = np.exp(z - z.max(1, keepdims=True))
    np.testing.assert_allclose(est.predict_proba(X), p / p.sum(1, keepdims=True), atol=1e-5)
    plain = SPC(n_hidden=12, max_iter=2, readout_max_iter=2, direct_input=False)
    plain.set_params(random_state=0).fit(X, y)
    z = plain.transform(X) @ plain.coefs_readout_.T + plain.intercept_readout_
    p = np.exp(z - z.max(1, keepdims=True))
    np.testing.assert_allclose(plain.predict_proba(X), p / p.sum(1, keepdims=True), atol=1e-5)


def test_learns_and_respects_budget_and_sign():
    X, y = toy(n=400, d=30, c=4, seed=1)
    est = SPC(n_hidden=20, max_synapses=100, max_iter=6, random_state=0).fit(X, y)
    assert est.score(X, y) > 0.9
    hist = est.synapse_history_
    assert len(hist) == 7 and hist[-1] <= 100
    assert est.synapses_.nnz == hist[-1]
    assert est.synapses_.row_counts().max() <= 5
    assert (est.synapses_.weights >= 0).all()
    assert (est.synapses_.weights >= est.silent_threshold).all()
    est.synapses_.check_invariants()
    cap = est.capacity_
    assert cap.n_synapses == hist[-1] and cap.n_potential == 20 * est.encoder_.n_channels_
    en = est.energy_
    c = est.synapses_.counters
    assert en.synapses_pruned == c["pruned"] and en.synapses_grown == c["grown"]
    assert c["pruned"] - c["grown"] == hist[0] - hist[-1]
    assert en.writes >= en.details["hidden_writes"] > 0


def test_auto_winners_follow_the_layer_size():
    X, y = toy(n=400, d=30, c=4, seed=1)
    small = SPC(n_hidden=20, max_synapses=100, random_state=0).fit(X, y)
    large = SPC(n_hidden=400, max_synapses=2000, random_state=0).fit(X, y)
    assert small._p["n_winners"] == 1 and large._p["n_winners"] == 4
    # Four winners of 20 units made a fifth of the layer learn every sample
    # (0.93 with the default two epochs, 0.62 with six).
    assert small.score(X, y) > 0.97 and large.score(X, y) > 0.97
    assert SPC(n_hidden=20, max_synapses=100, n_winners=4, max_iter=6, random_state=0).fit(
        X, y
    ).score(X, y) < small.score(X, y)


def test_deterministic_across_threads():
    X, y = toy(n=300, d=24)
    fits = []
    for n in (1, 2):
        with synaplast.threads(n):
            est = SPC(n_hidden=16, max_synapses=80, max_iter=3, random_state=3).fit(X, y)
            fits.append((est.synapses_.to_dense(), est.coefs_readout_, est.predict_proba(X)))
    for a, b in zip(fits[0], fits[1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_wide_readout_deterministic_across_threads():
    # several blocks of 1,024 readout rows updated in parallel, the centring
    # means summed in parts, the dead zone: the same bits on 1, 2, 3 threads
    X, y = toy(n=400, d=30, c=4, seed=2)
    fits = []
    for n in (1, 2, 3):
        with synaplast.threads(n):
            est = SPC(n_hidden=2500, max_synapses=5000, random_state=5).fit(X, y)
            fits.append((est.coefs_readout_, est.intercept_readout_, est.predict_proba(X)))
    for other in fits[1:]:
        for a, b in zip(fits[0], other, strict=True):
            np.testing.assert_array_equal(a, b)
    assert est.coefs_readout_.shape[1] > 2048


def test_random_growth_and_consolidation_options():
    X, y = toy(n=200, d=20)
    for kw in ({"growth": "random"}, {"consolidation_threshold": 0.5}, {"n_grow": 0}):
        est = SPC(n_hidden=10, max_synapses=60, max_iter=3, random_state=0, **kw).fit(X, y)
        assert est.synapse_history_[-1] <= 60
        assert (est.synapses_.weights >= 0).all()


@pytest.mark.parametrize(
    "kw, exc",
    [
        ({"n_hidden": 0}, ValueError),
        ({"n_hidden": 2.5}, TypeError),
        ({"n_winners": 50}, ValueError),
        ({"target_activity": 1.0}, ValueError),
        ({"growth": "magic"}, ValueError),
        ({"learning_rate": -1.0}, ValueError),
        ({"max_synapses": 0}, ValueError),
        ({"random_state": "x"}, TypeError),
        ({"readout_tol": -1.0}, ValueError),
        ({"readout_decay": float("nan")}, ValueError),
        ({"readout_n_iter_no_change": -1}, ValueError),
    ],
)
def test_bad_parameters(kw, exc):
    X, y = toy(n=30)
    with pytest.raises(exc, match=next(iter(kw))):
        SPC(n_hidden=kw.get("n_hidden", 5), **{k: v for k, v in kw.items() if k != "n_hidden"}).fit(
            X, y
        )


def test_bad_inputs_and_failed_calls_leave_model():
    X, y = toy(n=60)
    est = SPC(n_hidden=6, max_iter=2, readout_max_iter=2, random_state=0).fit(X, y)
    W = est.synapses_.to_dense()
    # finite values far outside the training range saturate, NaN/inf do not pass
    assert est.predict(-100 * X - 5).shape == (60,)
    bad = X.copy()
    bad[1, 2] = np.inf
    with pytest.raises(ValueError, match="infinity|NaN"):
        est.predict(bad)
    rates = SPC(n_hidden=6, encoding="none", max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X"):
        rates.predict(-X)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :5])
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(bad, y)
    with pytest.raises(TypeError, match="X"):
        est.fit(np.array([["a"] * 16] * 3), [0, 1, 0])
    with pytest.raises(ValueError, match="samples"):
        est.fit(X, y[:-1])
    np.testing.assert_array_equal(est.synapses_.to_dense(), W)
    inc = SPC(n_hidden=6, random_state=0)
    with pytest.raises(ValueError, match="classes"):
        inc.partial_fit(X, y)
    inc.partial_fit(X, y, classes=[0, 1, 2])
    W = inc.synapses_.to_dense()
    with pytest.raises(ValueError, match="not in classes"):
        inc.partial_fit(X, np.full(len(y), 7))
    np.testing.assert_array_equal(inc.synapses_.to_dense(), W)


def test_partial_fit_learns_and_tracks_history():
    X, y = toy(n=300, d=20, c=3, seed=2)
    est = SPC(n_hidden=15, max_synapses=90, max_iter=4, random_state=0)
    for _ in range(4):
        est.partial_fit(X, y, classes=np.arange(3))
    assert len(est.synapse_history_) == 5
    assert est.score(X, y) > 0.8


def test_pickle_clone_pipeline_gridsearch():
    X, y = toy(n=150)
    est = SPC(n_hidden=8, max_iter=2, readout_max_iter=3, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))
    assert again.energy_.writes == est.energy_.writes
    assert clone(est).get_params() == est.get_params()
    pipe = make_pipeline(MinMaxScaler(), SPC(n_hidden=8, max_iter=2, random_state=0))
    assert pipe.fit(X, y).score(X, y) > 0.5
    gs = GridSearchCV(SPC(max_iter=2, random_state=0), {"n_hidden": [4, 8]}, cv=2).fit(X, y)
    assert gs.best_params_["n_hidden"] in (4, 8)


def test_weight_statistics_and_information():
    X, y = toy(n=300, d=20)
    est = SPC(n_hidden=10, max_synapses=60, max_iter=3, random_state=0).fit(X, y)
    st = weight_statistics(est)
    assert st["n_synapses"] == est.synapses_.nnz
    assert st["sparsity"] == pytest.approx(1 - est.synapses_.nnz / (10 * est.encoder_.n_channels_))
    assert st["negative_weights"] == 0 and st["dale_input"] == 1.0
    assert 0 <= st["dale_hidden"] <= 1
    bits = est.estimate_information_(X, y, epochs=5)
    assert bits > 0
    assert est.capacity_.details["C_S"] == pytest.approx(bits / est.synapses_.nnz)
    assert dale_compliance(np.array([[1.0, -1.0], [2.0, 1.0]])) == 0.5
    rng = np.random.default_rng(0)
    w = rng.lognormal(-2, 0.5, 4000)
    fit = lognormal_fit(w)
    assert fit["mu"] == pytest.approx(-2, abs=0.05) and fit["ks_lognormal"] < fit["ks_normal"]


def test_readout_stops_early_and_sparse_code_matches_dense():
    X, y = toy(n=300, d=20)
    full = SPC(n_hidden=12, max_iter=2, readout_max_iter=15, readout_n_iter_no_change=0)
    full.set_params(direct_input=True)
    full.set_params(random_state=0).fit(X, y)
    assert len(full.readout_loss_curve_) == 15
    for patience in (1, 2):
        early = SPC(n_hidden=12, max_iter=2, readout_max_iter=15, readout_tol=10.0)
        early.set_params(readout_n_iter_no_change=patience, random_state=0)
        early.set_params(direct_input=True).fit(X, y)
        # the loss never falls by 10 nats: stop after 1 + n_iter_no_change epochs
        assert len(early.readout_loss_curve_) == 1 + patience
        assert early.readout_loss_curve_ == full.readout_loss_curve_[: 1 + patience]
    # probabilities from the sparse-code readout equal a dense NumPy product
    H = np.hstack([full.transform(X), full.encoder_.transform(X)]).astype(np.float64)
    z = H @ full.coefs_readout_.T + full.intercept_readout_
    p = np.exp(z - z.max(1, keepdims=True))
    np.testing.assert_allclose(full.predict_proba(X), p / p.sum(1, keepdims=True), atol=1e-5)


# ----------------------------------------------------------- out of the box
def test_on_off_encoder_equals_formula_and_keeps_pixels():
    from synaplast.encoding import OnOffEncoder

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5)) * [1, 2, 3, 4, 5] + [0, 1, -1, 10, 0]
    enc = OnOffEncoder().fit(X)
    c = np.median(X, 0)
    on = np.clip((X - c) / (X.max(0) - c), 0, 1)
    off = np.clip((c - X) / (c - X.min(0)), 0, 1)
    np.testing.assert_allclose(enc.transform(X), np.hstack([on, off]), atol=1e-6)
    # shifting and scaling a feature changes nothing; mirroring it swaps ON and OFF
    np.testing.assert_allclose(OnOffEncoder().fit_transform(3 * X - 7), enc.transform(X), atol=1e-5)
    np.testing.assert_allclose(
        OnOffEncoder().fit_transform(-X),
        enc.transform(X)[:, [5, 6, 7, 8, 9, 0, 1, 2, 3, 4]],
        atol=1e-5,
    )
    # out of range saturates at 1, never fails; names say which channel is which
    assert enc.transform(X * 100).max() == 1 and enc.transform(X * 100).min() == 0
    assert list(enc.get_feature_names_out()[[0, 5]]) == ["x0_on", "x0_off"]
    # pixels (median 0, range [0, 1]) keep their ON channel only, unchanged
    P = (rng.random((300, 20)) < 0.2) * rng.random((300, 20))
    P[:, 0] = (rng.random(300) < 0.8) * rng.random(300)  # inked in most images
    P[0] = 1.0
    R = OnOffEncoder().fit_transform(P)
    np.testing.assert_allclose(R, P, atol=1e-6)
    with pytest.raises(ValueError, match="NaN|infinity"):
        enc.transform(np.full((1, 5), np.nan))


def test_any_real_valued_input_and_out_of_range_predictions():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    est = SPC(random_state=0).fit(X, y)
    assert est.score(X, y) > 0.9
    far = X * 50 - 1000  # finite, far outside the training range
    assert est.predict(far).shape == (150,)
    assert np.isfinite(est.predict_proba(far)).all() and np.isfinite(est.transform(far)).all()
    # the same model on shifted/scaled features learns the same thing
    moved = SPC(random_state=0).fit(2 * X + 5, y)
    np.testing.assert_array_equal(moved.predict(2 * X + 5), est.predict(X))


@pytest.mark.parametrize("budget", [7, 50, 400, 3000])
def test_budget_alone_sizes_the_model_and_is_honoured(budget):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    est = SPC(max_synapses=budget, random_state=0).fit(X[:600], y[:600])
    assert est.synapses_.nnz <= budget
    assert est.n_hidden_ == max(1, min(budget // 2, max(100, 600)))
    assert len(est.get_feature_names_out()) == est.n_hidden_
    assert est.transform(X[:3]).shape == (3, est.n_hidden_)


def test_digits_defaults_regression():
    """Fails if the defaults regress on data the package was not tuned on."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    pipe = make_pipeline(StandardScaler(), SPC(random_state=0))
    assert cross_val_score(pipe, X, y, cv=cv).mean() >= 0.95


def test_feature_names_column_order_and_set_output():
    pd = pytest.importorskip("pandas")
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True, as_frame=True)
    est = SPC(random_state=0).fit(X, y)
    assert list(est.feature_names_in_) == list(X.columns)
    with pytest.raises(ValueError, match="feature names"):
        est.predict(X[X.columns[::-1]])
    est.set_output(transform="pandas")
    H = est.transform(X)
    assert isinstance(H, pd.DataFrame) and H.shape == (len(X), est.n_hidden_)
    assert list(H.columns[:2]) == [
        "structuralplasticityclassifier0",
        "structuralplasticityclassifier1",
    ]


def test_partial_fit_pass_learns_like_fit_one_epoch():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0)
    one_epoch = SPC(max_iter=1, max_synapses=3000, random_state=0).fit(Xtr, ytr)
    stream = SPC(max_synapses=3000, random_state=0)
    for i in range(0, len(Xtr), 300):
        stream.partial_fit(Xtr[i : i + 300], ytr[i : i + 300], classes=np.arange(10))
    assert stream.score(Xte, yte) >= one_epoch.score(Xte, yte) - 0.05
    assert stream.score(Xte, yte) > 0.85


def test_degenerate_fit_warns():
    from sklearn.exceptions import ConvergenceWarning

    X, y = toy(n=120)
    with pytest.warns(ConvergenceWarning, match="one class"):
        SPC(n_hidden=10, readout_learning_rate=0.0, random_state=0).fit(X, y)


def test_new_fitted_state_pickles_and_is_thread_invariant():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    fits = []
    for n in (1, 2):
        with synaplast.threads(n):
            est = SPC(max_synapses=2000, random_state=4).fit(X, y)
            fits.append((est.synapses_.to_dense(), est.coefs_readout_, est.predict_proba(X)))
    for a, b in zip(fits[0], fits[1], strict=True):
        np.testing.assert_array_equal(a, b)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X * 3), est.predict_proba(X * 3))
    np.testing.assert_array_equal(again.encoder_.centre_, est.encoder_.centre_)


def test_input_gradient_through_the_input_stage_and_direct_pathway():
    from sklearn.datasets import load_wine

    from synaplast.analysis import input_gradient

    X, y = load_wine(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    for direct in (True, False):
        est = SPC(max_synapses=200, direct_input=direct, random_state=0).fit(X, y)
        yi = np.searchsorted(est.classes_, y[:4])
        g = input_gradient(est, X[:4], yi)

        def ce(Z, est=est, yi=yi):
            p = est.predict_proba(Z).astype(np.float64)
            return -np.log(p[np.arange(len(Z)), yi]).sum()

        num = np.zeros_like(g)
        for i in range(4):
            for j in range(X.shape[1]):
                d = np.zeros_like(X[:4])
                d[i, j] = 1e-4
                num[i, j] = (ce(X[:4] + d) - ce(X[:4] - d)) / 2e-4
        np.testing.assert_allclose(g, num, rtol=0.05, atol=1e-2)


def test_tampered_pickles_of_the_new_state_fail_cleanly():
    X, y = toy(n=120)
    est = SPC(max_synapses=200, random_state=0).fit(X, y)
    state = est.__getstate__()
    missing = {k: v for k, v in state.items() if k != "classes_"}
    with pytest.raises(ValueError, match="classes_"):
        SPC().__setstate__(missing)
    bad = pickle.loads(pickle.dumps(est))
    bad.encoder_.on_scale_ = -bad.encoder_.on_scale_  # the ON channels vanish
    with pytest.raises(ValueError, match="features"):
        bad.predict(X)
    bad = pickle.loads(pickle.dumps(est))
    bad.encoder_.centre_ = bad.encoder_.centre_[:3]
    with pytest.raises(ValueError, match="centres"):
        bad.predict(X)
