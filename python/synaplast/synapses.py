"""Sparse synapse storage with structural plasticity.

:class:`SynapseMatrix` stores the synapses onto ``n_post`` postsynaptic
neurons from ``n_pre`` presynaptic neurons as compressed rows (one row per
postsynaptic neuron, sorted presynaptic indices, ``float32`` weights or, for
binary clipped synapses, none). Absent positions are *potential synapses*:
structural plasticity prunes silent synapses and grows new ones there, so
memory and compute scale with the synapses that exist.
"""

from __future__ import annotations

import numpy as np

from synaplast import _core
from synaplast._validation import (
    as_bool,
    as_float32,
    as_index,
    check_binary,
    check_int,
    check_real,
    seed_from,
)

__all__ = ["SynapseMatrix", "kwta"]

_INF = float("inf")


def _bounds(bounds) -> tuple[float, float]:
    if bounds is None:
        return -_INF, _INF
    try:
        lo, hi = bounds
    except (TypeError, ValueError):
        raise TypeError(f"bounds must be a pair (low, high), got {bounds!r}") from None
    lo = -_INF if lo is None else float(lo)
    hi = _INF if hi is None else float(hi)
    if np.isnan(lo) or np.isnan(hi) or lo > hi:
        raise ValueError(f"bounds ({lo}, {hi}) are not an interval")
    return lo, hi


def _init_range(init) -> tuple[float, float]:
    """``init`` is a constant weight or a ``(low, high)`` uniform range."""
    if isinstance(init, tuple | list):
        if len(init) != 2:
            raise ValueError(f"init must be a weight or a (low, high) pair, got {init!r}")
        lo = check_real(init[0], "init[0]")
        hi = check_real(init[1], "init[1]")
        if lo > hi:
            raise ValueError(f"init range ({lo}, {hi}) has low > high")
        return lo, hi
    w = check_real(init, "init")
    return w, w


class SynapseMatrix:
    """Sparse synapses onto ``n_post`` neurons from ``n_pre`` neurons.

    Parameters
    ----------
    shape : tuple of int
        ``(n_post, n_pre)``.
    binary : bool, default=False
        Binary (clipped, Willshaw) synapses: indices only, every synapse has
        weight 1 and there are no weights to learn.

    Attributes
    ----------
    shape : tuple of int
    nnz : int
        Number of existing synapses.
    density : float
        ``nnz / (n_post * n_pre)``.
    counters : dict
        Synaptic ``writes`` and ``abs_change`` made by the update kernels and
        the numbers of synapses ``grown`` and ``pruned`` since creation.

    Examples
    --------
    >>> import numpy as np, synaplast
    >>> W = synaplast.SynapseMatrix.from_dense(np.eye(3, dtype=np.float32))
    >>> W.nnz, W.forward(np.ones((1, 3))).tolist()
    (3, [[1.0, 1.0, 1.0]])
    """

    __slots__ = ("_m",)

    def __init__(self, shape, *, binary: bool = False):
        try:
            n_post, n_pre = shape
        except (TypeError, ValueError):
            raise TypeError(f"shape must be a pair (n_post, n_pre), got {shape!r}") from None
        # Indices are uint32: a clear ValueError, not the binding's OverflowError.
        n_post = check_int(n_post, "n_post", low=0, high=2**32 - 1)
        n_pre = check_int(n_pre, "n_pre", low=0, high=2**32 - 1)
        self._m = _core.SynapseMatrix(n_post, n_pre, bool(binary))

    @classmethod
    def _wrap(cls, m) -> SynapseMatrix:
        obj = cls.__new__(cls)
        obj._m = m
        return obj

    # ------------------------------------------------------------------ build
    @classmethod
    def from_dense(cls, weights, *, binary: bool = False) -> SynapseMatrix:
        """Keep the non-zero entries of a dense ``(n_post, n_pre)`` array.

        With ``binary=True`` the array must hold only 0 and 1.
        """
        w = as_float32(weights, "weights", 2)
        if binary:
            check_binary(w, "weights")
        return cls._wrap(_core.SynapseMatrix.from_dense(w, bool(binary)))

    @classmethod
    def from_coo(cls, post, pre, weights=None, *, shape, binary: bool = False) -> SynapseMatrix:
        """Build from coordinate triplets ``(post[k], pre[k], weights[k])``.

        Repeated positions are summed (weighted) or merged (binary), as in
        ``scipy.sparse``. Indices outside ``shape`` raise ``ValueError``.
        """
        n_post, n_pre = (check_int(s, "shape", low=0) for s in shape)
        post = as_index(post, "post")
        pre = as_index(pre, "pre")
        if weights is not None:
            if binary:
                raise ValueError("binary synapses take no weights")
            weights = as_float32(weights, "weights", 1)
        return cls._wrap(
            _core.SynapseMatrix.from_coo(n_post, n_pre, post, pre, weights, bool(binary))
        )

    @classmethod
    def from_scipy(cls, matrix, *, binary: bool = False) -> SynapseMatrix:
        """Build from any ``scipy.sparse`` matrix or array (converted to CSR)."""
        try:
            import scipy.sparse as sp
        except ImportError as exc:  # pragma: no cover - scipy is optional
            raise ImportError("from_scipy needs scipy: pip install scipy") from exc
        if not sp.issparse(matrix):
            raise TypeError(f"expected a scipy.sparse matrix, got {type(matrix).__name__}")
        csr = sp.csr_matrix(matrix)
        csr.eliminate_zeros()
        data = as_float32(csr.data, "matrix data", 1)
        if binary:
            check_binary(data, "matrix data")
        n_post, n_pre = csr.shape
        return cls._wrap(
            _core.SynapseMatrix.from_csr(
                n_post,
                n_pre,
                np.asarray(csr.indptr, dtype=np.int64),
                np.asarray(csr.indices, dtype=np.int64),
                None if binary else data,
                bool(binary),
            )
        )

    def to_scipy(self):
        """A ``scipy.sparse.csr_matrix`` copy (float32; ones for binary synapses).

        Returns
        -------
        matrix : scipy.sparse.csr_matrix
            Shape ``(n_post, n_pre)``.
        """
        import scipy.sparse as sp

        data = self._m.weights
        if data is None:
            data = np.ones(self.nnz, dtype=np.float32)
        return sp.csr_matrix((data, self._m.indices, self._m.indptr), shape=self.shape)

    def to_dense(self) -> np.ndarray:
        """Dense float32 copy, zeros where no synapse exists.

        Returns
        -------
        weights : ndarray of shape (n_post, n_pre)
            The weights.
        """
        return self._m.to_dense()

    def copy(self) -> SynapseMatrix:
        """An independent copy (counters included).

        Returns
        -------
        copy : SynapseMatrix
            The copy.
        """
        return self._wrap(self._m.copy())

    # ------------------------------------------------------------ inspection
    @property
    def shape(self) -> tuple[int, int]:
        return self._m.shape

    @property
    def nnz(self) -> int:
        return self._m.nnz

    @property
    def density(self) -> float:
        return self._m.density

    @property
    def binary(self) -> bool:
        return self._m.binary

    @property
    def indptr(self) -> np.ndarray:
        """Row pointers (int64, length ``n_post + 1``); a copy."""
        return self._m.indptr

    @property
    def indices(self) -> np.ndarray:
        """Presynaptic index of every synapse (uint32, storage order); a copy."""
        return self._m.indices

    @property
    def weights(self) -> np.ndarray | None:
        """Weight of every synapse (float32, storage order), ``None`` if binary; a copy."""
        return self._m.weights

    @property
    def counters(self) -> dict:
        writes, abs_change, grown, pruned = self._m.counters
        return {"writes": writes, "abs_change": abs_change, "grown": grown, "pruned": pruned}

    def reset_counters(self) -> None:
        """Zero the energy and structural counters."""
        self._m.reset_counters()

    def memory_bytes(self) -> int:
        """Bytes actually held by the store (indices, weights, row pointers).

        Returns
        -------
        n_bytes : int
            Bytes held.
        """
        return self._m.memory_bytes()

    def row_sums(self) -> np.ndarray:
        """Sum of the weights onto each postsynaptic neuron.

        Returns
        -------
        sums : ndarray of shape (n_post,)
            float32 sums.
        """
        return self._m.row_sums()

    def row_counts(self) -> np.ndarray:
        """Number of synapses onto each postsynaptic neuron.

        Returns
        -------
        counts : ndarray of shape (n_post,)
            int64 counts.
        """
        return self._m.row_counts()

    def post_indices(self) -> np.ndarray:
        """Postsynaptic neuron of every synapse (storage order).

        Returns
        -------
        post : ndarray of shape (nnz,)
            int64 indices.
        """
        return np.repeat(np.arange(self.shape[0], dtype=np.int64), np.diff(self.indptr))

    def check_invariants(self) -> None:
        """Raise ``ValueError`` if the storage invariants are broken (they never should be)."""
        self._m.check_invariants()

    # -------------------------------------------------------------- products
    def forward(self, x) -> np.ndarray:
        """Dendritic input ``x @ W.T`` of a batch.

        Parameters
        ----------
        x : array-like of shape (batch, n_pre)
            Presynaptic activity.

        Returns
        -------
        y : ndarray of shape (batch, n_post)
            float32 input of every postsynaptic neuron.
        """
        x = as_float32(x, "x", 2)
        if x.shape[1] != self.shape[1]:
            raise ValueError(f"x has {x.shape[1]} columns, expected n_pre = {self.shape[1]}")
        return self._m.forward(x)

    def backward(self, g) -> np.ndarray:
        """Transposed product ``g @ W`` of a batch.

        Parameters
        ----------
        g : array-like of shape (batch, n_post)
            Postsynaptic signal (e.g. errors).

        Returns
        -------
        x : ndarray of shape (batch, n_pre)
            float32 signal sent back to every presynaptic neuron.
        """
        g = as_float32(g, "g", 2)
        if g.shape[1] != self.shape[0]:
            raise ValueError(f"g has {g.shape[1]} columns, expected n_post = {self.shape[0]}")
        return self._m.backward(g)

    # ------------------------------------------------------------ plasticity
    def hebbian_update(self, post, pre, rate: float, *, bounds=None) -> tuple[int, float]:
        """Hebbian update of existing synapses, ``Δw_ij = rate · Σ_b post[b,i] pre[b,j]``.

        Parameters
        ----------
        post : array-like of shape (batch, n_post)
            Postsynaptic activity.
        pre : array-like of shape (batch, n_pre)
            Presynaptic activity.
        rate : float
            Learning rate.
        bounds : (low, high), optional
            Weights are clamped to this interval after the update.

        Returns
        -------
        writes, abs_change : int, float
            Synapses whose weight changed and the sum of the absolute changes
            (also added to :attr:`counters`).
        """
        self._require_weights()
        post = as_float32(post, "post", 2)
        pre = as_float32(pre, "pre", 2)
        if post.shape[1] != self.shape[0] or pre.shape[1] != self.shape[1]:
            raise ValueError(
                f"post and pre must have {self.shape[0]} and {self.shape[1]} columns, "
                f"got {post.shape[1]} and {pre.shape[1]}"
            )
        if post.shape[0] != pre.shape[0]:
            raise ValueError(f"post has {post.shape[0]} samples but pre has {pre.shape[0]}")
        lo, hi = _bounds(bounds)
        return self._m.hebbian_update(post, pre, check_real(rate, "rate"), lo, hi)

    def apply_delta(self, delta, *, bounds=None) -> tuple[int, float]:
        """Add one change per synapse (storage order), clamped to ``bounds``.

        Parameters
        ----------
        delta : array-like of shape (nnz,)
            Change of every synapse.
        bounds : (low, high), optional
            Weights are clamped to this interval after the update.

        Returns
        -------
        writes, abs_change : int, float
            As :meth:`hebbian_update`.
        """
        self._require_weights()
        delta = as_float32(delta, "delta", 1)
        if delta.shape[0] != self.nnz:
            raise ValueError(f"delta has {delta.shape[0]} entries for {self.nnz} synapses")
        lo, hi = _bounds(bounds)
        return self._m.apply_delta(delta, lo, hi)

    def set_weights(self, weights) -> None:
        """Overwrite all weights (storage order); not counted as plasticity.

        Parameters
        ----------
        weights : array-like of shape (nnz,)
            New weight of every synapse.

        Returns
        -------
        None
            The weights are replaced in place.
        """
        self._require_weights()
        w = as_float32(weights, "weights", 1)
        if w.shape[0] != self.nnz:
            raise ValueError(f"weights has {w.shape[0]} entries for {self.nnz} synapses")
        self._m.set_weights(w)

    def _require_weights(self) -> None:
        if self.binary:
            raise TypeError("binary synapses have no weights")

    # ------------------------------------------------- structural plasticity
    def prune(self, *, threshold=None, fraction=None, mask=None) -> int:
        """Remove synapses; give exactly one criterion.

        Parameters
        ----------
        threshold : float, optional
            Prune synapses with ``|w| < threshold`` (silent synapses).
        fraction : float in [0, 1], optional
            Prune ``floor(fraction * k_i)`` weakest synapses of every row ``i``
            with ``k_i`` synapses (ties: lower presynaptic index first).
        mask : bool array of shape (nnz,), optional
            Prune the synapses flagged True (any predicate, e.g.
            ``np.abs(W.weights) < 0.1``).

        Returns
        -------
        int
            Number of synapses removed.
        """
        given = [a is not None for a in (threshold, fraction, mask)]
        if sum(given) != 1:
            raise ValueError("give exactly one of threshold, fraction or mask")
        if threshold is not None:
            return self._m.prune_below(check_real(threshold, "threshold"))
        if fraction is not None:
            return self._m.prune_weakest(check_real(fraction, "fraction", low=0.0, high=1.0))
        return self._m.prune_mask(as_bool(mask, "mask", self.nnz))

    def grow(self, post, pre, weights=None, *, init=0.0, random_state=None) -> int:
        """Grow synapses at candidate positions ``(post[k], pre[k])``.

        Positions that already hold a synapse and repeated candidates are
        skipped.

        Parameters
        ----------
        post, pre : array-like of int
            Candidate positions (same length).
        weights : array-like, optional
            Initial weight of every candidate.
        init : float or (low, high), default=0.0
            Without ``weights``: a constant, or a uniform range.
        random_state : int, RandomState instance or None, default=None
            Seed of the uniform weights.

        Returns
        -------
        n_grown : int
            Synapses created.
        """
        post = as_index(post, "post")
        pre = as_index(pre, "pre")
        if post.shape != pre.shape:
            raise ValueError(f"post and pre differ in length ({post.shape[0]} vs {pre.shape[0]})")
        if weights is not None:
            if self.binary:
                raise ValueError("binary synapses take no weights")
            weights = as_float32(weights, "weights", 1)
        lo, hi = _init_range(init)
        return self._m.grow(post, pre, weights, (lo, hi), seed_from(random_state))

    def grow_random(self, per_row: int, *, init=0.0, random_state=None) -> int:
        """Grow ``per_row`` synapses per row at random absent positions.

        Positions are drawn uniformly without replacement among each row's
        potential synapses (fewer when a row is nearly full). The result depends
        only on ``random_state``, not on the number of threads.

        Parameters
        ----------
        per_row : int
            New synapses per postsynaptic neuron.
        init : float or (low, high), default=0.0
            Initial weights, as in :meth:`grow`.
        random_state : int, RandomState instance or None, default=None
            Seed of the positions and weights.

        Returns
        -------
        n_grown : int
            Synapses created.
        """
        per_row = check_int(per_row, "per_row", low=0)
        lo, hi = _init_range(init)
        return self._m.grow_random(per_row, (lo, hi), seed_from(random_state))

    def minimal_energy_from(self, initial: SynapseMatrix) -> tuple[int, float]:
        """The least energy that could have turned ``initial`` into this matrix.

        Parameters
        ----------
        initial : SynapseMatrix
            The synapses before learning.

        Returns
        -------
        min_writes, min_abs_change : int, float
            ``M0_min`` (synapses that differ) and ``M1_min`` (``Σ|Δw|``).
        """
        if not isinstance(initial, SynapseMatrix):
            raise TypeError(f"initial must be a SynapseMatrix, got {type(initial).__name__}")
        return self._m.minimal_energy_from(initial._m)

    # --------------------------------------------------------------- python
    def __getstate__(self):
        return {"core": self._m}

    def __setstate__(self, state):
        self._m = state["core"]

    def __repr__(self) -> str:
        return (
            f"SynapseMatrix(shape={self.shape}, nnz={self.nnz}, "
            f"density={self.density:.4g}, binary={self.binary})"
        )


def kwta(x, k: int) -> np.ndarray:
    """k-winners-take-all: a bool mask of the ``k`` largest entries of each row.

    Ties go to the lower column index, so the result is deterministic.

    Parameters
    ----------
    x : array-like of shape (n_rows, n_units)
        Activity.
    k : int
        Winners per row (``0 <= k <= n_units``).

    Returns
    -------
    mask : ndarray of bool, shape (n_rows, n_units)
        True for the winners.
    """
    x = as_float32(x, "x", 2)
    k = check_int(k, "k", low=0, high=x.shape[1])
    return _core.kwta_mask(x, k).astype(bool)
