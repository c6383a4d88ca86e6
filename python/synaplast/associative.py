"""``AssociativeMemory``: a scikit-learn estimator over the Rust associative memories."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from synaplast import _core
from synaplast._progress import Progress
from synaplast._validation import reject_dates, unchanged_on_error
from synaplast.energy import CapacityReport, EnergyReport, synaptic_ops
from synaplast.memory import _is_sparse, as_rows, binary_entropy, from_rows

__all__ = ["AssociativeMemory"]

RULES = ("willshaw", "bayes", "bcpnn", "covariance", "hebb", "hopfield")
RETRIEVALS = ("threshold", "wta", "hypercolumn")
_CHUNK = 1_000_000


class AssociativeMemory(BaseEstimator):
    """Neural associative memory: Willshaw, optimal Bayesian, BCPNN and linear rules.

    ``fit(U, Y)`` stores address/content pairs ``(u, v)`` of binary patterns
    (hetero-association; the contents are named ``Y`` as scikit-learn
    requires); ``fit(U)`` stores each pattern as its own content
    (auto-association). ``predict(Q)`` retrieves the contents addressed by
    the queries, ``decision_function(Q)`` returns the dendritic potentials
    of one retrieval step.

    The memory keeps the synapse counters ``M11(i, j)`` sparsely (only for
    pairs of units that were active together), the unit counts and the
    number of stored pairs; weights are computed from them at retrieval (see
    ``synaplast_core::memory::rules``), so ``partial_fit`` adds pairs without
    re-storing the old ones and changing ``p01``/``p10`` needs no
    re-learning. The Willshaw rule keeps only the list of potentiated
    synapses (4 bytes each).

    Parameters
    ----------
    rule : {"willshaw", "bayes", "bcpnn", "covariance", "hebb", "hopfield"}
        Learning rule. ``"bayes"`` is Knoblauch's (2011) optimal Bayesian rule
        for queries with miss rate ``p01`` and add rate ``p10`` (count terms
        floored at 1e-4 pairs); ``"bcpnn"`` uses ptBCPNN2's floors
        (``ε = 1/(M+1)`` for unit and ``ε²`` for pair probabilities). In
        auto-association the weighted rules drop the diagonal.
    retrieval : {"threshold", "wta", "hypercolumn"}
        Output selection: potentials ``>= threshold``; the ``l`` largest
        potentials (ties with the ``l``-th included); or one winner per
        hypercolumn (``n_hypercolumns`` equal consecutive groups).
    threshold : float, optional
        Fixed firing threshold. ``None``: the number of active query units
        for Willshaw, 0 for Bayes (posterior > 1/2); other rules need one.
    l : int, optional
        Winners for ``"wta"``; ``None``: the mean activity of the stored contents.
    n_hypercolumns : int, optional
        Hypercolumns for ``"hypercolumn"`` retrieval.
    n_iter : int
        Retrieval steps (auto-association only); a query stops as soon as its
        state is stable.
    noise_estimation : {None, "adaptive"}
        ``"adaptive"`` (ANE): between iterations, re-estimate the miss and add
        rates of the current state from the posterior the Bayesian potentials
        imply, and use them for the next step's weights (Bayesian rule only;
        the other rules have no noise parameters).
    anchor : bool
        Query-anchored iterative retrieval (Bayesian rule, auto-association,
        threshold or wta retrieval). The query's bits are the only
        independent observations; the state after a step is computed from
        them. So from step 2 on the potential is the query's own Bayesian
        evidence (rates ``p01``, ``p10``, kept from step 1) plus the evidence
        of the state's *added* part (its units outside the query, observed
        with their own miss/add rates, each unit's own state bit left out).
        Without ANE the added part is given the query's rates; with
        ``noise_estimation="adaptive"`` its rates are re-estimated from the
        posterior over the units outside the query (see
        ``rust/core/src/memory/retrieval.rs``). ``False``: every step treats
        the current state as a new query.
    p01, p10 : float in [0, 1)
        Query miss and add rates assumed by the Bayesian rule.
    compress : bool
        Structural compression: keep only the minority state of binary
        synapses (the silent ones when ``p1 > 0.5``) and count only synapses
        with ``M11 > 0`` as existing in ``capacity_`` (which then reports
        ``C^S``-style bits per existing synapse). Retrieval is unchanged.
    binarize : float, optional
        ``None``: patterns must be binary (0/1). A number: entries above it
        are active (like ``BernoulliNB``).
    verbose : bool
        Progress while storing.

    Attributes
    ----------
    n_features_in_ : int
        Address units ``m``.
    n_outputs_ : int
        Content units ``n``.
    auto_ : bool
        Whether the memory is auto-associative.
    n_patterns_ : int
        Stored pairs ``M``.
    p1_ : float
        Matrix load (fraction of synapses with ``M11 > 0``).
    energy_ : EnergyReport
        Writes during storage (a clipped synapse is written once; a counter
        once per co-activation) against their minimum, and the synaptic
        operations of one retrieval step for a query of mean address activity.
    capacity_ : CapacityReport
        Synapses, bytes held and the information of the stored contents
        (``M·n·I(q)``, an upper bound on what retrieval returns; use
        :func:`synaplast.memory.measure_capacity` for the measured capacity).
    """

    def __init__(
        self,
        rule="willshaw",
        retrieval="threshold",
        threshold=None,
        l=None,  # noqa: E741
        n_hypercolumns=None,
        n_iter=1,
        noise_estimation=None,
        anchor=False,
        p01=0.0,
        p10=0.0,
        compress=False,
        binarize=None,
        verbose=False,
    ):
        self.rule = rule
        self.retrieval = retrieval
        self.threshold = threshold
        self.l = l
        self.n_hypercolumns = n_hypercolumns
        self.n_iter = n_iter
        self.noise_estimation = noise_estimation
        self.anchor = anchor
        self.p01 = p01
        self.p10 = p10
        self.compress = compress
        self.binarize = binarize
        self.verbose = verbose

    # ------------------------------------------------------------------ params

    _parameter_constraints: dict = {
        "rule": [StrOptions(set(RULES))],
        "retrieval": [StrOptions(set(RETRIEVALS))],
        "threshold": [Interval(Real, -np.inf, np.inf, closed="neither"), None],
        "l": [Interval(Integral, 0, None, closed="left"), None],
        "n_hypercolumns": [Interval(Integral, 1, None, closed="left"), None],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "noise_estimation": [StrOptions({"adaptive"}), None],
        "anchor": ["boolean"],
        "p01": [Interval(Real, 0, 1, closed="left")],
        "p10": [Interval(Real, 0, 1, closed="left")],
        "compress": ["boolean"],
        "binarize": [Interval(Real, -np.inf, np.inf, closed="neither"), None],
        "verbose": ["verbose"],
    }

    def _check_params(self):
        """The declarative constraints, then the ones between parameters."""
        self._validate_params()
        if (
            self.threshold is None
            and self.retrieval == "threshold"
            and self.rule not in ("willshaw", "bayes")
        ):
            raise ValueError(
                f"rule {self.rule!r} has no natural threshold: set threshold, "
                "or use retrieval='wta' or 'hypercolumn'"
            )
        if self.retrieval == "hypercolumn" and self.n_hypercolumns is None:
            raise ValueError("retrieval='hypercolumn' needs n_hypercolumns")
        if self.anchor and (self.rule != "bayes" or self.retrieval == "hypercolumn"):
            raise ValueError(
                "anchor=True needs rule='bayes' and retrieval='threshold' or 'wta', "
                f"got rule={self.rule!r}, retrieval={self.retrieval!r}"
            )

    def _rows(self, X, name, reset):
        reject_dates(X, name)
        X = validate_data(
            self,
            X,
            reset=reset,
            accept_sparse="csr",
            dtype="numeric",
            ensure_min_samples=1,
        )
        return X, as_rows(X, name, binarize=self.binarize)

    def _content_rows(self, V, n_samples, n_out=None):
        from sklearn.utils import check_array

        V = check_array(V, accept_sparse="csr", dtype="numeric", ensure_2d=False, input_name="Y")
        is_1d = not _is_sparse(V) and V.ndim == 1
        if is_1d:
            V = V.reshape(-1, 1)
        if V.shape[0] != n_samples:
            raise ValueError(f"Y has {V.shape[0]} patterns, U has {n_samples}")
        rows = as_rows(V, "Y", binarize=self.binarize)
        if n_out is not None and rows[3] != n_out:
            raise ValueError(f"Y has {rows[3]} units, the memory's contents have {n_out}")
        return rows, is_1d

    # ------------------------------------------------------------------ fitting

    @unchanged_on_error
    def fit(self, U, Y=None):
        """Store the pairs ``(U[r], Y[r])``, or the patterns ``U`` when ``Y`` is None.

        Parameters
        ----------
        U : array-like or sparse matrix of shape (n_patterns, m)
            Binary address patterns ``u``.
        Y : array-like or sparse matrix of shape (n_patterns, n), optional
            Binary content patterns ``v`` (named ``Y`` for scikit-learn);
            ``None`` for auto-association. A 1-d array is one content unit.

        Returns
        -------
        self : AssociativeMemory
            The memory holding the pairs.
        """
        self._check_params()
        return self._store_pairs(U, Y, reset=True)

    @unchanged_on_error
    def partial_fit(self, U, Y=None):
        """Store more pairs without re-storing the old ones.

        Every check runs before the store changes, so a failed call leaves
        the memory as it was.

        Parameters
        ----------
        U : array-like or sparse matrix of shape (n_patterns, m)
            Binary address patterns.
        Y : array-like or sparse matrix of shape (n_patterns, n), optional
            Binary content patterns; ``None`` for auto-association (as in
            the first call).

        Returns
        -------
        self : AssociativeMemory
            The memory holding the old and the new pairs.
        """
        self._check_params()
        if not hasattr(self, "_store"):
            return self._store_pairs(U, Y, reset=True)
        if (Y is None) != self.auto_:
            raise ValueError(
                "partial_fit must keep the kind of memory: "
                + ("auto-associative (Y=None)" if self.auto_ else "hetero-associative (Y given)")
            )
        return self._store_pairs(U, Y, reset=False)

    def _store_pairs(self, U, V, reset):
        U, (uptr, uidx, n_rows, m) = self._rows(U, "U", reset)
        auto = V is None
        y_1d = False
        if reset:
            if auto:
                vptr, vidx, n = uptr, uidx, m
            else:
                (vptr, vidx, _, n), y_1d = self._content_rows(V, n_rows)
            store = _core.AssocStore(
                {"m": m, "n": n, "binary": self.rule == "willshaw", "auto": auto}
            )
        else:
            # Several chunks are several core calls: store into a copy, so an
            # interrupted call (Ctrl-C between chunks) or a concurrent one
            # never leaves some chunks applied. One chunk is one atomic call.
            store = self._store.copy() if n_rows > _CHUNK else self._store
            n = self.n_outputs_
            if auto:
                vptr, vidx = uptr, uidx
            else:
                (vptr, vidx, _, _), y_1d = self._content_rows(V, n_rows, n)
                if y_1d != self._y_1d:
                    raise ValueError("Y must keep its number of dimensions between calls")
            if store.n_pairs + n_rows >= 2**32:
                raise ValueError("at most 2**32 - 1 pairs can be stored (u32 counters)")
            if store.binary != (self.rule == "willshaw"):
                raise ValueError(
                    "rule changed between calls: willshaw keeps binary synapses, the other "
                    "rules counters; call fit to start again"
                )
        # Everything the core checks per chunk (shapes, sorted in-range units,
        # the u32 pair limit) is validated above, so no chunk can fail halfway
        # and a failed call leaves the memory unchanged.
        with Progress(n_rows, "storing", enabled=bool(self.verbose)) as bar:
            for a in range(0, max(n_rows, 1), _CHUNK):
                b = min(a + _CHUNK, n_rows)
                if b <= a:
                    break
                up = uptr[a : b + 1] - uptr[a]
                ui = uidx[uptr[a] : uptr[b]]
                vp = vptr[a : b + 1] - vptr[a]
                vi = vidx[vptr[a] : vptr[b]]
                store.store(up, ui, vp, vi)
                bar.update(b - a)
        if self.compress:
            store.compress()
        return self._adopt(store, auto, n, y_1d)

    def _adopt(self, store, auto, n, y_1d):
        """Hold ``store`` and set the fitted attributes and reports from it."""
        self._store = store
        self._y_1d = y_1d
        self.auto_ = auto
        self.n_outputs_ = n
        self.n_patterns_ = int(store.n_pairs)
        self.p1_ = float(store.p1)
        counts = np.asarray(store.address_counts, dtype=np.float64)
        self.mean_address_activity_ = float(counts.sum() / max(store.n_pairs, 1))
        self.mean_content_activity_ = float(
            np.asarray(store.content_counts, dtype=np.float64).sum() / max(store.n_pairs, 1)
        )
        self._reports()
        return self

    def _reports(self):
        s = self._store
        m, n = s.shape
        c = s.counters
        binary = s.binary
        p1 = float(s.p1)
        nonsilent = int(s.nonsilent)
        if binary:
            min_writes, min_abs = nonsilent, float(nonsilent)
        else:
            min_writes, min_abs = nonsilent, float(c["abs_change"])
        k = self.mean_address_activity_
        if binary:
            per_row = s.stored_entries / m
            ops = k * per_row
        else:
            ops = k * n
        pred = synaptic_ops(ops, binary=binary, sparse=binary)
        self.energy_ = EnergyReport(
            writes=int(c["writes"]),
            abs_change=float(c["abs_change"]),
            min_writes=int(min_writes),
            min_abs_change=min_abs,
            synapses_grown=int(c["grown"]) if not binary else int(c["writes"]),
            ops_per_prediction=float(ops),
            prediction_ops=pred,
            details={"rule": self.rule, "steps_counted": 1},
        )
        n_potential = n * (n - 1) if s.auto else m * n
        if self.compress:
            n_syn = int(s.stored_entries) if binary else nonsilent
        else:
            n_syn = n_potential
        q = self.mean_content_activity_ / n
        stored_bits = self.n_patterns_ * n * float(binary_entropy(q))
        C = stored_bits / n_potential if n_potential else 0.0
        ip1 = float(binary_entropy(p1))
        self.capacity_ = CapacityReport(
            n_synapses=n_syn,
            n_potential=n_potential,
            memory_bytes=int(s.memory_bytes()),
            stored_bits=stored_bits,
            details={
                "p1": p1,
                "C_I": C / ip1 if ip1 > 0 else float("nan"),
                "C_S": C / min(p1, 1 - p1) if 0 < p1 < 1 else float("nan"),
                "compressed": bool(self.compress),
                "inverted": bool(s.inverted),
                "n_pairs": self.n_patterns_,
            },
        )

    @unchanged_on_error
    def merge(self, other):
        """Add the pairs stored in ``other``: exactly the memory that stored both.

        A memory's state is a sum over its stored pairs (integer synapse
        counters, unit counts and the pair count; for Willshaw the union of
        the potentiated synapses), so merging is exact: storing blocks of
        patterns in separate memories (in other processes, see
        :func:`synaplast.distributed.fit_blocks`) and merging them gives,
        bit for bit, the memory that stored all pairs at once, energy
        counters included.

        Parameters
        ----------
        other : AssociativeMemory
            A fitted memory with the same parameters (``verbose`` aside), the
            same numbers of address and content units, the same kind (auto or
            hetero) and contents of the same number of dimensions.

        Returns
        -------
        self : AssociativeMemory
            This memory, now holding the pairs of both.
        """
        if not isinstance(other, AssociativeMemory):
            raise TypeError(f"other must be an AssociativeMemory, got {type(other).__name__}")
        check_is_fitted(self, "_store")
        check_is_fitted(other, "_store")
        if not isinstance(other._store, _core.AssocStore):
            raise TypeError(
                f"other must hold its pairs in this process, got a {type(other).__name__}"
            )
        mine = {k: v for k, v in self.get_params().items() if k != "verbose"}
        theirs = {k: v for k, v in other.get_params().items() if k != "verbose"}
        differ = sorted(k for k in mine if mine[k] != theirs[k])
        if differ:
            raise ValueError(
                "cannot merge memories with different parameters: "
                + ", ".join(f"{k}={mine[k]!r} vs {theirs[k]!r}" for k in differ)
            )
        for what, a, b in (
            ("address units", self.n_features_in_, other.n_features_in_),
            ("content units", self.n_outputs_, other.n_outputs_),
            ("auto-association", self.auto_, other.auto_),
            ("1-d contents", self._y_1d, other._y_1d),
        ):
            if a != b:
                raise ValueError(f"cannot merge memories that differ in {what}: {a} vs {b}")
        names = [getattr(e, "feature_names_in_", None) for e in (self, other)]
        if (names[0] is None) != (names[1] is None) or (
            names[0] is not None and not np.array_equal(names[0], names[1])
        ):
            raise ValueError("cannot merge memories fitted on different feature names")
        if self.n_patterns_ + other.n_patterns_ >= 2**32:
            raise ValueError("at most 2**32 - 1 pairs can be stored (u32 counters)")
        store = self._store.copy()
        store.merge(other._store)
        if self.compress:
            store.compress()
        return self._adopt(store, self.auto_, self.n_outputs_, self._y_1d)

    # ------------------------------------------------------------------ retrieval

    def _winners(self):
        if self.l is not None:
            return int(self.l)
        return int(round(self.mean_content_activity_))

    def retrieve(self, Q):
        """Retrieve the contents addressed by the queries, with details.

        Parameters
        ----------
        Q : array-like or sparse matrix of shape (n_queries, m)
            Binary query patterns (noisy or partial addresses).

        Returns
        -------
        patterns : ndarray of uint8 or sparse matrix, shape (n_queries, n)
            Retrieved contents; sparse (CSR) when ``Q`` is sparse.
        iterations : ndarray of int
            Steps each query ran.
        synaptic_ops : int
            Synapses read in total.
        """
        check_is_fitted(self, "_store")
        self._check_params()
        Q, (qptr, qidx, n_rows, _) = self._rows(Q, "Q", reset=False)
        # The core checks the retrieval against the memory (winners, hypercolumns,
        # iteration and anchoring need what the memory holds).
        ptr, idx, iters, ops = self._store.retrieve(
            qptr, qidx, self._retrieve_params(self._winners())
        )
        if getattr(self, "_y_1d", False):
            # fitted with 1-d contents: return 1-d predictions, as scikit-learn expects
            out = from_rows(ptr, idx, self.n_outputs_)[:, 0]
        else:
            out = from_rows(ptr, idx, self.n_outputs_, like=Q if _is_sparse(Q) else None)
        return out, iters, int(ops)

    def _retrieve_params(self, winners):
        """The core's ``RetrieveParams`` for ``winners`` output units (wta)."""
        return {
            "rule": self.rule,
            "retrieval": self.retrieval,
            "threshold": None if self.threshold is None else float(self.threshold),
            "winners": int(winners),
            "n_hypercolumns": int(self.n_hypercolumns or 0),
            "n_iter": int(self.n_iter),
            "adaptive": self.noise_estimation == "adaptive",
            "anchor": bool(self.anchor),
            "p01": float(self.p01),
            "p10": float(self.p10),
        }

    def predict(self, Q):
        """Retrieved binary patterns for the queries.

        Parameters
        ----------
        Q : array-like or sparse matrix of shape (n_queries, m)
            Binary query patterns.

        Returns
        -------
        patterns : ndarray of uint8 or sparse matrix, shape (n_queries, n)
            Dense uint8, or CSR for sparse ``Q``; 1-d when fitted on 1-d contents.
        """
        return self.retrieve(Q)[0]

    def decision_function(self, Q):
        """Dendritic potentials of one retrieval step.

        Parameters
        ----------
        Q : array-like or sparse matrix of shape (n_queries, m)
            Binary query patterns.

        Returns
        -------
        potentials : ndarray of shape (n_queries, n)
            float64 potentials of the content units under ``rule``.
        """
        check_is_fitted(self, "_store")
        self._check_params()
        Q, (qptr, qidx, _, _) = self._rows(Q, "Q", reset=False)
        h = int(self.n_hypercolumns or 0) if self.retrieval == "hypercolumn" else 0
        if h and self.n_outputs_ % h:
            raise ValueError(
                f"{self.n_outputs_} content units cannot form {self.n_hypercolumns} hypercolumns"
            )
        x = self._store.potentials(qptr, qidx, self._retrieve_params(0))
        return x[:, 0] if getattr(self, "_y_1d", False) else x

    def score(self, Q, y=None):
        """Fraction of queries whose retrieved pattern is exactly the target.

        This is scikit-learn's subset accuracy, the ``score`` of multi-output
        classifiers (higher is better, 1 at perfect recall), and Lansner's
        criterion of correct recall; :func:`synaplast.memory.output_noise`
        gives the finer per-pattern output noise.

        Parameters
        ----------
        Q : array-like or sparse matrix of shape (n_queries, m)
            Binary query patterns (noisy or partial addresses).
        y : array-like or sparse matrix of shape (n_queries, n), optional
            The contents the queries should retrieve (named ``y`` as
            scikit-learn's scorers pass it). ``None`` (only for an
            auto-associative memory): the queries themselves, i.e. the
            fraction of queries that are fixed points of retrieval.

        Returns
        -------
        score : float
            Fraction of the queries recalled without any wrong unit.
        """
        check_is_fitted(self, "_store")
        if y is None:
            if not self.auto_:
                raise ValueError("a hetero-associative memory needs y, the expected contents")
            y = Q
        retrieved = self.predict(Q)
        n_rows = retrieved.shape[0]
        (tptr, tidx, _, _), _ = self._content_rows(y, n_rows, self.n_outputs_)
        if getattr(self, "_y_1d", False):
            retrieved = retrieved.reshape(-1, 1)
        rptr, ridx, _, _ = as_rows(retrieved, "retrieved")
        same = [
            np.array_equal(ridx[rptr[r] : rptr[r + 1]], tidx[tptr[r] : tptr[r + 1]])
            for r in range(n_rows)
        ]
        return float(np.mean(same))

    # ------------------------------------------------------------------ sklearn plumbing

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = False
        return tags
