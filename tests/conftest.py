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
