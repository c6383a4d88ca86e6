"""Measurement tools for associative memories.

Pattern generators (exactly-``k`` "Palm" patterns, Bernoulli patterns,
hypercolumnar/modular patterns), query noise, the closed-form Willshaw
theory, output noise and transinformation, and :func:`measure_capacity`,
which bisects the number of stored patterns for the largest ``M`` whose mean
output noise stays below ``eps``.

Notation (Knoblauch, Palm & Sommer 2010): address ``u`` with ``k`` of ``m``
units active, content ``v`` with ``l`` of ``n`` active, ``M`` stored pairs,
query miss rate ``p01`` and add rate ``p10``, matrix load ``p1`` (fraction of
potentiated synapses).

Patterns are binary arrays of shape ``(n_patterns, n_units)``; every
function here also accepts and, with ``sparse=True``, returns
``scipy.sparse`` CSR arrays, which is how patterns of 10^5 units are kept.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from synaplast._validation import check_binary, check_int, check_real

__all__ = [
    "CapacityResult",
    "RecallTask",
    "bernoulli_patterns",
    "binary_entropy",
    "corrupt_hypercolumns",
    "exact_k_patterns",
    "hypercolumn_patterns",
    "measure_capacity",
    "noisy_queries",
    "output_noise",
    "transinformation",
    "willshaw_theory",
]


# --------------------------------------------------------------------------- patterns as rows


def _is_sparse(x) -> bool:
    return hasattr(x, "tocsr") and not isinstance(x, np.ndarray)


def _active(values: np.ndarray, name: str, binarize: float | None) -> np.ndarray:
    """Which entries of ``values`` are active units: numeric and finite, and
    0/1 unless ``binarize`` is given (then the entries ``> binarize``)."""
    if values.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric (bool, int or float), got dtype {values.dtype}")
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or infinity")
    if binarize is None:
        check_binary(values, name)
        return values != 0
    return values > binarize


def as_rows(x, name: str, n_units: int | None = None, binarize: float | None = None):
    """``(indptr, indices, n_rows, n_units)`` (int64) of a binary pattern array.

    Dense arrays must hold only 0/1 unless ``binarize`` is given (entries
    ``> binarize`` become active); sparse matrices are read as CSR.
    """
    if _is_sparse(x):
        csr = x.tocsr(copy=True)
        if csr.ndim != 2:
            raise ValueError(f"{name} must be 2-dimensional, got shape {csr.shape}")
        csr.sum_duplicates()
        keep = _active(np.asarray(csr.data), name, binarize)
        row_of = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
        counts = np.bincount(row_of[keep], minlength=csr.shape[0])
        indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        indices = np.asarray(csr.indices)[keep].astype(np.int64)
        n_rows, units = csr.shape
    else:
        arr = np.asarray(x)
        if arr.dtype.kind in "biuf" and arr.ndim != 2:
            raise ValueError(f"{name} must be 2-dimensional, got shape {arr.shape}")
        mask = _active(arr, name, binarize)
        n_rows, units = arr.shape
        rows, indices = np.nonzero(mask)
        indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n_rows)))).astype(
            np.int64
        )
        indices = indices.astype(np.int64)
    if n_units is not None and units != n_units:
        raise ValueError(f"{name} has {units} units, expected {n_units}")
    # Dense rows come from np.nonzero (row-major) and sparse ones are in
    # canonical format after sum_duplicates, so every row is sorted.
    return (
        np.ascontiguousarray(indptr, dtype=np.int64),
        np.ascontiguousarray(indices, dtype=np.int64),
        n_rows,
        units,
    )


def from_rows(indptr, indices, n_units: int, *, sparse: bool = False, like=None):
    """Binary patterns from compressed rows: dense uint8, or CSR when ``sparse``.

    ``like``: a sparse input whose type (``csr_matrix`` or ``csr_array``) to return.
    """
    indptr = np.asarray(indptr, dtype=np.int64)
    indices = np.asarray(indices, dtype=np.int64)
    n_rows = indptr.size - 1
    if sparse or like is not None:
        import scipy.sparse as sp

        cls = sp.csr_matrix if (like is not None and sp.isspmatrix(like)) else sp.csr_array
        data = np.ones(indices.size, dtype=np.uint8)
        return cls((data, indices, indptr), shape=(n_rows, n_units))
    out = np.zeros((n_rows, n_units), dtype=np.uint8)
    rows = np.repeat(np.arange(n_rows), np.diff(indptr))
    out[rows, indices] = 1
    return out


# --------------------------------------------------------------------------- generators


def _rng(random_state) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31))
    return np.random.default_rng(random_state)


def exact_k_patterns(n_patterns, n, k, random_state=None, *, sparse=False):
    """``n_patterns`` random patterns of ``n`` units with exactly ``k`` active ("Palm" patterns).

    Parameters
    ----------
    n_patterns, n, k : int
        Number of patterns, units and active units (``0 <= k <= n``).
    random_state : int, Generator or None
        Seed.
    sparse : bool
        Return a ``scipy.sparse.csr_array`` instead of a dense uint8 array.
    """
    n_patterns = check_int(n_patterns, "n_patterns", low=0)
    n = check_int(n, "n", low=1)
    k = check_int(k, "k", low=0)
    if k > n:
        raise ValueError(f"k = {k} active units cannot exceed n = {n}")
    rng = _rng(random_state)
    if k == 0:
        idx = np.zeros((n_patterns, 0), dtype=np.int64)
    elif k * 4 <= n:
        # Draw with replacement and redraw the rows with duplicates.
        idx = np.sort(rng.integers(0, n, size=(n_patterns, k)), axis=1)
        bad = np.nonzero((np.diff(idx, axis=1) == 0).any(axis=1))[0]
        while bad.size:
            redraw = np.sort(rng.integers(0, n, size=(bad.size, k)), axis=1)
            idx[bad] = redraw
            bad = bad[(np.diff(redraw, axis=1) == 0).any(axis=1)]
    else:
        idx = np.empty((n_patterns, k), dtype=np.int64)
        step = max(1, (1 << 24) // n)
        for a in range(0, n_patterns, step):
            keys = rng.random((min(step, n_patterns - a), n))
            idx[a : a + step] = np.sort(np.argpartition(keys, k - 1, axis=1)[:, :k], axis=1)
    indptr = np.arange(n_patterns + 1, dtype=np.int64) * k
    return from_rows(indptr, idx.ravel(), n, sparse=sparse)


def bernoulli_patterns(n_patterns, n, p, random_state=None, *, sparse=False):
    """Patterns whose units are active independently with probability ``p``."""
    n_patterns = check_int(n_patterns, "n_patterns", low=0)
    n = check_int(n, "n", low=1)
    p = check_real(p, "p", low=0.0, high=1.0)
    rng = _rng(random_state)
    counts = rng.binomial(n, p, size=n_patterns)
    rows = []
    for c in counts:
        rows.append(np.sort(rng.choice(n, size=int(c), replace=False)))
    indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    indices = np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, np.int64)
    return from_rows(indptr, indices, n, sparse=sparse)


def hypercolumn_patterns(n_patterns, n_hypercolumns, size, random_state=None, *, sparse=False):
    """Modular patterns: ``n_hypercolumns`` groups of ``size`` units, one active per group."""
    n_patterns = check_int(n_patterns, "n_patterns", low=0)
    h = check_int(n_hypercolumns, "n_hypercolumns", low=1)
    size = check_int(size, "size", low=1)
    rng = _rng(random_state)
    idx = rng.integers(0, size, size=(n_patterns, h)) + np.arange(h) * size
    indptr = np.arange(n_patterns + 1, dtype=np.int64) * h
    return from_rows(indptr, idx.ravel(), h * size, sparse=sparse)


def noisy_queries(patterns, miss=0, add=0, random_state=None):
    """Queries from ``patterns``: ``miss`` active units removed, ``add`` inactive ones added.

    Both counts are per pattern and exact; the units are chosen uniformly.
    Returns the same kind of array (dense or sparse) as ``patterns``.
    """
    indptr, indices, n_rows, n = as_rows(patterns, "patterns")
    miss = check_int(miss, "miss", low=0)
    add = check_int(add, "add", low=0)
    lens = np.diff(indptr)
    if n_rows and miss > lens.min():
        raise ValueError(f"miss = {miss} exceeds the activity of a pattern ({lens.min()})")
    if n_rows and add > n - lens.max():
        raise ValueError(f"add = {add} exceeds the inactive units of a pattern ({n - lens.max()})")
    rng = _rng(random_state)
    out_rows = []
    for r in range(n_rows):
        row = indices[indptr[r] : indptr[r + 1]]
        keep = row if miss == 0 else np.delete(row, rng.choice(row.size, miss, replace=False))
        if add:
            extra = []
            have = set(row.tolist())
            while len(extra) < add:
                c = rng.integers(0, n, size=add - len(extra))
                for j in c.tolist():
                    if j not in have:
                        have.add(j)
                        extra.append(j)
            keep = np.concatenate((keep, np.asarray(extra, dtype=np.int64)))
        out_rows.append(np.sort(keep))
    counts = np.array([r.size for r in out_rows], dtype=np.int64)
    new_ptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    new_idx = np.concatenate(out_rows).astype(np.int64) if out_rows else np.zeros(0, np.int64)
    if _is_sparse(patterns):
        return from_rows(new_ptr, new_idx, n, like=patterns)
    return from_rows(new_ptr, new_idx, n)


def corrupt_hypercolumns(patterns, n_hypercolumns, n_corrupt, random_state=None):
    """Cues from modular patterns: in ``n_corrupt`` random hypercolumns the active
    unit moves to another, random unit of the same hypercolumn."""
    indptr, indices, n_rows, n = as_rows(patterns, "patterns")
    h = check_int(n_hypercolumns, "n_hypercolumns", low=1)
    c = check_int(n_corrupt, "n_corrupt", low=0, high=h)
    if n % h:
        raise ValueError(f"{n} units cannot be split into {h} hypercolumns")
    size = n // h
    if size < 2 and c:
        raise ValueError("hypercolumns of one unit cannot be corrupted")
    idx = indices.reshape(n_rows, -1) if n_rows else np.zeros((0, h), np.int64)
    if idx.shape[1] != h or not (idx // size == np.arange(h)).all():
        raise ValueError("patterns must have exactly one active unit per hypercolumn")
    rng = _rng(random_state)
    out = idx.copy()
    for r in range(n_rows):
        cols = rng.choice(h, size=c, replace=False)
        shift = rng.integers(1, size, size=c)
        out[r, cols] = cols * size + (idx[r, cols] - cols * size + shift) % size
    return from_rows(indptr, out.ravel(), n, like=patterns if _is_sparse(patterns) else None)


# --------------------------------------------------------------------------- information


def binary_entropy(p):
    """``I(p) = −p log2 p − (1−p) log2(1−p)`` in bits (elementwise, ``I(0) = I(1) = 0``)."""
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -p * np.log2(p) - (1 - p) * np.log2(1 - p)
    return np.where((p <= 0) | (p >= 1), 0.0, h)


def transinformation(q, q01, q10):
    """Transinformation per output unit in bits.

    ``T = I(q(1−q01) + (1−q)q10) − q·I(q01) − (1−q)·I(q10)`` for a unit that is
    active with probability ``q``, missed with probability ``q01`` when
    active and falsely active with probability ``q10`` when inactive.
    """
    q, q01, q10 = (np.asarray(v, dtype=np.float64) for v in (q, q01, q10))
    t = (
        binary_entropy(q * (1 - q01) + (1 - q) * q10)
        - q * binary_entropy(q01)
        - (1 - q) * binary_entropy(q10)
    )
    return float(t) if t.ndim == 0 else t


def willshaw_theory(m, n, k, l, eps, lam=1.0):  # noqa: E741
    """Closed-form capacity of a Willshaw network (binomial approximation).

    Full clean queries have ``lam = 1``; a query with a fraction ``lam`` of the
    address pattern has false-alarm probability ``≈ p1^(lam·k)``.

    Returns
    -------
    dict
        ``p1`` (matrix load at capacity), ``M_eps`` (pattern capacity),
        ``C`` (bits per synapse), ``C_I`` (``C / I(p1)``), ``C_S``
        (``C / min(p1, 1−p1)``), ``q10`` (false-alarm rate) and
        ``bits_per_pattern``.
    """
    m = check_int(m, "m", low=1)
    n = check_int(n, "n", low=1)
    k = check_int(k, "k", low=1, high=m)
    l = check_int(l, "l", low=1, high=n)  # noqa: E741
    eps = check_real(eps, "eps", low=0.0, low_open=True)
    lam = check_real(lam, "lam", low=0.0, high=1.0, low_open=True)
    if l == n:
        raise ValueError("l must be smaller than n")
    p1 = (eps * l / (n - l)) ** (1.0 / (lam * k))
    if p1 >= 1:
        raise ValueError("eps is too large: the network could store any number of patterns")
    M = math.log(1 - p1) / math.log(1 - k * l / (m * n))
    q10 = eps * l / (n - l)
    bits = n * transinformation(l / n, 0.0, q10)
    C = M * bits / (m * n)
    return {
        "p1": p1,
        "M_eps": M,
        "C": C,
        "C_I": C / float(binary_entropy(p1)),
        "C_S": C / min(p1, 1 - p1),
        "q10": q10,
        "bits_per_pattern": bits,
    }


def output_noise(retrieved, targets):
    """Output noise per pattern: ``(#false ones + #missing ones) / l``.

    ``l`` is the target's activity (patterns with ``l = 0`` count their false
    ones). Returns a float array of one value per pattern.
    """
    ra, ri, rn, ru = as_rows(retrieved, "retrieved")
    ta, ti, tn, tu = as_rows(targets, "targets")
    if (rn, ru) != (tn, tu):
        raise ValueError(f"retrieved has shape {(rn, ru)}, targets {(tn, tu)}")
    _, miss, false = _errors(ra, ri, ta, ti, ru)
    lens = np.diff(ta).astype(np.float64)
    return (miss + false) / np.maximum(lens, 1.0)


def _errors(ra, ri, ta, ti, n):
    """Per row: (correct ones, misses, false ones) from compressed rows."""
    rows = ra.size - 1
    key_r = np.repeat(np.arange(rows), np.diff(ra)) * n + ri
    key_t = np.repeat(np.arange(rows), np.diff(ta)) * n + ti
    both = np.isin(key_r, key_t, assume_unique=True)
    hit = np.bincount(np.repeat(np.arange(rows), np.diff(ra))[both], minlength=rows)
    miss = np.diff(ta) - hit
    false = np.diff(ra) - hit
    return hit.astype(np.float64), miss.astype(np.float64), false.astype(np.float64)


def _rates(pred_rows, target_rows, n):
    """Pooled (q, q01, q10) of predictions against targets."""
    ra, ri = pred_rows
    ta, ti = target_rows
    hit, miss, false = _errors(ra, ri, ta, ti, n)
    ones = np.diff(ta).sum()
    zeros = (ta.size - 1) * n - ones
    q = ones / max((ta.size - 1) * n, 1)
    q01 = miss.sum() / max(ones, 1)
    q10 = false.sum() / max(zeros, 1)
    return q, q01, q10


# --------------------------------------------------------------------------- capacity


@dataclass
class RecallTask:
    """A storage-and-recall experiment for :func:`measure_capacity`.

    Calling ``task(n_patterns, random_state)`` returns ``(U, V, queries,
    targets)``: the address and content patterns to store (``V`` is ``None``
    for auto-association), the queries (noisy versions of the first
    ``n_queries`` addresses) and the contents they should retrieve.

    Parameters
    ----------
    m : int
        Address units (and content units for auto-association).
    k : int
        Active address units (``kind="exact"``), or the mean activity
        (``"bernoulli"``); ignored for ``"hypercolumn"``.
    n, l : int, optional
        Content units and activity (hetero-association only).
    auto : bool
        Auto-association (``V = U``).
    kind : {"exact", "bernoulli", "hypercolumn"}
        Pattern generator.
    miss, add : int
        Query noise: active units removed and inactive ones added.
    n_hypercolumns : int, optional
        For ``kind="hypercolumn"`` (``m`` must be a multiple).
    corrupt : int
        Hypercolumns corrupted per cue (``kind="hypercolumn"``).
    n_queries : int
        Queries tested (the first stored pairs).
    """

    m: int
    k: int
    n: int | None = None
    l: int | None = None  # noqa: E741
    auto: bool = False
    kind: str = "exact"
    miss: int = 0
    add: int = 0
    n_hypercolumns: int | None = None
    corrupt: int = 0
    n_queries: int = 500

    def _gen(self, count, units, act, rng):
        if self.kind == "exact":
            return exact_k_patterns(count, units, act, rng, sparse=True)
        if self.kind == "bernoulli":
            return bernoulli_patterns(count, units, act / units, rng, sparse=True)
        if self.kind == "hypercolumn":
            h = self.n_hypercolumns
            if not h or units % h:
                raise ValueError("hypercolumn patterns need n_hypercolumns dividing the units")
            return hypercolumn_patterns(count, h, units // h, rng, sparse=True)
        raise ValueError(f"unknown kind {self.kind!r}: expected exact, bernoulli or hypercolumn")

    def __call__(self, n_patterns, random_state=None):
        rng = _rng(random_state)
        U = self._gen(n_patterns, self.m, self.k, rng)
        if self.auto:
            V = None
        else:
            V = self._gen(n_patterns, self.n or self.m, self.l or self.k, rng)
        nq = min(self.n_queries, n_patterns)
        Q = U[:nq]
        if self.corrupt:
            Q = corrupt_hypercolumns(Q, self.n_hypercolumns, self.corrupt, rng)
        if self.miss or self.add:
            Q = noisy_queries(Q, self.miss, self.add, rng)
        T = (U if V is None else V)[:nq]
        return U, V, Q, T


@dataclass
class CapacityResult:
    """Result of :func:`measure_capacity` (all measured at ``M_eps``).

    Attributes
    ----------
    M_eps : int
        Largest number of stored pairs with mean output noise ``<= eps``.
    noise : float
        Mean output noise at ``M_eps``.
    perfect : float
        Fraction of queries recalled perfectly (Lansner's criterion).
    p1 : float
        Matrix load (fraction of synapses with ``M11 > 0``).
    bits_per_pattern : float
        Retrieved information per pattern (minus what the query held, in auto).
    C, C_I, C_S : float
        Bits per synapse, per bit of compressed matrix (``C / I(p1)``) and per
        non-silent synapse (``C / min(p1, 1 − p1)``).
    evaluations : list of (M, noise, perfect)
        Every number of patterns tried.
    """

    M_eps: int
    noise: float
    perfect: float
    p1: float
    bits_per_pattern: float
    C: float
    C_I: float
    C_S: float
    evaluations: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def evaluate_recall(estimator, task, n_patterns, random_state=0):
    """Store ``n_patterns`` pairs of ``task`` in a clone of ``estimator`` and test recall.

    Returns ``(noise, perfect, fitted_estimator, bits_per_pattern)`` where
    ``noise`` is the mean output noise of the task's queries.
    """
    from sklearn.base import clone

    U, V, Q, T = task(n_patterns, random_state)
    est = clone(estimator)
    est.fit(U, V)
    Y = est.predict(Q)
    n = T.shape[1]
    pr = as_rows(Y, "retrieved")[:2]
    tr = as_rows(T, "targets")[:2]
    qr = as_rows(Q, "queries")[:2]
    hit, miss, false = _errors(*pr, *tr, n)
    lens = np.diff(tr[0]).astype(np.float64)
    eps = (miss + false) / np.maximum(lens, 1.0)
    q, q01, q10 = _rates(pr, tr, n)
    bits = n * transinformation(q, q01, q10)
    if V is None:
        # Auto-association: count only what retrieval adds beyond the query.
        _, c01, c10 = _rates(qr, tr, n)
        bits -= n * transinformation(q, c01, c10)
    return float(eps.mean()), float((eps == 0).mean()), est, float(bits)


def measure_capacity(
    estimator,
    generator,
    eps=0.01,
    *,
    start=16,
    rtol=0.02,
    max_patterns=10**7,
    random_state=0,
    verbose=False,
):
    """Pattern capacity ``M_eps`` by bisection, with ``C``, ``C^I``, ``C^S``.

    Stores ``M`` pairs from ``generator`` (a :class:`RecallTask` or any
    callable ``generator(M, random_state) -> (U, V, queries, targets)``) in a
    clone of ``estimator``, retrieves the queries and measures the mean output
    noise. ``M`` doubles from ``start`` until the noise exceeds ``eps``, then
    bisection narrows the step to ``rtol·M``. The same ``random_state`` is
    used at every ``M``.

    Capacity: ``C = M_eps · bits_per_pattern / #synapses`` with ``m·n``
    synapses (hetero) or ``n(n−1)`` (auto), where ``bits_per_pattern`` is the
    transinformation of the retrieved contents (``n·T(q, q01, q10)`` with the
    pooled miss and false-alarm rates), minus that of the query in
    auto-association.

    Returns
    -------
    CapacityResult
    """
    eps = check_real(eps, "eps", low=0.0, low_open=True)
    start = check_int(start, "start", low=1)
    rtol = check_real(rtol, "rtol", low=0.0, low_open=True)
    evals = []
    cache = {}

    def run(M):
        if M not in cache:
            noise, perfect, est, bits = evaluate_recall(estimator, generator, M, random_state)
            cache[M] = (noise, perfect, est.capacity_.details["p1"], bits, est)
            evals.append((M, noise, perfect))
            if verbose:
                print(f"  M = {M:>9}: noise {noise:.4f}, perfect {perfect:.3f}", flush=True)
        return cache[M]

    lo, hi = 0, None
    M = start
    while M <= max_patterns:
        if run(M)[0] <= eps:
            lo = M
            M *= 2
        else:
            hi = M
            break
    if hi is None:
        hi = max_patterns
    if lo == 0:
        # Even `start` pairs are too many: search below it.
        lo_try = 1
        while lo_try < hi and run(lo_try)[0] <= eps:
            lo = lo_try
            lo_try *= 2
        if lo == 0:
            return CapacityResult(0, float("nan"), float("nan"), 0.0, 0.0, 0.0, 0.0, 0.0, evals)
        hi = lo_try
    while hi - lo > max(1, int(rtol * lo)):
        mid = (lo + hi) // 2
        if run(mid)[0] <= eps:
            lo = mid
        else:
            hi = mid
    noise, perfect, p1, bits, est = run(lo)
    n_syn = est.capacity_.n_potential
    C = lo * bits / n_syn
    ip1 = float(binary_entropy(p1))
    return CapacityResult(
        M_eps=int(lo),
        noise=noise,
        perfect=perfect,
        p1=p1,
        bits_per_pattern=bits,
        C=C,
        C_I=C / ip1 if ip1 > 0 else float("nan"),
        C_S=C / min(p1, 1 - p1) if 0 < p1 < 1 else float("nan"),
        evaluations=sorted(evals),
    )
