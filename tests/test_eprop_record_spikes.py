"""``record_spikes``: the recurrent raster of the e-prop estimators' prediction run."""

import numpy as np
import pytest

from synaplast import EPropClassifier, EPropRegressor


def _sine_data(seed=0, steps=120, n_in=20):
    rng = np.random.default_rng(seed)
    X = (rng.random((2, steps, n_in)) < 0.08).astype(np.uint8)
    t = np.arange(steps)
    y = np.stack([np.sin(2 * np.pi * t / 60), np.cos(2 * np.pi * t / 40)])[:, :, None]
    return X, y


def test_raster_is_what_the_readout_integrates():
    X, y = _sine_data()
    est = EPropRegressor(
        n_rec=30, tau_m=20.0, tau_out=15.0, v_th=0.05, max_iter=3, random_state=0
    ).fit(X, y)
    raster = est.record_spikes(X)
    assert raster.shape == (2, X.shape[1], 30)
    assert raster.dtype == np.uint8 and set(np.unique(raster)) <= {0, 1}
    assert raster.sum() > 0, "the test network must spike"
    # Independent check: the leaky readout rebuilt from the raster and W_out
    # (y[t] = κ y[t−1] + W_outᵀ z[t−1]) equals the estimator's trajectory.
    (_, w_out) = est.weights_
    kappa = np.exp(-est.dt / est.tau_out)
    ref = np.zeros((2, X.shape[1], 1))
    for s in range(2):
        acc = np.zeros(1)
        prev = np.zeros(30)
        for t in range(X.shape[1]):
            acc = kappa * acc + prev @ w_out.astype(np.float64)
            ref[s, t] = acc
            prev = raster[s, t].astype(np.float64)
    np.testing.assert_allclose(est.predict_sequence(X), ref, rtol=1e-4, atol=1e-5)
    # No learning: recording twice gives the same spikes and leaves the weights.
    w_before = est.weights_[0][2].copy()
    np.testing.assert_array_equal(est.record_spikes(X), raster)
    np.testing.assert_array_equal(est.weights_[0][2], w_before)


def test_classifier_records_and_rejects_bad_input():
    rng = np.random.default_rng(1)
    X = (rng.random((6, 40, 8)) < 0.1).astype(np.uint8)
    y = np.array([0, 1] * 3)
    clf = EPropClassifier(n_rec=12, max_iter=1, random_state=0)
    with pytest.raises(Exception, match="not fitted"):
        clf.record_spikes(X)
    clf.fit(X, y)
    assert clf.record_spikes(X[:2]).shape == (2, 40, 12)
    with pytest.raises(ValueError, match="inputs"):
        clf.record_spikes(X[:, :, :5])
