"""Run by ``tests/test_eprop_distributed.py`` under ``mpiexec -n 2 python -m mpi4py``
(and alone: a one-rank ``COMM_WORLD``).

Every rank fits the e-prop estimators with ``distributed="mpi"`` and writes
what it ends with (losses, predictions, weights, the pickled estimator) to
``OUT/rank<r>.pkl``; the test compares them with one process. Importing
this module does not start MPI.
"""

from __future__ import annotations

import pickle
import sys
from contextlib import contextmanager

import numpy as np

from synaplast import EPropClassifier, EPropRegressor


def data():
    rng = np.random.default_rng(7)
    X = (rng.random((12, 25, 6)) < 0.15).astype(np.uint8)
    y = np.arange(12) % 3
    X[:, :, 0] |= (y[:, None] == 0) & (rng.random((12, 25)) < 0.4)
    return X, y, X.sum(axis=(1, 2)) / 10.0


def estimators(distributed, random_state=3):
    common = {"n_rec": 31, "p_rec": 0.3, "max_iter": 2, "batch_size": 4}
    common |= {"distributed": distributed, "random_state": random_state}
    return {
        "regressor": EPropRegressor(**common, cutoff=10),
        "classifier": EPropClassifier(**common, optimizer="gradient_descent", c_reg=0.1),
    }


def results(distributed, random_state=3) -> dict:
    """Fit, predict and learn on: what each estimator ends with."""
    X, y, t = data()
    out = {}
    for name, est in estimators(distributed, random_state).items():
        target = y if name == "classifier" else t
        est.fit(X, target)
        r = {"loss": list(est.loss_curve_), "predict": est.predict(X)}
        r["score"] = est.score(X, target)
        if name == "classifier":
            r["proba"] = est.predict_proba(X)
            est.partial_fit(X[:6], target[:6])
        else:
            r["spikes"] = est.record_spikes(X[:3])
            est.partial_fit(X[:6], target[:6])
        r["after_partial"] = est.predict(X)
        (ind, idx, w), w_out = est.weights_
        r["weights"], r["w_out"] = w, w_out
        r["energy"] = (est.energy_.writes, est.energy_.details, est.capacity_.details)
        r["abs_change"] = est.energy_.abs_change
        r["pickle"] = pickle.dumps(est)
        # a loaded estimator predicts on blocks it cuts from the whole network
        r["reloaded"] = pickle.loads(r["pickle"]).predict(X)
        out[name] = r
    return out


@contextmanager
def counting_state_gathers():
    """Count the gathers of every rank's network state (``Partition.absorb_into``) in this process."""
    from synaplast.distributed.eprop_mpi import Partition

    seen = []
    original = Partition.absorb_into

    def counted(self, whole):
        seen.append(self.comm.Get_rank())
        return original(self, whole)

    Partition.absorb_into = counted
    try:
        yield seen
    finally:
        Partition.absorb_into = original


if __name__ == "__main__":
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    with counting_state_gathers() as gathers:
        res = results("mpi")
    res["state_gathers"] = len(gathers)
    res["unseeded"] = results("mpi", random_state=None)["regressor"]["weights"]
    # ranks given different data refuse, all of them, instead of hanging
    X, _, t = data()
    reg = EPropRegressor(n_rec=8, max_iter=1, distributed="mpi", random_state=0)
    X[0, 0, 0] = comm.Get_rank()
    try:
        reg.fit(X, t)
        res["mismatch"] = None
    except ValueError as e:
        res["mismatch"] = str(e)
    with open(f"{sys.argv[1]}/rank{comm.Get_rank()}.pkl", "wb") as fh:
        pickle.dump(res, fh)
