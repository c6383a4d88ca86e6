"""One column shard of a :class:`ShardedAssociativeMemory`, held by a Dask actor.

A shard is a Rust store of the whole memory's shape that keeps only the
synapses onto its content units ``lo..hi`` (``AssocStore.store_columns``),
with the unit counts and pair count of the whole memory. A Willshaw shard
can be a ``LeanStore`` instead: the same synapses as ``u16`` offsets inside
its columns (2 bytes per potentiated synapse instead of 4, and no second
copy of the rows while storing), with its own integer potentials and
threshold/l-WTA selection over its columns. Every potential of
a content unit is a sum over the active address units of terms of that
unit's column, so a shard computes the potentials of its units exactly as
the unsharded memory does, in the same order: no floating-point sum crosses
shards. What leaves a shard is the partial potentials of a batch of queries
(or the units they select), never weights.

Storing is two-phase: :meth:`MemoryShard.begin` starts a pending copy,
:meth:`MemoryShard.add` stores blocks of pairs into it, and
:meth:`MemoryShard.commit` (or :meth:`MemoryShard.abort`) ends it, so a
failed or interrupted fit leaves every surviving shard as it was.
"""

from __future__ import annotations

import numpy as np

from synaplast import _core

__all__ = ["MemoryShard"]


class MemoryShard:
    """The synapses onto the content units ``lo..hi`` of an ``m × n`` memory.

    Parameters
    ----------
    config : dict
        The store's ``{"m", "n", "binary", "auto"}`` (the whole memory's).
    lo, hi : int
        The content units this shard holds.
    lean : bool
        Keep the synapses in a ``LeanStore`` (binary stores only).
    """

    def __init__(self, config, lo, hi, lean=False):
        self.config = dict(config)
        self.lo, self.hi = int(lo), int(hi)
        self.lean = bool(lean)
        self._store = None
        self._pending = None

    def _new_store(self):
        if self.lean:
            return _core.LeanStore(self.config, self.lo, self.hi)
        return _core.AssocStore(self.config)

    # ------------------------------------------------------------- storing

    def begin(self, reset):
        """Start storing: into a new empty store (``reset``) or a copy of this one."""
        if reset or self._store is None:
            self._pending = self._new_store()
        else:
            self._pending = self._store.copy()
        return True

    def add(self, uptr, uidx, vptr, vidx):
        """Store a block of pairs (compressed rows of the whole patterns) into the pending store."""
        if self._pending is None:
            raise RuntimeError("add() before begin()")
        uptr, uidx, vptr, vidx = _i64(uptr, uidx, vptr, vidx)
        if self.lean:
            self._pending.store(uptr, uidx, vptr, vidx)
        else:
            self._pending.store_columns(uptr, uidx, vptr, vidx, self.lo, self.hi)
        return True

    def commit(self):
        """Make the pending store this shard's store; returns its summary."""
        if self._pending is None:
            raise RuntimeError("commit() before begin()")
        if self.lean:
            self._pending.flush()
        self._store, self._pending = self._pending, None
        return self.summary()

    def abort(self):
        """Drop the pending store (this shard stays as it was)."""
        self._pending = None
        return True

    def summary(self):
        """What the memory's reports need from this shard."""
        s = self._store
        return {
            "n_pairs": int(s.n_pairs),
            "nonsilent": int(s.nonsilent),
            "stored_entries": int(s.stored_entries),
            "memory_bytes": int(s.memory_bytes()),
            "counters": dict(s.counters),
        }

    def unit_counts(self):
        """Address and content unit counts and the contents' mean activity (the whole memory's)."""
        s = self._store
        return np.asarray(s.address_counts), np.asarray(s.content_counts), float(s.mean_activity)

    # ------------------------------------------------------------- retrieval

    def check(self, params):
        """The core's checks of a retrieval against the memory (raises ValueError)."""
        self._store.check_retrieval(params)
        return True

    def potentials(self, qptr, qidx, params):
        """This shard's columns of the one-step potentials, ``(n_queries, hi − lo)``."""
        qptr, qidx = _i64(qptr, qidx)
        x = self._store.potentials(qptr, qidx, params)
        if self.lean:
            return x  # already this shard's columns
        return np.ascontiguousarray(x[:, self.lo : self.hi])

    def step_potentials(self, sptr, sidx, qptr, qidx, noise, params, anchored):
        """Potentials of one step of iterative retrieval for this shard's columns.

        ``(sptr, sidx)`` are the current states, ``noise`` their ``(p01, p10)``
        rows (the weights of each distinct pair are prepared once, as the
        core's retrieval does). With ``anchored`` the result is the evidence
        of the states' added parts (the query's step-1 potentials are added
        by the caller).
        """
        if self.lean:
            # Willshaw potentials depend on neither the noise rates nor the
            # query (anchoring is Bayesian only: the store's check refuses it).
            return self.potentials(sptr, sidx, params)
        sptr, sidx, qptr, qidx = _i64(sptr, sidx, qptr, qidx)
        noise = np.require(noise, dtype=np.float64, requirements="CA")
        nq = sptr.size - 1
        out = np.empty((nq, self.hi - self.lo), dtype=np.float64)
        keys, group = np.unique(noise, axis=0, return_inverse=True)
        group = np.asarray(group).reshape(-1)
        for g, (p01, p10) in enumerate(keys):
            rows = np.flatnonzero(group == g)
            s_ptr, s_idx = _take_rows(sptr, sidx, rows)
            p = dict(params, p01=float(p01), p10=float(p10))
            if anchored:
                q_ptr, q_idx = _take_rows(qptr, qidx, rows)
                x = self._store.added_potentials(q_ptr, q_idx, s_ptr, s_idx, p["p01"], p["p10"])
            else:
                x = self._store.potentials(s_ptr, s_idx, p)
            out[rows] = x[:, self.lo : self.hi]
        return out

    def threshold_units(self, qptr, qidx, params):
        """One-step threshold retrieval: the active units among this shard's columns."""
        qptr, qidx = _i64(qptr, qidx)
        if self.lean:
            ptr, idx, _ = self._store.select(qptr, qidx, params)
            return ptr, idx
        ptr, idx, _, _ = self._store.retrieve(qptr, qidx, params)
        keep = (idx >= self.lo) & (idx < self.hi)
        rows = np.repeat(np.arange(ptr.size - 1), np.diff(ptr))
        counts = np.bincount(rows[keep], minlength=ptr.size - 1)
        return np.concatenate(([0], np.cumsum(counts))).astype(np.int64), idx[keep]

    def wta_candidates(self, qptr, qidx, params, winners):
        """One-step l-WTA: per query, this shard's units whose potential is at
        least the shard's ``winners``-th largest (ties included), with their
        potentials. The global ``winners``-th largest potential is among the
        union of these lists, so merging them selects exactly the units the
        unsharded memory selects."""
        if self.lean:
            qptr, qidx = _i64(qptr, qidx)
            return self._store.select(qptr, qidx, dict(params, winners=int(winners)))
        x = self.potentials(qptr, qidx, params)
        nq, width = x.shape
        if width == 0 or winners == 0:
            return np.zeros(nq + 1, np.int64), np.zeros(0, np.int64), np.zeros(0)
        k = min(int(winners), width)
        kth = -np.partition(-x, k - 1, axis=1)[:, k - 1]
        mask = x >= kth[:, None]
        rows, cols = np.nonzero(mask)
        ptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=nq)))).astype(np.int64)
        return ptr, (cols + self.lo).astype(np.int64), x[rows, cols]


def _i64(*arrays):
    """Arrays as aligned, contiguous int64 (arrays that came over the network
    may sit unaligned in their message's buffer)."""
    return [np.require(a, dtype=np.int64, requirements="CA") for a in arrays]


def _take_rows(ptr, idx, rows):
    """The compressed rows ``rows`` of ``(ptr, idx)``."""
    lens = np.diff(ptr)[rows]
    new_ptr = np.concatenate(([0], np.cumsum(lens))).astype(np.int64)
    parts = [idx[ptr[r] : ptr[r + 1]] for r in rows]
    new_idx = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
    return new_ptr, new_idx
