"""Sweeps on Ray through joblib: same scores as the local run, one kernel thread per worker.

Needs ``pip install synaplast[ray]`` (``make test`` installs it); skipped
without it. A local Ray instance of 2 CPUs is started and shut down here.
"""

import os

import numpy as np
import pytest

import synaplast
from synaplast import CompetitivePlasticityClassifier, EPropRegressor

THREAD_VARIABLES = ("SYNAPLAST_NUM_THREADS", "RAYON_NUM_THREADS", "OMP_NUM_THREADS")


@pytest.fixture(scope="module")
def ray_backend():
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install synaplast[ray])")
    from ray.util.joblib import register_ray

    # Ray sets OMP_NUM_THREADS for its workers only where the driver's
    # environment leaves it unset; clear the thread variables so the limit
    # seen in the workers is Ray's, not inherited.
    saved = {k: os.environ.pop(k) for k in THREAD_VARIABLES if k in os.environ}
    try:
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            object_store_memory=100 * 1024**2,
        )
        register_ray()
        yield ray
    finally:
        ray.shutdown()
        os.environ.update(saved)


def test_ray_workers_run_one_kernel_thread(ray_backend):
    import joblib

    with joblib.parallel_backend("ray"):
        seen = joblib.Parallel(n_jobs=2)(
            joblib.delayed(synaplast.get_num_threads)() for _ in range(4)
        )
        omp = joblib.Parallel(n_jobs=2)(
            joblib.delayed(os.getenv)("OMP_NUM_THREADS") for _ in range(2)
        )
    assert omp == ["1", "1"]
    assert seen == [1] * 4
    # A task given both CPUs gets OMP_NUM_THREADS=2 from Ray, and the pool follows.
    both = ray_backend.remote(num_cpus=2)(synaplast.get_num_threads)
    assert ray_backend.get(both.remote()) == 2


def test_grid_search_and_cross_validate_on_ray_equal_the_local_run(ray_backend):
    import joblib
    from sklearn.model_selection import GridSearchCV, cross_validate

    rng = np.random.default_rng(1)
    X = rng.random((60, 12)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 1).astype(np.int64)
    spikes = (rng.random((24, 12, 5)) < 0.2).astype(np.uint8)
    cases = [
        (
            CompetitivePlasticityClassifier(hidden_layer_sizes=(8,), random_state=0),
            {"update_fraction": [0.5, 1.0]},
            X,
            y,
        ),
        (
            EPropRegressor(n_rec=10, max_iter=2, random_state=0),
            {"n_rec": [8, 10]},
            spikes,
            rng.random(24),
        ),
    ]
    for est, grid, X_, y_ in cases:
        local = GridSearchCV(est, grid, cv=2, n_jobs=1).fit(X_, y_)
        with joblib.parallel_backend("ray"):
            remote = GridSearchCV(est, grid, cv=2, n_jobs=2).fit(X_, y_)
            cv = cross_validate(est, X_, y_, cv=2, n_jobs=2)
        name = type(est).__name__
        np.testing.assert_array_equal(
            remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"], name
        )
        assert remote.best_params_ == local.best_params_, name
        np.testing.assert_array_equal(
            cv["test_score"], cross_validate(est, X_, y_, cv=2)["test_score"], name
        )
