"""Baselines the models are compared against, in plain NumPy.

:class:`NonNegativeMLP` is backprop restricted to excitatory (non-negative)
input weights, the natural peer of the structural-plasticity classifier,
whose input synapses are excitatory too.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NonNegativeMLP"]


class NonNegativeMLP:
    """One-hidden-layer ReLU MLP trained by backprop (Adam, softmax
    cross-entropy) with the input→hidden weights projected onto ``w >= 0``
    after every step (projected gradient, as in Chorowski & Zurada 2015 for
    non-negative networks; the readout keeps its sign, as in the Hebbian
    model). Weights clamped to exactly 0 are silent synapses.
    """

    def __init__(self, n_hidden=100, max_iter=20, batch_size=200, lr=1e-3, random_state=0):
        self.n_hidden = n_hidden
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.lr = lr
        self.random_state = random_state

    def fit(self, X, y):
        rng = np.random.RandomState(self.random_state)
        self.classes_, yi = np.unique(y, return_inverse=True)
        n, d = X.shape
        c, h = len(self.classes_), self.n_hidden
        X = X.astype(np.float32)
        T = np.eye(c, dtype=np.float32)[yi]
        p = {
            "W1": np.abs(rng.normal(0, np.sqrt(2.0 / d), (d, h))).astype(np.float32),
            "b1": np.zeros(h, np.float32),
            "W2": rng.normal(0, np.sqrt(2.0 / h), (h, c)).astype(np.float32),
            "b2": np.zeros(c, np.float32),
        }
        m = {k: np.zeros_like(v) for k, v in p.items()}
        v = {k: np.zeros_like(val) for k, val in p.items()}
        step, self.writes_ = 0, 0
        for _ in range(self.max_iter):
            order = rng.permutation(n)
            for s in range(0, n, self.batch_size):
                idx = order[s : s + self.batch_size]
                a = X[idx] @ p["W1"] + p["b1"]
                hdn = np.maximum(a, 0)
                o = hdn @ p["W2"] + p["b2"]
                o -= o.max(1, keepdims=True)
                pr = np.exp(o)
                pr /= pr.sum(1, keepdims=True)
                go = (pr - T[idx]) / len(idx)
                gh = (go @ p["W2"].T) * (a > 0)
                g = {"W2": hdn.T @ go, "b2": go.sum(0), "W1": X[idx].T @ gh, "b1": gh.sum(0)}
                step += 1
                for k in p:
                    m[k] = 0.9 * m[k] + 0.1 * g[k]
                    v[k] = 0.999 * v[k] + 0.001 * g[k] ** 2
                    upd = (
                        self.lr
                        * (m[k] / (1 - 0.9**step))
                        / (np.sqrt(v[k] / (1 - 0.999**step)) + 1e-8)
                    )
                    old = p[k].copy() if k == "W1" else None
                    p[k] -= upd
                    if k == "W1":
                        np.maximum(p[k], 0, out=p[k])
                        self.writes_ += int(np.count_nonzero(p[k] != old))
                    else:
                        self.writes_ += int(np.count_nonzero(upd))
        self.params_ = p
        return self

    def transform(self, X):
        return np.maximum(X @ self.params_["W1"] + self.params_["b1"], 0)

    def predict(self, X):
        o = self.transform(X) @ self.params_["W2"] + self.params_["b2"]
        return self.classes_[np.argmax(o, 1)]

    def score(self, X, y):
        return float(np.mean(self.predict(X) == y))

    @property
    def n_synapses_(self):
        return int(np.count_nonzero(self.params_["W1"]))
