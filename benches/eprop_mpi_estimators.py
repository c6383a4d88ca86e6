"""``EPropClassifier(distributed="mpi")`` on R ranks against one process.

    mpiexec -n R python -m mpi4py benches/eprop_mpi_estimators.py [--n-rec 2000]

Rank 0 first fits and predicts with ``distributed=None`` alone (the other
ranks wait at a barrier), then all ranks do the same with ``"mpi"``; it
prints both times, their ratio and whether the results are bit-identical.
It also times predictions of one sequence (median of ``--repeat`` calls):
their fixed cost per call, which the steps' spike exchanges do not hide.
"""

import argparse
import time

import numpy as np
from mpi4py import MPI

from suites import machine
from synaplast import EPropClassifier


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n-rec", type=int, default=2000)
    p.add_argument("--p-rec", type=float, default=0.05)
    p.add_argument("--samples", type=int, default=40)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--repeat", type=int, default=5, help="predictions of one sequence timed")
    args = p.parse_args()
    comm = MPI.COMM_WORLD
    rng = np.random.default_rng(0)
    y = np.arange(args.samples) % 2
    rates = np.where(y[:, None, None] == 1, [0.1, 0.02] * 10, [0.02, 0.1] * 10)
    X = (rng.random((args.samples, args.steps, 20)) < rates).astype(np.uint8)
    params = dict(n_rec=args.n_rec, p_rec=args.p_rec, max_iter=args.epochs, random_state=0)

    def timed(distributed):
        clf = EPropClassifier(**params, distributed=distributed)
        t0 = time.perf_counter()
        clf.fit(X, y)
        t1 = time.perf_counter()
        pred = clf.predict_proba(X)
        t2 = time.perf_counter()
        one_seq = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            clf.predict_proba(X[:1])
            one_seq.append(time.perf_counter() - t)
        return clf, t1 - t0, t2 - t1, pred, float(np.median(one_seq))

    one = timed(None) if comm.Get_rank() == 0 else None
    comm.Barrier()
    dist = timed("mpi")
    if comm.Get_rank() == 0:
        same = np.array_equal(one[3], dist[3]) and one[0].loss_curve_ == dist[0].loss_curve_
        same = same and np.array_equal(one[0].weights_[0][2], dist[0].weights_[0][2])
        n_syn = dist[0].capacity_.n_synapses
        print(machine())
        print(
            f"{args.n_rec} neurons, {n_syn} synapses, {args.samples} x {args.steps} steps, "
            f"{args.epochs} epochs; {comm.Get_size()} ranks:"
        )
        print(f"  one process: fit {one[1]:.2f} s, predict {one[2]:.2f} s")
        print(f"  {comm.Get_size()} ranks:   fit {dist[1]:.2f} s, predict {dist[2]:.2f} s")
        print(f"  ratio (one / ranks): fit {one[1] / dist[1]:.2f}, predict {one[2] / dist[2]:.2f}")
        print(
            f"  predict one sequence (median of {args.repeat}): one process "
            f"{1e3 * one[4]:.1f} ms, {comm.Get_size()} ranks {1e3 * dist[4]:.1f} ms"
        )
        print("  bit-identical" if same else "  DIFFERENT")


if __name__ == "__main__":
    main()
