import numpy as np
import pytest

import synaplast


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def restore_threads():
    n = synaplast.get_num_threads()
    yield
    synaplast.set_num_threads(0)
    assert synaplast.get_num_threads() >= 1
    del n


def random_sparse(rng, n_post, n_pre, density, binary=False):
    mask = rng.random((n_post, n_pre)) < density
    if binary:
        return mask.astype(np.float32)
    return np.where(mask, rng.standard_normal((n_post, n_pre)), 0.0).astype(np.float32)


def f_act(u):
    """The structural classifier's activation, 2·sigmoid(u) − 1 for u > 0, else 0."""
    return np.where(u > 0, 2.0 / (1.0 + np.exp(-u)) - 1.0, 0.0)


def bfloat16(a):
    """``a`` rounded to bfloat16 (ties to even), as float32: the precision at
    which the structural readout stores the code it trains on."""
    b = np.asarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    b = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) << 16
    return b.astype(np.uint32).view(np.float32)


def toy(n=240, d=16, c=3, seed=0):
    """Non-negative class prototypes with noise."""
    rng = np.random.default_rng(seed)
    protos = (rng.random((c, d)) < 0.3).astype(np.float32)
    y = rng.integers(0, c, n)
    X = np.clip(protos[y] + 0.2 * rng.standard_normal((n, d)), 0, 1).astype(np.float32)
    return X, y


def structural_net(n_in, n_hidden, n_classes, init_per_unit, low, high, seed):
    """A raw ``_core.StructuralNet`` from the constructor's typed config."""
    from synaplast import _core

    config = {
        "n_in": n_in,
        "n_hidden": n_hidden,
        "n_classes": n_classes,
        "init_per_unit": init_per_unit,
        "init_weights": (low, high),
    }
    return _core.StructuralNet(config, seed)


def hidden_params(k, eta, eta_th, eta_b, rho, w_max, w_consolidate=None, eta_i=0.0):
    """The structural classifier's ``HiddenParams`` typed config."""
    return {
        "n_winners": k,
        "learning_rate": eta,
        "homeostasis_rate": eta_th,
        "competition_rate": eta_b,
        "target_activity": rho,
        "w_max": w_max,
        "w_consolidate": w_consolidate,
        "inhibition_rate": eta_i,
    }


def sweep_cases():
    """``(estimator, grid, X, y)`` of each learner for the sweep tests: a
    grid search and cross-validation on a joblib backend must equal the
    local run."""
    from synaplast import (
        AssociativeMemory,
        CompetitivePlasticityClassifier,
        EPropClassifier,
        EPropRegressor,
        StructuralPlasticityClassifier,
    )
    from synaplast.memory import exact_k_patterns

    rng = np.random.default_rng(1)
    X = rng.random((60, 12)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 1).astype(np.int64)
    spikes = (rng.random((24, 12, 5)) < 0.2).astype(np.uint8)
    U, V = exact_k_patterns(90, 24, 4, 7), exact_k_patterns(90, 20, 3, 8)
    return [
        (AssociativeMemory(), {"rule": ["willshaw", "bayes"]}, U, V),
        (
            CompetitivePlasticityClassifier(hidden_layer_sizes=(8,), random_state=0),
            {"update_fraction": [0.5, 1.0]},
            X,
            y,
        ),
        (StructuralPlasticityClassifier(n_hidden=10, random_state=0), {"n_hidden": [10, 20]}, X, y),
        (
            EPropClassifier(n_rec=10, max_iter=2, random_state=0),
            {"n_rec": [8, 10]},
            spikes,
            np.arange(24) % 2,
        ),
        (
            EPropRegressor(n_rec=10, max_iter=2, random_state=0),
            {"n_rec": [8, 10]},
            spikes,
            rng.random(24),
        ),
    ]


def assert_sweep_equals_local(backend, cases):
    """``GridSearchCV`` and ``cross_validate`` with ``n_jobs=2`` on the joblib
    ``backend`` give the scores and best parameters of the local run."""
    import joblib
    from sklearn.model_selection import GridSearchCV, cross_validate

    for est, grid, X, y in cases:
        local = GridSearchCV(est, grid, cv=2, n_jobs=1).fit(X, y)
        with joblib.parallel_backend(backend):
            remote = GridSearchCV(est, grid, cv=2, n_jobs=2).fit(X, y)
            cv = cross_validate(est, X, y, cv=2, n_jobs=2)
        name = type(est).__name__
        np.testing.assert_array_equal(
            remote.cv_results_["mean_test_score"],
            local.cv_results_["mean_test_score"],
            err_msg=name,
        )
        assert remote.best_params_ == local.best_params_, name
        np.testing.assert_array_equal(
            cv["test_score"], cross_validate(est, X, y, cv=2)["test_score"], err_msg=name
        )
