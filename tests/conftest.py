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
