"""Generative replay from class statistics, for class-incremental streams.

A class-incremental stream cannot show the readout an old class again, and
the hidden units recruited after a class was last seen have never responded
to it, so how they respond to it is unknown: a prototype in the hidden code
cannot say. :class:`InputReplay` keeps instead, per class, a small generative
model of the class's *inputs* (statistics, never samples): its inputs are
split into a few clusters (k-means), and each cluster keeps its mean and its
leading principal directions with their standard deviations, a low-rank
Gaussian. When a batch lacks classes seen before, pseudo-inputs are drawn
from their models and passed through the current hidden layer, so every
unit's response to an old class, the recruited units' included, is
measured on inputs that look like the class, and the readout learns to tell
the old classes from the new ones (hippocampal replay of a class's gist
rather than of episodes; Shin et al. 2017 replay from a trained generator,
we keep closed-form statistics).

The model of a class costs ``n_components × (rank + 1)`` input-sized
vectors (5 × 21 on MNIST: about 82,000 numbers a class, about three
readout rows). One Gaussian per class instead of five gave 1.5-2 points
less on split MNIST (first 10,000 images), ten clusters of rank 10 the same
as five of rank 20.

The statistics are computed in double precision with one BLAS thread, so
the drawn inputs, and the model that learns from them, do not depend on
the number of threads. Draws are clipped to each feature's range in the
class, so rates stay non-negative and within their scale.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

__all__ = ["InputReplay", "class_model", "draw"]

#: Clusters per class (at most; fewer for classes with few samples).
N_COMPONENTS = 5
#: Principal directions kept per cluster.
RANK = 20
#: Samples a cluster needs per component (smaller classes get fewer clusters).
MIN_PER_COMPONENT = 50
#: Lloyd iterations of the per-class k-means.
KMEANS_ITER = 20


def _kmeans(R, k, seed):
    """Cluster labels of the rows of ``R`` (Lloyd's algorithm from ``k``
    distinct rows drawn with ``seed``; empty clusters keep their centre)."""
    rng = np.random.RandomState(seed % (2**32))
    centres = R[rng.choice(R.shape[0], k, replace=False)]
    sq = np.einsum("ij,ij->i", R, R)
    labels = np.zeros(R.shape[0], dtype=np.int64)
    for it in range(KMEANS_ITER):
        d = sq[:, None] - 2.0 * (R @ centres.T) + np.einsum("ij,ij->i", centres, centres)
        new = np.argmin(d, axis=1)
        if it > 0 and np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            members = labels == j
            if members.any():
                centres[j] = R[members].mean(axis=0)
    return labels


def class_model(R, seed=0):
    """Fit the generative model of one class.

    Parameters
    ----------
    R : array-like of shape (n_samples, n_features)
        The class's (encoded) inputs.
    seed : int, default=0
        Seeds the k-means (any non-negative integer).

    Returns
    -------
    model : list of tuple
        One low-rank Gaussian per cluster, ``(weight, mean, directions,
        scales, low, high)``: its share of the samples, its mean (d,), its
        leading principal directions (r × d, orthonormal rows), their
        standard deviations (r,), and the class's per-feature minimum and
        maximum (d,), the range draws are clipped to.
    """
    R = np.asarray(R, dtype=np.float64)
    n = R.shape[0]
    low, high = R.min(axis=0).astype(np.float32), R.max(axis=0).astype(np.float32)
    k = int(max(1, min(N_COMPONENTS, n // MIN_PER_COMPONENT)))
    with threadpool_limits(limits=1, user_api="blas"):
        labels = _kmeans(R, k, seed) if k > 1 else np.zeros(n, dtype=np.int64)
        model = []
        for j in range(k):
            Rj = R[labels == j]
            if Rj.shape[0] == 0:
                continue
            mean = Rj.mean(axis=0)
            rank = min(RANK, Rj.shape[0] - 1, R.shape[1])
            if rank > 0:
                _, s, vt = np.linalg.svd(Rj - mean, full_matrices=False)
                directions = vt[:rank]
                scales = s[:rank] / np.sqrt(Rj.shape[0] - 1)
            else:
                directions = np.zeros((0, R.shape[1]))
                scales = np.zeros(0)
            model.append(
                (
                    Rj.shape[0] / n,
                    mean.astype(np.float32),
                    directions.astype(np.float32),
                    scales.astype(np.float32),
                    low,
                    high,
                )
            )
    return model


def draw(model, n, rng):
    """Draw pseudo-inputs from a class model.

    Parameters
    ----------
    model : list of tuple
        A model from :func:`class_model`.
    n : int
        How many.
    rng : numpy.random.RandomState
        Source of the draws.

    Returns
    -------
    R : ndarray of shape (n, n_features)
        Float32 pseudo-inputs, each feature clipped to the range it had in
        the class (rates stay non-negative and within their scale).
    """
    weights = np.array([c[0] for c in model])
    which = rng.choice(len(model), size=n, p=weights / weights.sum())
    low, high = model[0][4], model[0][5]
    out = np.empty((n, low.size), dtype=np.float64)
    with threadpool_limits(limits=1, user_api="blas"):
        for j, (_, mean, directions, scales, _, _) in enumerate(model):
            rows = np.flatnonzero(which == j)
            z = rng.standard_normal((rows.size, scales.size)) * scales
            out[rows] = mean + z @ directions
    return np.clip(out, low, high).astype(np.float32)


class InputReplay:
    """Per-class generative models of the (encoded) inputs of a stream.

    :meth:`remember` replaces the models of the classes in a batch (the
    inputs of the last batch that held a class describe it); :meth:`draw`
    makes pseudo-inputs of classes seen before but missing from a batch.

    Attributes
    ----------
    models : dict of int -> list of tuple
        Per class index, its clusters as ``(weight, mean, directions,
        scales)`` (see :func:`class_model`).
    """

    def __init__(self):
        self.models = {}

    def copy(self):
        """A copy whose models can be replaced without touching this one.

        Returns
        -------
        replay : InputReplay
            The copy (the models themselves are never modified in place).
        """
        other = InputReplay()
        other.models = dict(self.models)
        return other

    def remember(self, R, labels, seed=0):
        """Fit the model of every class in ``labels`` on its rows of ``R``.

        Parameters
        ----------
        R : ndarray of shape (n_samples, n_features)
            Encoded inputs of the batch.
        labels : ndarray of shape (n_samples,)
            Class indices.
        seed : int, default=0
            Seeds the k-means of each class (with the class index added).

        Returns
        -------
        self : InputReplay
            This replay, with the classes' models replaced.
        """
        for k in np.unique(labels):
            self.models[int(k)] = class_model(R[labels == k], seed=seed + int(k))
        return self

    @property
    def nbytes(self):
        """Bytes the class models hold (their arrays)."""
        arrays = {id(a): a for m in self.models.values() for c in m for a in c[1:]}
        return int(sum(a.nbytes for a in arrays.values()))

    def draw(self, classes, n_per_class, seed):
        """Pseudo-inputs of ``classes`` (those with a model).

        Parameters
        ----------
        classes : sequence of int
            Class indices, in the order the pseudo-inputs are made.
        n_per_class : int
            Pseudo-inputs per class.
        seed : int
            Seeds the draw.

        Returns
        -------
        pseudo : tuple of (ndarray, ndarray) or None
            ``(R, labels)``: float32 inputs in ``[0, 1]`` and their class
            indices; ``None`` when no class has a model.
        """
        rng = np.random.RandomState(seed % (2**32))
        parts, labels = [], []
        for k in classes:
            model = self.models.get(int(k))
            if model is None or n_per_class < 1:
                continue
            parts.append(draw(model, n_per_class, rng))
            labels.append(np.full(n_per_class, k, dtype=np.int64))
        if not parts:
            return None
        return np.concatenate(parts), np.concatenate(labels)
