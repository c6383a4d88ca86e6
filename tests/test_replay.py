"""Generative replay's class models (synaplast.replay) against the statistics
of the data they summarise."""

import numpy as np

from synaplast.replay import InputReplay, class_model, draw


def _two_cluster_data(n=3000, d=12, seed=0):
    # Two low-rank Gaussian clusters inside (0, 1), so clipping is negligible.
    rng = np.random.RandomState(seed)
    parts = []
    for centre, share in ((0.3, 0.6), (0.7, 0.4)):
        basis = np.linalg.qr(rng.standard_normal((d, 3)))[0].T
        z = rng.standard_normal((int(n * share), 3)) * np.array([0.06, 0.04, 0.02])
        parts.append(centre + z @ basis)
    return np.concatenate(parts)


def test_drawn_inputs_have_the_class_mean_and_covariance():
    R = _two_cluster_data()
    model = class_model(R, seed=0)
    fake = draw(model, 40_000, np.random.RandomState(1)).astype(np.float64)
    np.testing.assert_allclose(fake.mean(0), R.mean(0), atol=0.01)
    ref = np.cov(R.T)
    assert np.linalg.norm(np.cov(fake.T) - ref) < 0.05 * np.linalg.norm(ref)
    # the mixture matters: one Gaussian would put mass between the clusters
    middle = lambda A: np.mean(np.abs(A.mean(1) - 0.5) < 0.05)  # noqa: E731
    assert middle(fake) < 2 * middle(R) + 0.01


def test_model_size_follows_the_class_size():
    R = _two_cluster_data(n=120)
    model = class_model(R)
    assert len(model) == 2  # 120 samples: two clusters of at least 50
    for weight, mean, directions, scales, low, high in model:
        assert 0 < weight < 1 and mean.shape == (12,)
        assert directions.shape == (scales.size, 12) and scales.size <= 20
        np.testing.assert_allclose(directions @ directions.T, np.eye(scales.size), atol=1e-5)
        np.testing.assert_array_equal(low, R.min(0).astype(np.float32))
        np.testing.assert_array_equal(high, R.max(0).astype(np.float32))
    (single,) = class_model(R[:3])
    assert single[0] == 1.0 and single[3].size == 2


def test_replay_draws_only_remembered_classes_deterministically():
    R = _two_cluster_data(n=400)
    labels = np.repeat([0, 1], 200)
    replay = InputReplay()
    replay.remember(R, labels)
    a = replay.draw([1, 5], 30, seed=3)
    b = replay.copy().draw([1, 5], 30, seed=3)
    assert a[0].shape == (30, 12) and set(a[1]) == {1}
    np.testing.assert_array_equal(a[0], b[0])
    assert replay.draw([5], 30, seed=3) is None
    assert a[0].dtype == np.float32 and a[0].min() >= 0 and a[0].max() <= 1


def test_draws_stay_in_the_class_range_and_seeds_may_be_large():
    # Rates on their own scale (``encoding="none"``, e.g. pixel counts 0-16)
    # are not cut at 1; a seed from ``random_state=None`` may exceed 2**32.
    rng = np.random.RandomState(0)
    R = np.clip(8 + 3 * rng.standard_normal((300, 5)), 0, 16)
    model = class_model(R, seed=2**62 + 5)
    fake = draw(model, 5000, np.random.RandomState(1))
    assert fake.max() > 14 and fake.min() >= 0
    assert np.all(fake <= R.max(0).astype(np.float32))
    replay = InputReplay().remember(R, np.zeros(300, dtype=np.int64), seed=2**62)
    assert replay.nbytes > 0
