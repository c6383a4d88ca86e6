"""Optional inhibitory population of the StructuralPlasticityClassifier
(Dale's law): rules against a dense NumPy reference, sign invariants,
determinism, pickling, validation."""

import pickle

import numpy as np
import pytest

import synaplast
from conftest import f_act, hidden_params, structural_net, toy
from synaplast.analysis import weight_statistics
from synaplast.structural import StructuralPlasticityClassifier as SPC


def inhibited(W, theta, A, G, X):
    """Feedforward drive, inhibitory rates and inhibited drive (dense)."""
    u0 = X @ W.T - theta
    r = f_act(u0) @ A
    return u0, r, u0 - r @ G.T


def batch_reference(W, theta, beta, A, G, X, k, eta, eta_th, eta_b, eta_i, rho, w_max):
    mask = W != 0
    s = X @ W.T
    norm = np.maximum(np.sqrt((W**2).sum(1)), 1e-6)
    score = s / norm - beta
    y = np.zeros_like(s)
    for b in range(X.shape[0]):
        order = sorted(range(W.shape[0]), key=lambda i: (-score[b, i], i))[:k]
        y[b, order] = 1.0
    _, r, u = inhibited(W, theta, A, G, X)
    active = (u > 0).astype(np.float64)
    c = y.sum(0)
    W1 = np.where(mask, np.clip(W + eta * (y.T @ X - c[:, None] * W), 0, w_max), 0)
    theta1 = theta + eta_th * (active.mean(0) - rho)
    beta1 = beta + eta_b * (y.mean(0) - k / W.shape[0])
    G1 = np.maximum(G + eta_i / X.shape[0] * (active - rho).T @ r, 0)
    return W1, theta1, beta1, G1


def test_inhibition_equals_dense_reference():
    X, _ = toy(n=16, d=10)
    X = X.astype(np.float32)
    net = structural_net(10, 6, 3, 8, 0.05, 0.6, 4)
    net.set_inhibition(3, 9)
    assert net.n_inhibitory == 3
    A = net.e_to_i.astype(np.float64)
    assert A.shape == (6, 3) and (A > 0).all()
    np.testing.assert_array_equal(net.i_to_e, 0)
    W = net.hidden.to_dense().astype(np.float64)
    theta, beta, G = np.zeros(6), np.zeros(6), np.zeros((6, 3))
    # negative thresholds make units active, so the inhibition grows
    rates = (2, 0.1, 0.2, 0.5, 3.0, 0.2, 1.0)  # k, eta, eta_th, eta_b, eta_i, rho, w_max
    order = np.arange(16, dtype=np.int64)
    ref_writes, ref_change = 0, 0.0
    for chunk in (order[:8], order[8:]):
        G0 = G
        W, theta, beta, G = batch_reference(
            W, theta, beta, A, G, X[chunk].astype(np.float64), *rates
        )
        ref_writes += int(np.count_nonzero(G != G0))
        ref_change += float(np.abs(G - G0).sum())
    k, eta, eta_th, eta_b, eta_i, rho, w_max = rates
    net.hidden_epoch(
        X, order, hidden_params(k, eta, eta_th, eta_b, rho, w_max, None, eta_i=eta_i), 8, False
    )
    np.testing.assert_allclose(net.hidden.to_dense(), W, atol=1e-5)
    np.testing.assert_allclose(net.theta, theta, atol=1e-5)
    np.testing.assert_allclose(net.beta, beta, atol=1e-6)
    np.testing.assert_allclose(-net.i_to_e, G, atol=1e-5)
    assert (G > 0).any(), "the reference never inhibited: the test would be vacuous"
    # the hidden code (transform and the readout's sparse code) is inhibited
    Wn = net.hidden.to_dense().astype(np.float64)
    _, _, u = inhibited(Wn, net.theta.astype(np.float64), A, -net.i_to_e.astype(np.float64), X)
    np.testing.assert_allclose(net.transform(X), f_act(u), atol=1e-5)
    writes, change = net.inhibition_counters
    assert writes == ref_writes and change == pytest.approx(ref_change, rel=1e-4)


def test_estimator_signs_dale_determinism_pickle():
    X, y = toy(n=300, d=24)
    fits = []
    for n in (1, 2):
        with synaplast.threads(n):
            est = SPC(
                n_hidden=16,
                max_synapses=96,
                n_inhibitory=4,
                inhibition_rate=0.5,
                target_activity=0.2,
                max_iter=3,
                readout_max_iter=5,
                random_state=1,
            ).fit(X, y)
            fits.append(est)
    a, b = fits
    np.testing.assert_array_equal(a.inhibitory_out_, b.inhibitory_out_)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.inhibitory_in_.shape == (16, 4) and (a.inhibitory_in_ >= 0).all()
    assert a.inhibitory_out_.shape == (16, 4) and (a.inhibitory_out_ <= 0).all()
    assert (a.inhibitory_out_ < 0).any()
    st = weight_statistics(a)
    assert st["dale_excitatory"] == 1.0 and st["dale_inhibitory"] == 1.0
    assert st["negative_e_to_i"] == 0 and st["positive_i_to_e"] == 0
    assert st["n_inhibitory_synapses"] == int(np.count_nonzero(a.inhibitory_out_))
    assert a.energy_.details["inhibitory_writes"] > 0
    again = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(again.inhibitory_out_, a.inhibitory_out_)
    np.testing.assert_array_equal(again.predict_proba(X), a.predict_proba(X))
    assert again.energy_.writes == a.energy_.writes
    # partial_fit keeps the population and its signs
    inc = SPC(n_hidden=10, n_inhibitory=3, inhibition_rate=0.5, random_state=0)
    for _ in range(2):
        inc.partial_fit(X, y, classes=np.unique(y))
    assert (inc.inhibitory_out_ <= 0).all() and (inc.inhibitory_in_ >= 0).all()
    # without a population the statistics say so
    plain = SPC(n_hidden=8, max_iter=2, readout_max_iter=2, random_state=0).fit(X, y)
    assert plain.inhibitory_out_ is None and weight_statistics(plain)["dale_inhibitory"] is None


@pytest.mark.parametrize(
    "kw, exc",
    [
        ({"n_inhibitory": -1}, ValueError),
        ({"n_inhibitory": 1.5}, TypeError),
        ({"inhibition_rate": -0.1}, ValueError),
        ({"inhibition_rate": float("inf")}, ValueError),
    ],
)
def test_bad_inhibition_parameters(kw, exc):
    X, y = toy(n=30)
    est = SPC(n_hidden=5, max_iter=1, readout_max_iter=1, random_state=0, **kw)
    with pytest.raises(exc, match=next(iter(kw))):
        est.fit(X, y)


def test_core_rejects_bad_inhibition():
    net = structural_net(4, 3, 2, 2, 0.0, 0.1, 1)
    X = np.ones((2, 4), np.float32)
    with pytest.raises(ValueError, match="inhibition_rate"):
        net.hidden_epoch(
            X, np.arange(2), hidden_params(1, 0.1, 0.1, 0.1, 0.3, 1.0, None, eta_i=-1.0), 2, False
        )
    before = net.hidden.to_dense()
    np.testing.assert_array_equal(net.hidden.to_dense(), before)
