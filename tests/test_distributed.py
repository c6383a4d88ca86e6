"""Past one process: kernel threads under cluster engines (environment and
threadpoolctl), exact merging of memories, block-wise storage of dask arrays,
dask-ml's Incremental, joblib-dask sweeps and the sharded memory."""

import os
import pickle
import signal
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import synaplast
from conftest import assert_sweep_equals_local, sweep_cases
from synaplast import (
    AssociativeMemory,
    CompetitivePlasticityClassifier,
    StructuralPlasticityClassifier,
)
from synaplast.memory import exact_k_patterns, noisy_queries

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
    # A fresh process: the pool's size is fixed when the first kernel runs.
    cases = [
        ({"SYNAPLAST_NUM_THREADS": "3", "RAYON_NUM_THREADS": "2", "OMP_NUM_THREADS": "1"}, 3),
        ({"SYNAPLAST_NUM_THREADS": "many", "OMP_NUM_THREADS": "5,2"}, 5),
    ]
    for env, expected in cases:
        n, found, seen = _threads_in_fresh_process(env)
        assert (n, found, seen) == (expected, 1, expected), env


def test_set_num_threads_zero_reads_the_environment_again(monkeypatch, restore_threads):
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    synaplast.set_num_threads(0)
    assert synaplast.get_num_threads() == len(os.sched_getaffinity(0))
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


# --------------------------------------------------------------------------- merge


def _pairs(seed, n_pairs=120, m=40, n=30, k=4, l=3):  # noqa: E741
    U = exact_k_patterns(n_pairs, m, k, seed)
    V = exact_k_patterns(n_pairs, n, l, seed + 1)
    return U, V


def _state(mem):
    return mem._store.__reduce__()[1][0]


MERGE_CASES = [
    dict(rule="willshaw"),
    dict(rule="willshaw", compress=True),
    dict(rule="bayes", retrieval="wta", l=3),
    dict(rule="bcpnn", retrieval="wta", l=3),
    dict(rule="covariance", retrieval="wta", l=3),
    dict(rule="hopfield", retrieval="wta", l=3),
    dict(rule="hebb", retrieval="wta", l=3),
]


@pytest.mark.parametrize("params", MERGE_CASES)
@pytest.mark.parametrize("auto", [False, True])
def test_merge_equals_storing_everything_at_once(params, auto):
    U, V = _pairs(3)
    if auto:
        V = None
        params = dict(params, l=4) if "l" in params else params
    halves = [slice(0, 50), slice(50, None)]
    whole = AssociativeMemory(**params).fit(U, V)
    a = AssociativeMemory(**params).fit(U[halves[0]], None if auto else V[halves[0]])
    b = AssociativeMemory(**params).fit(U[halves[1]], None if auto else V[halves[1]])
    before_b = _state(b)
    merged = a.merge(b)
    assert merged is a and _state(b) == before_b  # `other` is left as it was
    assert _state(merged) == _state(whole)
    assert merged.energy_ == whole.energy_ and merged.capacity_ == whole.capacity_
    assert merged.n_patterns_ == whole.n_patterns_ == U.shape[0]
    Q = noisy_queries(U[:20], miss=1, random_state=0)
    np.testing.assert_array_equal(merged.predict(Q), whole.predict(Q))
    np.testing.assert_array_equal(merged.decision_function(Q), whole.decision_function(Q))


def test_merge_refuses_memories_that_differ():
    U, V = _pairs(4)
    a = AssociativeMemory().fit(U, V)
    before = _state(a)
    with pytest.raises(ValueError, match="different parameters: rule='willshaw' vs 'bayes'"):
        a.merge(AssociativeMemory(rule="bayes").fit(U, V))
    with pytest.raises(ValueError, match="content units"):
        a.merge(AssociativeMemory().fit(U, V[:, :20]))
    with pytest.raises(ValueError, match="auto-association"):
        AssociativeMemory().fit(U).merge(AssociativeMemory().fit(U, U))
    with pytest.raises(TypeError, match="AssociativeMemory"):
        a.merge(U)
    with pytest.raises(NotFittedError):
        a.merge(AssociativeMemory())
    assert _state(a) == before


def test_score_is_the_fraction_of_exact_recalls():
    U, V = _pairs(5, n_pairs=40)
    mem = AssociativeMemory().fit(U, V)
    Q = noisy_queries(U, miss=1, random_state=1)
    exact = (mem.predict(Q) == V).all(axis=1).mean()
    assert 0 < exact < 1
    assert mem.score(Q, V) == exact
    auto = AssociativeMemory(n_iter=3).fit(U)
    assert auto.score(U[:50]) == (auto.predict(U[:50]) == U[:50]).all(axis=1).mean()
    with pytest.raises(ValueError, match="needs y"):
        mem.score(Q)


@pytest.mark.parametrize("sparse", [False, True])
def test_fit_blocks_of_a_dask_array_equal_storing_at_once(sparse):
    da = pytest.importorskip("dask.array")
    from synaplast.distributed import fit_blocks

    U, V = _pairs(6, n_pairs=230)
    whole = AssociativeMemory(rule="bayes", retrieval="wta", l=3).fit(U, V)
    if sparse:
        dU = da.from_array(sp.csr_matrix(U), chunks=(60, 40), asarray=False)
        dV = da.from_array(sp.csr_matrix(V), chunks=(60, 30), asarray=False)
    else:
        dU, dV = da.from_array(U, chunks=(60, 20)), da.from_array(V, chunks=(60, 30))
    mem = fit_blocks(
        AssociativeMemory(rule="bayes", retrieval="wta", l=3), dU, dV, scheduler="sync"
    )
    assert _state(mem) == _state(whole) and mem.energy_ == whole.energy_
    # Into a fitted memory: the same as partial_fit.
    more = AssociativeMemory(rule="bayes", retrieval="wta", l=3).fit(U[:30], V[:30])
    fit_blocks(more, dU[30:], dV[30:], scheduler="threads")
    assert _state(more) == _state(whole)
    with pytest.raises(ValueError, match="row blocks"):
        fit_blocks(AssociativeMemory(), dU, da.from_array(V, chunks=(50, 30)))
    with pytest.raises(TypeError, match="dask.array"):
        fit_blocks(AssociativeMemory(), U, V)


# --------------------------------------------------------------------------- streams


@pytest.mark.parametrize(
    "estimator",
    [
        StructuralPlasticityClassifier(n_hidden=20, random_state=0),
        CompetitivePlasticityClassifier(hidden_layer_sizes=(16,), random_state=0),
    ],
    ids=["structural", "competitive"],
)
def test_incremental_wrapper_equals_partial_fit_on_the_chunks_in_order(estimator):
    da = pytest.importorskip("dask.array")
    Incremental = pytest.importorskip("dask_ml.wrappers").Incremental
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X[:600] / 16).astype(np.float32)
    y = y[:600]
    classes = np.unique(y)
    dX, dy = da.from_array(X, chunks=(150, 64)), da.from_array(y, chunks=150)
    wrapped = Incremental(clone(estimator), shuffle_blocks=False, scoring="accuracy")
    wrapped.fit(dX, dy, classes=classes)
    reference = clone(estimator)
    for a in range(0, 600, 150):
        reference.partial_fit(X[a : a + 150], y[a : a + 150], classes=classes)
    np.testing.assert_array_equal(wrapped.estimator_.predict_proba(X), reference.predict_proba(X))
    assert wrapped.estimator_.energy_ == reference.energy_
    assert wrapped.score(dX, dy) == reference.score(X, y)


# --------------------------------------------------------------------------- cluster


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    import dask

    # A killed worker is noticed in seconds, not after the default 30 s.
    with dask.config.set({"distributed.comm.timeouts.connect": "5s"}):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=50,
        )
        c = distributed.Client(cluster)
        try:
            yield c
        finally:
            c.close()
            cluster.close()


def test_workers_run_one_kernel_thread(client):
    # Dask's nannies set OMP_NUM_THREADS=1 for their workers; the kernels follow it.
    seen = client.run(synaplast.get_num_threads)
    assert len(seen) == 2 and set(seen.values()) == {1}


def test_grid_search_and_cross_validate_on_dask_equal_the_local_run(client):
    assert_sweep_equals_local("dask", sweep_cases())


# --------------------------------------------------------------------------- sharded memory

SHARDED_CASES = [
    # (parameters, auto)
    (dict(rule="willshaw"), False),
    (dict(rule="willshaw", retrieval="wta", l=3), False),
    (dict(rule="bayes"), False),
    (dict(rule="bayes", retrieval="wta", l=3), False),
    (dict(rule="bcpnn", retrieval="wta", l=3), False),
    (dict(rule="covariance", retrieval="wta", l=3), False),
    (dict(rule="hopfield", threshold=0.0), False),
    (dict(rule="hebb", retrieval="wta", l=3), False),
    (dict(rule="willshaw", retrieval="hypercolumn", n_hypercolumns=5), False),
    (dict(rule="willshaw", n_iter=3), True),
    (dict(rule="bayes", retrieval="wta", l=4, n_iter=4, p01=0.3), True),
    (dict(rule="bayes", n_iter=4, noise_estimation="adaptive", p01=0.3, p10=0.01), True),
    (dict(rule="bayes", retrieval="wta", l=4, n_iter=4, anchor=True, p01=0.3), True),
    (
        dict(rule="bayes", n_iter=4, anchor=True, noise_estimation="adaptive", p01=0.3, p10=0.01),
        True,
    ),
    (dict(rule="bcpnn", retrieval="hypercolumn", n_hypercolumns=5, n_iter=3), True),
]


def test_sharded_memory_is_bit_identical_for_every_rule_and_retrieval(client):
    from synaplast.distributed import ShardedAssociativeMemory

    U, V = _pairs(8, n_pairs=150, m=40, n=40, k=4, l=4)
    # Many ties: Willshaw potentials are small integers, so l-WTA ties are common.
    Q = noisy_queries(U[:40], miss=2, add=1, random_state=2)
    for params, auto in SHARDED_CASES:
        target = None if auto else V
        single = AssociativeMemory(**params).fit(U, target)
        sharded = ShardedAssociativeMemory(client=client, n_shards=3, batch_size=16, **params)
        sharded.fit(U[:100], target if auto else target[:100])
        sharded.partial_fit(U[100:], None if auto else target[100:])
        label = f"{params} auto={auto}"
        out, iters, _ = sharded.retrieve(Q)
        ref, ref_iters, _ = single.retrieve(Q)
        np.testing.assert_array_equal(out, ref, err_msg=label)
        np.testing.assert_array_equal(iters, ref_iters, err_msg=label)
        np.testing.assert_array_equal(
            sharded.decision_function(Q), single.decision_function(Q), err_msg=label
        )
        assert sharded.n_patterns_ == single.n_patterns_ and sharded.p1_ == single.p1_, label
        assert sharded.energy_.writes == single.energy_.writes, label
        assert sharded.energy_.abs_change == single.energy_.abs_change, label
        assert sharded.capacity_.stored_bits == single.capacity_.stored_bits, label
        assert sharded.communication_["queries"] == len(Q)


def test_sharded_memory_takes_dask_arrays_and_reports_its_traffic(client):
    da = pytest.importorskip("dask.array")
    from synaplast.distributed import ShardedAssociativeMemory

    U, V = _pairs(9, n_pairs=200, m=50, n=60, k=5, l=4)
    single = AssociativeMemory().fit(U, V)
    sharded = ShardedAssociativeMemory(client=client, batch_size=32).fit(
        da.from_array(U, chunks=(64, 50)),
        da.from_array(sp.csr_matrix(V), chunks=(64, 60), asarray=False),
    )
    assert len(sharded.shard_workers_) == 2 and list(sharded.shard_bounds_) == [0, 30, 60]
    Q = da.from_array(U[:70], chunks=(35, 50))
    out = sharded.predict(Q)
    np.testing.assert_array_equal(out, single.predict(U[:70]))
    # Threshold retrieval brings back only the selected units (int64 each)
    # and, per shard and batch (2 blocks of 35 queries in batches of 32),
    # the row pointers.
    row_pointers = 2 * 2 * ((32 + 1) + (3 + 1))
    assert sharded.communication_["received"] == 8 * (out.sum() + row_pointers)
    sharded.decision_function(U[:10])
    assert sharded.communication_["received"] == 10 * 60 * 8  # the partial potentials
    # A bad second block: the first one's pending writes are dropped.
    bad = U[:40].copy()
    bad[30, 0] = 2
    before = (sharded.predict(U[:20]), sharded.n_patterns_, sharded.energy_)
    with pytest.raises(ValueError, match="binary"):
        sharded.partial_fit(
            da.from_array(bad, chunks=(20, 50)), da.from_array(V[:40], chunks=(20, 60))
        )
    assert (sharded.n_patterns_, sharded.energy_) == before[1:]
    np.testing.assert_array_equal(sharded.predict(U[:20]), before[0])
    sharded.partial_fit(U[:40], V[:40])
    single.partial_fit(U[:40], V[:40])
    np.testing.assert_array_equal(sharded.predict(U[:70]), single.predict(U[:70]))
    assert sharded.energy_ == single.energy_
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(sharded)
    with pytest.raises(TypeError, match="in this process"):
        AssociativeMemory().fit(U, V).merge(sharded)
    with pytest.raises(ValueError, match="winners|units"):
        sharded.set_params(retrieval="wta", l=100).predict(U[:3])


def test_a_dead_worker_during_fit_is_reported_and_fit_rebuilds(client):
    from synaplast.distributed import ShardedAssociativeMemory, ShardLostError

    U, V = _pairs(10, n_pairs=120)
    sharded = ShardedAssociativeMemory(client=client, rule="bayes").fit(U[:60], V[:60])
    # Bad input fails in every shard before anything changes: still usable.
    with pytest.raises(ValueError):
        sharded.partial_fit(U[:5, :10], V[:5])
    victim = sharded.shard_workers_[1]
    (pid,) = client.run(os.getpid, workers=[victim]).values()
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(ShardLostError, match=r"shard 1 \(content units 15..29\)"):
        sharded.partial_fit(U[60:], V[60:])
    with pytest.raises(ShardLostError, match="fit the memory again"):
        sharded.predict(U[:5])
    client.wait_for_workers(2, timeout=60)
    sharded.fit(U, V)
    single = AssociativeMemory(rule="bayes").fit(U, V)
    np.testing.assert_array_equal(sharded.predict(U[:30]), single.predict(U[:30]))


def test_lean_shards_equal_counter_shards_and_the_single_process_memory(client):
    from synaplast import _core
    from synaplast.distributed import ShardedAssociativeMemory

    # 50 content units per pair onto 400: rows outgrow their pending buffers.
    U, V = _pairs(11, n_pairs=300, m=60, n=400, k=6, l=50)
    Q = np.vstack([U[:30], noisy_queries(U[30:60], miss=2, add=1, random_state=3)])
    for params in (dict(), dict(retrieval="wta", l=45), dict(threshold=4)):
        single = AssociativeMemory(**params).fit(U, V)
        lean = ShardedAssociativeMemory(client=client, n_shards=3, batch_size=16, **params)
        lean.fit(U[:120], V[:120]).partial_fit(U[120:], V[120:])
        counts = ShardedAssociativeMemory(
            client=client, n_shards=3, shard_store="counts", **params
        ).fit(U, V)
        ref = single.predict(Q)
        for sharded in (lean, counts):
            np.testing.assert_array_equal(sharded.predict(Q), ref, err_msg=str(params))
            np.testing.assert_array_equal(sharded.decision_function(Q), single.decision_function(Q))
            assert sharded.p1_ == single.p1_ and sharded.energy_ == single.energy_
            assert sharded.capacity_.n_synapses == single.capacity_.n_synapses
        # 2 bytes per potentiated synapse instead of 4.
        assert lean.capacity_.memory_bytes < counts.capacity_.memory_bytes
    # The store itself: storing is refused for non-binary memories, retrieval
    # before the pending writes are merged.
    config = {"m": 60, "n": 400, "binary": False, "auto": False}
    with pytest.raises(ValueError, match="binary"):
        _core.LeanStore(config, 0, 400)
    store = _core.LeanStore(dict(config, binary=True), 100, 400)
    ptr, idx = np.array([0, 2], np.int64), np.array([1, 5], np.int64)
    store.store(ptr, idx, ptr, np.array([150, 390], np.int64))
    assert store.pending_entries == 4
    p = {"rule": "willshaw", "retrieval": "threshold"}
    with pytest.raises(ValueError, match="flush"):
        store.select(ptr, idx, p)
    store.flush()
    np.testing.assert_array_equal(store.select(ptr, idx, p)[1], [150, 390])
    with pytest.raises(TypeError, match="counters"):
        store.potentials(ptr, idx, dict(p, rule="bayes"))
    with pytest.raises(ValueError, match="shard_store"):
        ShardedAssociativeMemory(client=client, rule="bayes", shard_store="lean").fit(U, V)
    with pytest.raises(ValueError, match="shard_store"):
        ShardedAssociativeMemory(client=client, shard_store="thin").fit(U, V)
