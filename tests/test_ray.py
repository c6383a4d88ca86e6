"""Sweeps on Ray through joblib: same scores as the local run, one kernel thread per worker.

Needs ``pip install synaplast[ray]`` (``make test`` installs it); skipped
without it. A local Ray instance of 2 CPUs is started and shut down here.
"""

import os

import pytest

import synaplast
from conftest import assert_sweep_equals_local, sweep_cases
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
    # Two learners (a Ray round trip per fit is slow): a classifier and a regressor.
    cases = [
        c
        for c in sweep_cases()
        if isinstance(c[0], CompetitivePlasticityClassifier | EPropRegressor)
    ]
    assert len(cases) == 2
    assert_sweep_equals_local("ray", cases)
