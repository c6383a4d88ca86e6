"""e-prop networks over MPI ranks (mpi4py), bit-identical to one process.

Each rank holds a contiguous block of the recurrent neurons with their
incoming synapses (:meth:`EPropNetwork.partition`) and runs the Rust step for
its block; after every step the ranks exchange their spikes with one
``Allgatherv`` of one byte per neuron, and every rank computes the readout,
the error and the readout learning from all spikes in the same order. No
floating-point sum crosses ranks, so losses, spikes and weights equal those
of the whole network in one process, for any number of ranks.

Each rank builds only its own block (:meth:`Partition.random`); what the
ranks learned is gathered back into a whole network with
:meth:`Partition.absorb_into`. ``EPropRegressor(distributed="mpi")`` and
``EPropClassifier(distributed="mpi")`` run through :class:`Partition`: each
rank keeps its trained block after ``fit`` and predicts on it, so a
prediction exchanges spikes and, at its end, the ranks' counts
(:meth:`Partition.absorb_counts_into`), never their states.

Run the sine task and a 10,000-neuron network (``--check`` compares with one
process on rank 0)::

    mpirun -np 2 python -m synaplast.distributed.eprop_mpi --check
    mpirun -np 4 python -m synaplast.distributed.eprop_mpi --n-rec 10000 --p-rec 0.01

MPI stays in Python (mpi4py, ``pip install synaplast[mpi]``); the compiled
extension has no MPI dependency.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time

import numpy as np

from .. import _core


def _comm(comm=None):
    if comm is not None:
        return comm
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise ImportError(
            "distributed e-prop needs mpi4py and an MPI library: pip install 'synaplast[mpi]'"
        ) from exc
    return MPI.COMM_WORLD


def world():
    """mpi4py's ``COMM_WORLD`` (an ImportError naming the ``mpi`` extra without mpi4py)."""
    return _comm()


def block_bounds(n_rec: int, size: int) -> np.ndarray:
    """``size + 1`` bounds of contiguous, balanced neuron blocks (rank ``r`` holds ``b[r]:b[r+1]``)."""
    if size < 1 or n_rec < size:
        raise ValueError(f"cannot split {n_rec} neurons over {size} ranks")
    return np.array([r * n_rec // size for r in range(size + 1)], dtype=np.int64)


class Partition:
    """This rank's block of a network, with the spike exchange.

    Parameters
    ----------
    network : synaplast._core.EPropNetwork
        The whole network (the same on every rank, e.g. built from the same seed).
    comm : mpi4py.MPI.Comm, optional
        Default ``MPI.COMM_WORLD``.
    """

    def __init__(self, network, comm=None):
        lo, hi = self._blocks(comm, int(network.neurons()[1]))
        self.network, self.synapse_index = network.partition(lo, hi)
        self.n_synapses = int(network.memory()["n_synapses"])

    @classmethod
    def random(cls, config, connectivity, seed=0, comm=None) -> Partition:
        """This rank's block of ``EPropNetwork(config, connectivity, seed)``, built alone.

        No rank ever holds the whole network: memory per rank is its block's
        (every rank still draws all rows, so the time is the whole network's).
        """
        self = cls.__new__(cls)
        lo, hi = self._blocks(comm, int(config["n_rec"]))
        self.network, self.synapse_index = _core.EPropNetwork.random_partition(
            config, connectivity, seed, lo, hi
        )
        self.n_synapses = int(self.comm.allreduce(len(self.synapse_index)))
        return self

    def _blocks(self, comm, n_rec: int) -> tuple[int, int]:
        self.comm = _comm(comm)
        self.n_rec = n_rec
        self.bounds = block_bounds(self.n_rec, self.comm.Get_size())
        rank = self.comm.Get_rank()
        self._all = np.zeros(self.n_rec, dtype=np.uint8)
        self._counts = np.diff(self.bounds).astype(int)
        self._displ = self.bounds[:-1].astype(int)
        self.exchange_seconds = 0.0
        self.exchanges = 0
        return int(self.bounds[rank]), int(self.bounds[rank + 1])

    def _exchange(self, local):
        t0 = time.perf_counter()
        # uint8 buffers: mpi4py sends them as MPI_UNSIGNED_CHAR
        self.comm.Allgatherv(
            np.ascontiguousarray(local, dtype=np.uint8), [self._all, (self._counts, self._displ)]
        )
        self.exchange_seconds += time.perf_counter() - t0
        self.exchanges += 1
        return self._all

    def run(self, x, target, mask, options=None) -> dict:
        """Run sequences (as :meth:`EPropNetwork.run`); the raster holds all neurons."""
        if self.comm.Get_size() == 1:  # the whole network: nothing to exchange
            return self.network.run(x, target, mask, options)
        return self.network.run(x, target, mask, options, self._exchange)

    def check_same(self, *arrays) -> None:
        """Raise ``ValueError`` on every rank unless all ranks hold equal ``arrays``.

        Every rank must be given the same data and model (the same script,
        seeds and files): a rank that differs would silently compute another
        network's steps.
        """
        h = hashlib.blake2b(digest_size=16)
        for a in arrays:
            b = a if isinstance(a, bytes) else np.ascontiguousarray(a)
            meta = (b.shape, b.dtype.str) if isinstance(b, np.ndarray) else len(b)
            h.update(repr(meta).encode())
            h.update(memoryview(b).cast("B"))
        digests = self.comm.allgather(h.digest())
        differ = [r for r, d in enumerate(digests) if d != digests[0]]
        if differ:
            raise ValueError(
                f"MPI ranks {differ} were given other data or another model than rank 0: "
                "every rank must run the same script on the same data"
            )

    def absorb_into(self, whole) -> None:
        """Write what every rank's block learned into ``whole`` (on every rank).

        ``whole`` is the network this partition was made from, as it was
        then; it ends equal to the whole network trained in one process
        (weights, Adam moments and counts; the energy sum ``Σ|Δw|`` up to
        the rounding of its order), at rest. The partition's counts restart
        from zero (they are in ``whole`` now), so that later runs on it can
        be absorbed in turn.
        """
        parts = self.comm.allgather((self.network.state_bytes(), self.synapse_index))
        whole.absorb(self.network, parts)
        self.network.take_stats()

    def absorb_counts_into(self, whole) -> None:
        """Add the counts of this partition's runs since the last absorb, over all ranks, to ``whole``.

        A run without learning changes only counts (spikes, events, steps),
        so after predictions on a partition of ``whole`` this makes
        ``whole`` what the same predictions in one process make it, with one
        ``allgather`` of six integers per rank instead of every rank's state.
        """
        whole.absorb_stats(self.comm.allgather(self.network.take_stats()))

    def weights(self) -> np.ndarray:
        """All input/recurrent weights in the whole network's synapse order (on every rank)."""
        local_w = np.asarray(self.network.synapses().weights, dtype=np.float32)
        idx = self.comm.allgather(self.synapse_index)
        ws = self.comm.allgather(local_w)
        full = np.zeros(self.n_synapses, dtype=np.float32)
        for i, w in zip(idx, ws, strict=True):
            full[i] = w
        return full

    def stats(self) -> dict:
        """Counts summed over ranks (spikes, events, trace updates, ...)."""
        mine = self.network.stats()
        every = self.comm.allgather(mine)
        out = dict(mine)
        for k in ("events", "trace_updates", "spikes"):
            out[k] = int(sum(s[k] for s in every))
        return out


def _max_rss_bytes() -> int:
    """Peak resident memory of this process (0 where ``resource`` is missing)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return 0
    peak = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


# NEST's e-prop sine-wave example settings (eprop_supervised_regression_sine-waves.py)
_KAPPA = 0.97


def sine_config(n_rec: int) -> dict:
    """NEST 3.10's sine-task network settings in synaplast's NEST-compatible mode."""
    scale = 1.0 - _KAPPA
    return {
        "n_in": 100,
        "n_rec": n_rec,
        "n_out": 1,
        "dt": 1.0,
        "tau_m": 30.0,
        "tau_out": 30.0,
        "v_th": 0.03,
        "t_ref": 0,
        "surrogate": "piecewise_linear",
        "surrogate_height": 10.0,
        "surrogate_width": 1.0 / 33.3,
        "kappa": _KAPPA,
        "kappa_reg": 0.97,
        "c_reg": 0.3,
        "f_target": 0.01,
        "loss": "mse",
        "optimizer": "gradient_descent",
        "eta": 1e-4 * scale**2,
        "w_min": -100.0,
        "w_max": 100.0,
        "cutoff": 100,
        "nest_compatible": True,
        "event_driven": True,
        "update_at_spike": True,
        "reset_each_sequence": False,
        "symmetric_feedback": False,
    }


def sine_task(
    n_rec: int = 100, p_rec: float = 1.0, n_iter: int = 5, seed: int = 1, steps: int = 1000
):
    """``EPropNetwork`` arguments ``(config, connectivity, seed)``, input spikes,
    target and mask of the sine task."""
    scale = 1.0 - _KAPPA
    conn = {
        "p_in": 1.0,
        "p_rec": p_rec,
        "input_scale": scale,
        "recurrent_scale": scale,
        "readout_scale": scale,
        "feedback_scale": scale,
    }
    rng = np.random.RandomState(seed)
    spikes = (rng.rand(steps, 100) < 0.05).astype(np.uint8)
    t = np.arange(steps)
    target = sum(
        a * np.sin(2 * np.pi * t / T + ph)
        for a, T, ph in zip(
            rng.uniform(0.5, 2.0, 4),
            (1000, 500, 333, 200),
            rng.uniform(0, 2 * np.pi, 4),
            strict=True,
        )
    )
    target = (target - target[0]) / np.abs(target - target[0]).max()
    x = np.broadcast_to(spikes, (n_iter, steps, 100)).copy()
    tg = (
        np.broadcast_to(target.astype(np.float32), (n_iter, steps)).reshape(n_iter, steps, 1).copy()
    )
    mask = np.ones((n_iter, steps), dtype=np.float32)
    return (sine_config(n_rec), conn, seed), x, tg, mask


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="mpirun -np N python -m synaplast.distributed.eprop_mpi",
        description=__doc__.split("\n")[0],
    )
    p.add_argument(
        "--n-rec", type=int, default=100, help="recurrent neurons (100: NEST's sine task)"
    )
    p.add_argument(
        "--p-rec",
        type=float,
        default=None,
        help="recurrent probability (default 1 for 100 neurons, else 0.01)",
    )
    p.add_argument("--iterations", type=int, default=5, help="sine-wave iterations")
    p.add_argument("--steps", type=int, default=1000, help="steps (ms) per iteration")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--check", action="store_true", help="compare with one process on rank 0")
    p.add_argument("--json", default=None, help="rank 0 writes the figures to this file")
    args = p.parse_args(argv)
    comm = _comm()
    rank, size = comm.Get_rank(), comm.Get_size()
    p_rec = args.p_rec if args.p_rec is not None else (1.0 if args.n_rec <= 100 else 0.01)
    net_args, x, tg, mask = sine_task(args.n_rec, p_rec, args.iterations, args.seed, args.steps)
    part = Partition.random(*net_args, comm=comm)
    # the raster (steps x all neurons on every rank) only to check it
    opts = {"batch_size": 1, "record_raster": args.check}
    comm.Barrier()
    t0 = time.perf_counter()
    out = part.run(x, tg, mask, opts)
    wall = time.perf_counter() - t0
    walls = comm.gather(wall)
    comms = comm.gather(part.exchange_seconds)
    state_bytes = comm.gather(int(part.network.memory()["total_bytes"]))
    rss = comm.gather(_max_rss_bytes())
    weights = part.weights() if args.check else None
    stats = part.stats()
    ok = True
    if rank == 0:
        sim_s = args.iterations * args.steps / 1000.0
        steps = part.exchanges
        res = {
            "ranks": size,
            "n_rec": args.n_rec,
            "p_rec": p_rec,
            "synapses": part.n_synapses,
            "iterations": args.iterations,
            "rtf": max(walls) / sim_s,
            "exchange_us_per_step": 1e6 * max(comms) / max(steps, 1),
            "steps": int(x.shape[0] * x.shape[1]),
            "compute_us_per_step": 1e6
            * max(w - c for w, c in zip(walls, comms, strict=True))
            / (x.shape[0] * x.shape[1]),
            "spikes": stats["spikes"],
            "state_mb_per_rank": max(state_bytes) / 2**20,
            "max_rss_mb_per_rank": max(rss) / 2**20,
            "loss": np.asarray(out["loss"]).tolist(),
        }
        print(
            f"{size} rank(s), {args.n_rec} neurons, {part.n_synapses} synapses: "
            f"real-time factor {res['rtf']:.4f}, exchange {res['exchange_us_per_step']:.1f} us/step, "
            f"compute {res['compute_us_per_step']:.1f} us/step, "
            f"{stats['spikes']} spikes, loss {res['loss'][0]:.6f} .. {res['loss'][-1]:.6f}; "
            f"per rank: network state {res['state_mb_per_rank']:.1f} MB, "
            f"peak RSS {res['max_rss_mb_per_rank']:.0f} MB"
        )
        if args.check:
            whole = _core.EPropNetwork(*net_args)
            ref = whole.run(x, tg, mask, opts)
            same = (
                np.array_equal(np.asarray(ref["loss"]), np.asarray(out["loss"]))
                and np.array_equal(ref["raster"], out["raster"])
                and np.array_equal(np.asarray(whole.synapses().weights), weights)
                and np.array_equal(whole.w_out(), part.network.w_out())
            )
            res["identical"] = bool(same)
            ok = same
            print("bit-identical to one process" if same else "DIFFERS from one process")
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(res, fh, indent=1)
    ok = comm.bcast(ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
