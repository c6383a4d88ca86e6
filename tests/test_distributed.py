"""Past one process: kernel threads under cluster engines (environment and
threadpoolctl), exact merging of memories, block-wise storage of dask arrays,
dask-ml's Incremental, joblib-dask sweeps and the sharded memory."""

import os
import subprocess
import sys

import numpy as np

import synaplast
from synaplast import (
    AssociativeMemory,
)

THREAD_VARIABLES = ("SYNAPLAST_NUM_THREADS", "RAYON_NUM_THREADS", "OMP_NUM_THREADS")


# --------------------------------------------------------------------------- threads


def _threads_in_fresh_process(env):
    """get_num_threads() of a new interpreter whose environment holds ``env``."""
    clean = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    clean.update(env)
    code = (
        "import synaplast, threadpoolctl; "
        "info = [i for i in threadpoolctl.threadpool_info() if i['internal_api'] == 'synaplast']; "
        "print(synaplast.get_num_threads(), len(info), info[0]['num_threads'] if info else -1)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, check=True
    )
    return tuple(int(v) for v in out.stdout.split())


def test_default_threads_follow_the_environment_in_order():
    cores = len(os.sched_getaffinity(0))
    cases = [
        ({"SYNAPLAST_NUM_THREADS": "3", "RAYON_NUM_THREADS": "2", "OMP_NUM_THREADS": "1"}, 3),
        ({"RAYON_NUM_THREADS": "2", "OMP_NUM_THREADS": "1"}, 2),
        ({"OMP_NUM_THREADS": "1"}, 1),
        ({"SYNAPLAST_NUM_THREADS": "many", "OMP_NUM_THREADS": "5,2"}, 5),
        ({}, cores),
    ]
    for env, expected in cases:
        n, found, seen = _threads_in_fresh_process(env)
        assert (n, found, seen) == (expected, 1, expected), env


def test_set_num_threads_zero_reads_the_environment_again(monkeypatch, restore_threads):
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    synaplast.set_num_threads(0)
    assert synaplast.get_num_threads() == 1
    monkeypatch.setenv("RAYON_NUM_THREADS", "3")
    synaplast.set_num_threads(0)
    assert synaplast.get_num_threads() == 3
    monkeypatch.setenv("SYNAPLAST_NUM_THREADS", "2")
    synaplast.set_num_threads(0)
    assert synaplast.get_num_threads() == 2


def test_threadpool_limits_reach_the_kernel_pool(restore_threads):
    from threadpoolctl import threadpool_info, threadpool_limits

    synaplast.set_num_threads(3)
    assert [i["num_threads"] for i in threadpool_info() if i["internal_api"] == "synaplast"] == [3]
    with threadpool_limits(1):
        assert synaplast.get_num_threads() == 1
    assert synaplast.get_num_threads() == 3
    with threadpool_limits(2, user_api="openmp"):
        assert synaplast.get_num_threads() == 2
    with threadpool_limits(1, user_api="blas"):
        assert synaplast.get_num_threads() == 3
    assert synaplast.get_num_threads() == 3
    # Results do not depend on the limit.
    X = (np.random.default_rng(0).random((60, 30)) < 0.2).astype(np.uint8)
    mem = AssociativeMemory(rule="bayes", retrieval="wta").fit(X)
    with threadpool_limits(1):
        one = mem.decision_function(X)
    np.testing.assert_array_equal(one, mem.decision_function(X))
