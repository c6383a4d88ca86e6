"""e-prop partitions (one block of recurrent neurons per rank): bit-identical to one process.

The partitions are stepped in lock-step by threads exchanging spikes in
process (no MPI needed), and under ``mpiexec -n 2`` through mpi4py when it
and an MPI launcher are installed (``pip install synaplast[mpi]``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest

import synaplast
from synaplast import _core


def _network(seed=3, **cfg):
    config = {
        "n_in": 20,
        "n_rec": 60,
        "n_out": 2,
        "v_th": 0.3,
        "event_driven": True,
        "reset_each_sequence": False,
        "cutoff": 30,
    }
    config.update(cfg)
    conn = {"p_in": 0.5, "p_rec": 0.2, "input_scale": 6.0, "recurrent_scale": 2.0}
    return _core.EPropNetwork(config, conn, seed)


def _data(n_seq=3, steps=80, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.random((n_seq, steps, 20)) < 0.2).astype(np.uint8)
    tg = rng.standard_normal((n_seq, steps, 2)).astype(np.float32)
    mask = np.ones((n_seq, steps), dtype=np.float32)
    return x, tg, mask


def _run_in_threads(net, bounds, x, tg, mask, opts):
    """Run the partitions of ``net`` in threads, exchanging spikes after every step."""
    n = len(bounds) - 1
    parts = [net.partition(int(bounds[r]), int(bounds[r + 1])) for r in range(n)]
    barrier = threading.Barrier(n)
    shared = np.zeros(net.neurons()[1], dtype=np.uint8)
    outs, errors = [None] * n, []

    def exchange_for(r):
        def exchange(local):
            shared[bounds[r] : bounds[r + 1]] = local
            barrier.wait()
            all_spikes = shared.copy()
            barrier.wait()
            return all_spikes

        return exchange

    def work(r):
        try:
            outs[r] = parts[r][0].run(x, tg, mask, opts, exchange_for(r))
        except Exception as e:  # noqa: BLE001
            errors.append(e)
            barrier.abort()

    # Each run blocks a kernel thread while it waits for the others' spikes,
    # so the pool needs one per partition (an MPI rank runs one per process).
    with synaplast.threads(max(n, synaplast.get_num_threads())):
        threads = [threading.Thread(target=work, args=(r,)) for r in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors
    weights = np.zeros(net.memory()["n_synapses"], dtype=np.float32)
    for part, index in parts:
        weights[index] = part.synapses().weights
    return outs, parts, weights


@pytest.mark.parametrize(
    "cfg",
    [
        {},  # paper form, event-driven, continuous
        {"nest_compatible": True, "update_at_spike": True},
        {"reset_each_sequence": True, "optimizer": "adam", "eta": 1e-3},
        {"event_driven": False, "loss": "cross_entropy"},
    ],
    ids=["paper", "nest", "reset-adam", "time-driven-xent"],
)
def test_partitions_are_bit_identical_to_one_process(cfg):
    net = _network(**cfg)
    x, tg, mask = _data()
    if cfg.get("loss") == "cross_entropy":
        tg = np.zeros_like(tg)
        tg[:, :, 1] = 1.0
    opts = {"batch_size": 2, "record_raster": True}
    whole = net.copy()
    ref = whole.run(x, tg, mask, opts)
    assert ref["raster"].sum() > 50  # the network is active
    outs, parts, weights = _run_in_threads(net, [0, 17, 40, 60], x, tg, mask, opts)
    for out, (part, _) in zip(outs, parts, strict=True):
        np.testing.assert_array_equal(out["loss"], ref["loss"])
        np.testing.assert_array_equal(out["raster"], ref["raster"])
        np.testing.assert_array_equal(part.w_out(), whole.w_out())
    np.testing.assert_array_equal(weights, whole.synapses().weights)
    assert not np.array_equal(weights, net.synapses().weights)  # it learned
    assert sum(p.stats()["spikes"] for p, _ in parts) == whole.stats()["spikes"]


def test_partition_errors():
    net = _network()
    for lo, hi in [(5, 5), (10, 3), (0, 61)]:
        with pytest.raises(ValueError, match="partition"):
            net.partition(lo, hi)
    part, index = net.partition(0, 30)
    assert part.neurons() == (0, 30) and index.dtype == np.int64
    with pytest.raises(ValueError, match="again"):
        part.partition(0, 10)
    x, tg, mask = _data(1, 10)
    with pytest.raises(ValueError, match="exchange"):
        part.run(x, tg, mask)
    with pytest.raises(ValueError, match="exchange"):
        net.run(x, tg, mask, None, lambda z: z)
    with pytest.raises(ValueError, match="expected 60"):
        part.run(x, tg, mask, None, lambda z: z)
    with pytest.raises(ZeroDivisionError):
        part.run(x, tg, mask, None, lambda z: 1 / 0)


def _mpiexec():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return None
    exe = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
    return exe


needs_mpi = pytest.mark.skipif(
    _mpiexec() is None, reason="needs mpi4py and mpiexec: pip install synaplast[mpi]"
)


def _mpi_env():
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    env.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")
    env.setdefault("OMPI_MCA_mpi_yield_when_idle", "1")  # ranks may share a core
    return env


def test_random_partition_is_the_partition_of_the_whole_network():
    config = {"n_in": 20, "n_rec": 60, "n_out": 2, "event_driven": True, "cutoff": 30}
    conn = {"p_in": 0.5, "p_rec": 0.2, "input_scale": 6.0, "dale": 0.8}
    whole = _core.EPropNetwork(config, conn, 3)
    for lo, hi in [(0, 60), (0, 17), (17, 40), (59, 60)]:
        a, ia = whole.partition(lo, hi)
        b, ib = _core.EPropNetwork.random_partition(config, conn, 3, lo, hi)
        np.testing.assert_array_equal(ia, ib)
        assert a.state_bytes() == b.state_bytes()
    with pytest.raises(ValueError, match="partition"):
        _core.EPropNetwork.random_partition(config, conn, 3, 10, 10)


def test_absorb_gathers_what_partitions_learned():
    net = _network(optimizer="adam", eta=1e-3, reset_each_sequence=True)
    x, tg, mask = _data()
    opts = {"batch_size": 2}
    whole = net.copy()
    whole.run(x, tg, mask, opts)
    _, parts, _ = _run_in_threads(net, [0, 25, 60], x, tg, mask, opts)
    states = [(p.state_bytes(), i) for p, i in parts]
    merged = net.copy()
    merged.absorb(parts[0][0], states)
    np.testing.assert_array_equal(merged.synapses().weights, whole.synapses().weights)
    np.testing.assert_array_equal(merged.w_out(), whole.w_out())
    assert merged.stats() == whole.stats()
    assert merged.memory() == whole.memory()
    before = merged.state_bytes()
    with pytest.raises(ValueError, match="every synapse"):
        merged.absorb(parts[0][0], states[:1])
    with pytest.raises(ValueError, match=">= 0"):
        merged.absorb(parts[0][0], [(states[0][0], -states[0][1] - 1), states[1]])
    with pytest.raises(ValueError, match="corrupt|saved"):
        merged.absorb(parts[0][0], [(b"junk", states[0][1]), states[1]])
    assert merged.state_bytes() == before


def test_absorb_stats_adds_what_predicting_partitions_counted():
    net = _network(reset_each_sequence=True)
    x, tg, mask = _data()
    net.run(x, tg, mask, {"batch_size": 2})  # learned: counts to add to
    opts = {"learn": False, "record_y": True}
    whole = net.copy()
    ref = whole.run(x, tg, mask, opts)
    outs, parts, _ = _run_in_threads(net, [0, 25, 60], x, tg, mask, opts)
    for out in outs:
        np.testing.assert_array_equal(out["y"], ref["y"])
    counts = [p.take_stats() for p, _ in parts]
    assert all(p.stats()["steps"] == 0 for p, _ in parts)
    merged = net.copy()
    merged.absorb_stats(counts)
    assert merged.stats() == whole.stats() != net.stats()
    before = merged.stats()
    with pytest.raises(ValueError, match="at least one"):
        merged.absorb_stats([])
    with pytest.raises(ValueError, match="steps"):
        merged.absorb_stats([counts[0], {**counts[1], "steps": 1}])
    with pytest.raises(ValueError, match="spikes"):
        merged.absorb_stats([{k: v for k, v in counts[0].items() if k != "spikes"}])
    with pytest.raises(TypeError, match="events"):
        merged.absorb_stats([{**counts[0], "events": "many"}])
    with pytest.raises(ValueError, match="partition"):
        parts[0][0].absorb_stats(counts)
    assert merged.stats() == before


def test_distributed_bad_values(monkeypatch):
    X = (np.random.default_rng(0).random((6, 10, 3)) < 0.2).astype(np.uint8)
    y = np.arange(6) % 2
    for bad in ("MPI", "dask", 1, True):
        with pytest.raises(ValueError, match="distributed"):
            synaplast.EPropClassifier(n_rec=5, max_iter=1, distributed=bad).fit(X, y)
    # without mpi4py: an ImportError naming the extra, and nothing fitted
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    clf = synaplast.EPropClassifier(n_rec=5, max_iter=1, distributed="mpi", random_state=0)
    with pytest.raises(ImportError, match=r"synaplast\[mpi\]"):
        clf.fit(X, y)
    assert not hasattr(clf, "classes_")
    for off in (None, "none"):  # one process, mpi4py never imported
        a = synaplast.EPropClassifier(n_rec=5, max_iter=1, distributed=off, random_state=0)
        b = synaplast.EPropClassifier(n_rec=5, max_iter=1, random_state=0)
        np.testing.assert_array_equal(a.fit(X, y).weights_[1], b.fit(X, y).weights_[1])


def _same(a, b, where):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for k, (u, v) in enumerate(zip(a, b, strict=True)):
            _same(u, v, f"{where}[{k}]")
    elif isinstance(a, np.ndarray | np.generic):
        assert a.dtype == b.dtype, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, float):
        assert a == b or (a != a and b != b), f"{where}: {a!r} != {b!r}"
    else:
        assert a == b, where


def _child():
    sys.path.insert(0, os.path.dirname(__file__))
    try:
        import eprop_mpi_child
    finally:
        sys.path.pop(0)
    return eprop_mpi_child


class _ThreadComm:
    """The mpi4py calls of e-prop over ranks, for ranks that are threads of one process."""

    def __init__(self, rank, size, barrier, slots):
        self.rank, self.size, self.barrier, self.slots = rank, size, barrier, slots
        self.exchanges = 0

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.size

    def allgather(self, obj):
        self.slots[self.rank] = obj
        self.barrier.wait()
        out = list(self.slots)
        self.barrier.wait()
        return out

    def bcast(self, obj, root=0):
        return self.allgather(obj)[root]

    def allreduce(self, obj):
        return sum(self.allgather(obj))

    def gather(self, obj, root=0):
        out = self.allgather(obj)
        return out if self.rank == root else None

    def Barrier(self):
        self.allgather(None)

    def Allgatherv(self, send, recv):
        buf, (counts, displ) = recv
        self.exchanges += 1
        for r, part in enumerate(self.allgather(np.array(send))):
            buf[displ[r] : displ[r] + counts[r]] = part


def test_estimators_over_three_thread_ranks_bit_identical(monkeypatch):
    """``distributed="mpi"`` with 3 ranks that are threads (no MPI needed):
    what every rank ends with equals one process's. Fewer kernel threads
    than ranks: each partition runs in its own pool, so no rank's run waits
    behind another's while that one waits in its exchange."""
    import pickle

    from synaplast.distributed import eprop_mpi

    child = _child()
    size = 3
    local = threading.local()
    monkeypatch.setattr(eprop_mpi, "world", lambda: local.comm)
    barrier, slots = threading.Barrier(size, timeout=120), [None] * size
    outs, errors = [None] * size, []
    comms = [_ThreadComm(r, size, barrier, slots) for r in range(size)]

    def rank(r):
        local.comm = comms[r]
        try:
            outs[r] = child.results("mpi")
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
            barrier.abort()

    with (
        synaplast.threads(size - 1),
        child.counting_state_gathers() as gathers,
    ):
        threads = [threading.Thread(target=rank, args=(r,)) for r in range(size)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors
    # 12 sequences x 25 steps x (2 epochs + predictions + 1 epoch) per estimator
    assert all(c.exchanges > 2000 for c in comms), [c.exchanges for c in comms]
    # states are gathered at the end of fit and partial_fit only, never to predict
    assert sorted(gathers) == sorted([0, 1, 2] * 4), gathers
    one = child.results(None)
    for out in outs:
        for name, res in out.items():
            ref = dict(one[name])
            est = pickle.loads(res.pop("pickle"))
            assert est.distributed == "mpi" and ref.pop("pickle")
            assert res.pop("abs_change") == pytest.approx(ref.pop("abs_change"), rel=1e-9)
            _same(res, ref, name)


@needs_mpi
def test_mpi_estimators_bit_identical_to_one_process(tmp_path):
    """``distributed="mpi"`` on 2 ranks: losses, predictions, weights and reports
    equal one process's, bit for bit, and every rank holds the whole estimator."""
    import pickle

    child = _child()
    script = [
        sys.executable,
        "-m",
        "mpi4py",
        os.path.join(os.path.dirname(__file__), "eprop_mpi_child.py"),
    ]
    ranks = []
    # two ranks, and one (a one-rank COMM_WORLD runs the plain path)
    for n, mpiexec in ((2, [_mpiexec(), "-n", "2", "--oversubscribe"]), (1, [])):
        out = tmp_path / str(n)
        out.mkdir()
        cmd = [*mpiexec, *script, str(out)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=_mpi_env())
        assert r.returncode == 0, r.stdout + r.stderr
        for k in range(n):
            with open(out / f"rank{k}.pkl", "rb") as fh:
                ranks.append(pickle.load(fh))
    np.testing.assert_array_equal(ranks[0].pop("unseeded"), ranks[1].pop("unseeded"))
    ranks[2].pop("unseeded")
    # each rank gathers the states at the end of fit and partial_fit of the two
    # estimators, never to predict, score or record spikes (one rank: no partitions)
    assert [r.pop("state_gathers") for r in ranks] == [4, 4, 0]
    for k in range(2):
        assert "MPI ranks [1] were given other data" in ranks[k].pop("mismatch")
    assert ranks[2].pop("mismatch") is None
    one = child.results(None)
    X, y, t = child.data()
    for rank in ranks:
        for name, res in rank.items():
            ref = dict(one[name])
            est = pickle.loads(res.pop("pickle"))
            assert est.distributed == "mpi"
            # (this process does not start MPI: predict here as one process)
            est.set_params(distributed=None)
            np.testing.assert_array_equal(est.predict(X), ref["after_partial"])
            ref.pop("pickle")
            # Σ|Δw| adds per block: equal up to its summation order
            e, e_ref = res.pop("energy"), ref.pop("energy")
            assert e == e_ref
            assert res.pop("abs_change") == pytest.approx(ref.pop("abs_change"), rel=1e-9)
            _same(res, ref, name)


@needs_mpi
def test_mpirun_two_ranks_bit_identical():
    env = _mpi_env()
    # the sine task's settings (NEST-compatible) on 400 neurons at 5 %, uneven spike counts
    for extra in (["--n-rec", "400", "--p-rec", "0.05", "--iterations", "2", "--steps", "100"],):
        cmd = [_mpiexec(), "-n", "2", "--oversubscribe", sys.executable, "-m", "mpi4py", "-m"]
        cmd += ["synaplast.distributed.eprop_mpi", "--check", *extra]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "bit-identical to one process" in r.stdout, r.stdout + r.stderr
