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


@pytest.mark.skipif(
    _mpiexec() is None, reason="needs mpi4py and mpiexec: pip install synaplast[mpi]"
)
def test_mpirun_two_ranks_bit_identical():
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    env.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")
    env.setdefault("OMPI_MCA_mpi_yield_when_idle", "1")  # ranks may share a core
    # the sine task's settings (NEST-compatible) on 400 neurons at 5 %, uneven spike counts
    for extra in (["--n-rec", "400", "--p-rec", "0.05", "--iterations", "2", "--steps", "100"],):
        cmd = [_mpiexec(), "-n", "2", "--oversubscribe", sys.executable, "-m", "mpi4py", "-m"]
        cmd += ["synaplast.distributed.eprop_mpi", "--check", *extra]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "bit-identical to one process" in r.stdout, r.stdout + r.stderr
