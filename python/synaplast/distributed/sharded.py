"""``ShardedAssociativeMemory``: an associative memory sharded over Dask workers."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from synaplast.associative import AssociativeMemory
from synaplast.distributed.shard import MemoryShard
from synaplast.memory import _is_sparse, from_rows

__all__ = ["ShardLostError", "ShardedAssociativeMemory"]

# Pairs sent to the shards per message when fitting on in-memory arrays.
_BLOCK = 1 << 17


class ShardLostError(RuntimeError):
    """A worker holding a shard of a :class:`ShardedAssociativeMemory` died."""


class _Totals:
    """The shards' summaries summed, in the shape ``AssociativeMemory._reports`` reads."""

    def __init__(self, shape, binary, auto, summaries, mu1, mv1):
        self.shape = shape
        self.binary = binary
        self.auto = auto
        self.inverted = False
        self.n_pairs = summaries[0]["n_pairs"]
        self.nonsilent = sum(s["nonsilent"] for s in summaries)
        self.stored_entries = sum(s["stored_entries"] for s in summaries)
        self._bytes = sum(s["memory_bytes"] for s in summaries)
        c = [s["counters"] for s in summaries]
        self.counters = {
            "writes": sum(x["writes"] for x in c),
            # Integer-valued sums (one per write), so exact in any order.
            "abs_change": float(sum(x["abs_change"] for x in c)),
            "grown": sum(x["grown"] for x in c),
            "pruned": sum(x["pruned"] for x in c),
        }
        # The core's p1: non-silent synapses over m·n, in f64.
        self.p1 = float(self.nonsilent) / (float(shape[0]) * float(shape[1]))
        self.address_counts = mu1
        self.content_counts = mv1

    def memory_bytes(self):
        return self._bytes


class ShardedAssociativeMemory(AssociativeMemory):
    """An :class:`~synaplast.AssociativeMemory` sharded by content units over Dask workers.

    Each shard is a Dask actor holding one Rust store with the synapses onto
    a contiguous block of content units (columns) and the unit counts of the
    whole memory. A content unit's potential is a sum over the active
    address units of terms of its own column, so each shard computes its
    units' potentials exactly as the single-process memory does, in the same
    order: no floating-point sum crosses processes, and every rule and
    retrieval mode (threshold, l-WTA with ties, hypercolumns, iterative
    retrieval, ANE, query anchoring) gives **bit-identical** results to
    :class:`~synaplast.AssociativeMemory` with the same parameters.

    Queries travel in batches of ``batch_size``. One-step threshold
    retrieval brings back only the selected units of each shard; one-step
    l-WTA brings back each shard's candidates (its units at or above its
    own ``l``-th largest potential, ties included) and selects the global
    winners among them; the other modes bring back the shards' partial
    potentials of the batch (``8·n`` bytes per query and step) and run the
    core's selection and noise estimation on them. Weights never travel.

    Storing is two-phase: every shard stores a block of pairs into a pending
    copy, and the copies replace the stores only once all shards succeeded.
    If a shard fails (bad input, Ctrl-C) the memory is left as it was. If a
    worker holding a shard dies, that shard's synapses are gone: the call
    raises :class:`ShardLostError` naming the shard and its content units,
    the surviving shards drop their pending writes, and the memory refuses
    to retrieve until it is fitted again (``fit`` starts new shards on the
    workers then alive). Keep a copy (an ``AssociativeMemory`` built with
    ``fit_blocks``, or the patterns) if a memory must survive losing workers.

    Parameters
    ----------
    client : distributed.Client, optional
        The cluster; ``None``: the current default client.
    n_shards : int, optional
        Shards (content-unit blocks), placed round-robin on the workers;
        ``None``: one per worker.
    batch_size : int
        Queries per round trip to the shards.
    shard_store : {"auto", "lean", "counts"}
        How a shard keeps its synapses. ``"lean"`` (Willshaw only): the
        potentiated synapses as ``u16`` offsets inside the shard's columns,
        2 bytes each, merged into the rows from small pending buffers, so
        storing never holds a second copy of the rows; the shard counts its
        own integer potentials and selects its threshold or l-WTA units.
        ``"counts"``: the general counter store (4 bytes per synapse entry,
        plus 4 per count for the counting rules). ``"auto"``: ``"lean"`` for
        the Willshaw rule, else ``"counts"``. Results and reports (except
        ``capacity_.memory_bytes``) are the same either way.
    rule, retrieval, threshold, l, n_hypercolumns, n_iter, noise_estimation, anchor, p01, p10, compress, binarize, verbose
        As in :class:`~synaplast.AssociativeMemory`. ``compress`` changes
        the capacity report only (shards keep the potentiated synapses).

    Attributes
    ----------
    n_features_in_, n_outputs_, auto_, n_patterns_, p1_, energy_, capacity_
        As in :class:`~synaplast.AssociativeMemory`, summed over the shards
        (``capacity_.memory_bytes`` includes each shard's copy of the unit
        counts).
    shard_bounds_ : ndarray of int
        Shard ``s`` holds the content units ``shard_bounds_[s]`` to
        ``shard_bounds_[s + 1] − 1``.
    shard_workers_ : list of str
        The worker address of each shard.
    communication_ : dict
        Payload bytes sent to and received from the shards by the last
        call (``"sent"``, ``"received"``, ``"queries"``), without Dask's
        framing.
    """

    def __init__(
        self,
        client=None,
        n_shards=None,
        batch_size=1024,
        shard_store="auto",
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
        self.client = client
        self.n_shards = n_shards
        self.batch_size = batch_size
        self.shard_store = shard_store
        super().__init__(
            rule=rule,
            retrieval=retrieval,
            threshold=threshold,
            l=l,
            n_hypercolumns=n_hypercolumns,
            n_iter=n_iter,
            noise_estimation=noise_estimation,
            anchor=anchor,
            p01=p01,
            p10=p10,
            compress=compress,
            binarize=binarize,
            verbose=verbose,
        )

    def _check_params(self):
        from numbers import Integral

        for name, value in (("n_shards", self.n_shards), ("batch_size", self.batch_size)):
            if value is None and name == "n_shards":
                continue
            if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.shard_store not in ("auto", "lean", "counts"):
            raise ValueError(
                f"shard_store must be 'auto', 'lean' or 'counts', got {self.shard_store!r}"
            )
        if self.shard_store == "lean" and self.rule != "willshaw":
            raise ValueError(
                f"shard_store='lean' keeps binary synapses: it needs rule='willshaw', "
                f"got {self.rule!r}"
            )
        params = {
            k: v
            for k, v in self.get_params().items()
            if k not in ("client", "n_shards", "batch_size", "shard_store")
        }
        AssociativeMemory(**params)._check_params()

    def _lean(self):
        """Whether new shards keep their synapses in a ``LeanStore``."""
        return self.rule == "willshaw" and self.shard_store in ("auto", "lean")

    # ------------------------------------------------------------------ cluster

    def _client(self):
        if self.client is not None:
            return self.client
        from distributed import get_client

        try:
            return get_client()
        except ValueError as e:
            raise ValueError(
                "ShardedAssociativeMemory needs a Dask client: pass client=, or open one "
                "(distributed.Client(...)) before fitting"
            ) from e

    def _alive(self, client):
        return set(client.scheduler_info(n_workers=-1)["workers"])

    def _call_all(self, actors, method, *args_per_shard):
        """Call ``method`` on every actor (arguments per shard, or shared) and
        gather the results in shard order; the first failure is raised after
        every call has ended."""
        calls = []
        for s, actor in enumerate(actors):
            args = [a[s] if isinstance(a, _PerShard) else a for a in args_per_shard]
            calls.append(getattr(actor, method)(*args))
        results, error = [], None
        for c in calls:
            try:
                results.append(c.result())
            except Exception as e:  # noqa: BLE001 - re-raised below, after all calls ended
                results.append(None)
                error = error or e
        if error is not None:
            raise error
        return results

    def _lost_shards(self, client, workers, error=None, wait=5.0):
        """Shards whose worker is gone. After a communication error the
        scheduler may notice a dead worker only a moment later: wait up to
        ``wait`` seconds for it."""
        import time

        deadline = time.monotonic() + (wait if isinstance(error, OSError | TimeoutError) else 0)
        while True:
            alive = self._alive(client)
            lost = [s for s, w in enumerate(workers) if w not in alive]
            if lost or time.monotonic() >= deadline:
                return lost
            time.sleep(0.2)

    def _raise_lost(self, lost, workers, bounds, during):
        where = ", ".join(
            f"shard {s} (content units {bounds[s]}..{bounds[s + 1] - 1}) on worker {workers[s]}"
            for s in lost
        )
        raise ShardLostError(
            f"a Dask worker died during {during}: {where} is lost with its synapses. The other "
            "shards dropped their pending writes, but the memory cannot retrieve until it is "
            "fitted again (fit() starts new shards on the workers now alive)."
        )

    # ------------------------------------------------------------------ storing

    def fit(self, U, Y=None):
        """Store the pairs ``(U[r], Y[r])`` (or the patterns ``U``) in new shards.

        Parameters
        ----------
        U : array-like, sparse matrix or dask.array of shape (n_patterns, m)
            Binary address patterns; a ``dask.array`` is read one block of
            rows at a time, so it may exceed the client's memory.
        Y : array-like, sparse matrix or dask.array of shape (n_patterns, n), optional
            Binary contents (same row blocks as ``U``); ``None`` for
            auto-association.

        Returns
        -------
        self : ShardedAssociativeMemory
            The memory holding the pairs.
        """
        self._check_params()
        return self._store_blocks(U, Y, reset=True)

    def partial_fit(self, U, Y=None):
        """Store more pairs in the existing shards.

        Parameters
        ----------
        U : array-like, sparse matrix or dask.array of shape (n_patterns, m)
            Binary address patterns.
        Y : array-like, sparse matrix or dask.array of shape (n_patterns, n), optional
            Binary contents; ``None`` for auto-association (as in the first call).

        Returns
        -------
        self : ShardedAssociativeMemory
            The memory holding the old and the new pairs.
        """
        self._check_params()
        if not hasattr(self, "_actors"):
            return self._store_blocks(U, Y, reset=True)
        if (Y is None) != self.auto_:
            raise ValueError(
                "partial_fit must keep the kind of memory: "
                + ("auto-associative (Y=None)" if self.auto_ else "hetero-associative (Y given)")
            )
        self._usable()
        return self._store_blocks(U, Y, reset=False)

    def merge(self, other):
        """Not available: shards live on workers (merge ``AssociativeMemory`` objects instead).

        Parameters
        ----------
        other : AssociativeMemory
            Unused.

        Returns
        -------
        None
            Always raises ``TypeError``.
        """
        raise TypeError(
            "a ShardedAssociativeMemory cannot merge: merge AssociativeMemory objects "
            "(synaplast.distributed.fit_blocks) and fit the sharded memory on the patterns"
        )

    def _blocks(self, U, Y):
        """``(U_block, Y_block)`` pairs, one block of rows at a time."""
        import dask.array as da

        if isinstance(U, da.Array) or isinstance(Y, da.Array):
            if not isinstance(U, da.Array):
                U = da.from_array(U, chunks=(Y.chunks[0], -1))
            U = U.rechunk({1: -1})
            if Y is not None:
                if not isinstance(Y, da.Array):
                    Y = da.from_array(Y, chunks=(U.chunks[0],) + ((-1,) if np.ndim(Y) == 2 else ()))
                if Y.chunks[0] != U.chunks[0]:
                    Y = Y.rechunk({0: U.chunks[0]})
            # Blocks are computed here, where they are sent from (the threaded
            # scheduler: shipping the graph to the cluster would send the
            # source data there and back).
            for b in range(len(U.chunks[0])):
                u = U.blocks[b].compute(scheduler="threads")
                y = None if Y is None else Y.blocks[b].compute(scheduler="threads")
                yield u, y
        else:
            # Bounded messages: at most _BLOCK pairs per round trip.
            n_rows = U.shape[0]
            for a in range(0, max(n_rows, 1), _BLOCK):
                yield U[a : a + _BLOCK], None if Y is None else Y[a : a + _BLOCK]

    def _store_blocks(self, U, Y, reset):
        client = self._client()
        auto = Y is None
        template = AssociativeMemory(binarize=self.binarize)
        actors, sent, n_blocks = None, 0, 0
        try:
            for b, (u, y) in enumerate(self._blocks(U, Y)):
                _, (uptr, uidx, n_rows, m) = template._rows(u, "U", reset=b == 0)
                if auto:
                    vptr, vidx, n = uptr, uidx, m
                else:
                    n_out = None if b == 0 else n
                    (vptr, vidx, _, n), y_1d = template._content_rows(y, n_rows, n_out)
                if b == 0:
                    if not reset:
                        self._check_like_fitted(m, n, auto, None if auto else y_1d)
                        actors, workers, bounds = (
                            self._actors,
                            self.shard_workers_,
                            self.shard_bounds_,
                        )
                        pairs = self.n_patterns_
                    else:
                        actors, workers, bounds, futures = self._start_shards(client, m, n, auto)
                        pairs = 0
                    self._begin(client, actors, workers, bounds, reset)
                pairs += n_rows
                if pairs >= 2**32:
                    raise ValueError("at most 2**32 - 1 pairs can be stored (u32 counters)")
                try:
                    self._call_all(actors, "add", uptr, uidx, vptr, vidx)
                except Exception as e:
                    self._fail(client, actors, workers, bounds, e)
                sent += len(actors) * (uptr.nbytes + uidx.nbytes + vptr.nbytes + vidx.nbytes)
                n_blocks += 1
            if n_blocks == 0:
                raise ValueError("U holds no patterns")
            try:
                summaries = self._call_all(actors, "commit")
                mu1, mv1, _ = actors[0].unit_counts().result()
            except Exception as e:
                self._fail(client, actors, workers, bounds, e)
        except BaseException:
            # Bad input in a later block, Ctrl-C: the shards drop the pending
            # writes and keep their stores.
            if actors is not None:
                self._abort(actors)
            raise
        if reset:
            self._actor_futures = futures
            self._actors = actors
            self.shard_workers_ = workers
            self.shard_bounds_ = bounds
            self._lost = []
            template_names = getattr(template, "feature_names_in_", None)
            if template_names is not None:
                self.feature_names_in_ = template_names
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            self.n_features_in_ = m
            self._y_1d = False if auto else y_1d
        store = _Totals((m, n), self.rule == "willshaw", auto, summaries, mu1, mv1)
        self.communication_ = {"sent": int(sent), "received": 0, "queries": 0}
        self._adopt(store, auto, n, self._y_1d)
        return self

    def _check_like_fitted(self, m, n, auto, y_1d):
        """New pairs for a fitted memory must have its shape."""
        if m != self.n_features_in_:
            raise ValueError(f"U has {m} units, the memory's addresses have {self.n_features_in_}")
        if n != self.n_outputs_:
            raise ValueError(f"Y has {n} units, the memory's contents have {self.n_outputs_}")
        if not auto and y_1d != self._y_1d:
            raise ValueError("Y must keep its number of dimensions between calls")

    def _start_shards(self, client, m, n, auto):
        workers_alive = sorted(self._alive(client))
        if not workers_alive:
            raise ValueError("the Dask cluster has no workers")
        n_shards = self.n_shards or len(workers_alive)
        if n_shards > n:
            raise ValueError(f"n_shards = {n_shards} exceeds the {n} content units")
        bounds = np.linspace(0, n, n_shards + 1).round().astype(np.int64)
        config = {"m": m, "n": n, "binary": self.rule == "willshaw", "auto": auto}
        workers = [workers_alive[s % len(workers_alive)] for s in range(n_shards)]
        futures = [
            client.submit(
                MemoryShard,
                config,
                int(bounds[s]),
                int(bounds[s + 1]),
                self._lean(),
                actor=True,
                workers=[workers[s]],
                allow_other_workers=False,
                pure=False,
            )
            for s in range(n_shards)
        ]
        actors = [f.result() for f in futures]
        return actors, workers, bounds, futures

    def _begin(self, client, actors, workers, bounds, reset):
        try:
            self._call_all(actors, "begin", reset)
        except Exception as e:
            self._fail(client, actors, workers, bounds, e)

    def _abort(self, actors):
        for actor in actors:
            try:
                actor.abort().result()
            except Exception:  # noqa: BLE001, S110 - a dead shard has nothing to abort
                pass

    def _fail(self, client, actors, workers, bounds, error):
        """After a failed store: abort the pending writes; raise ShardLostError
        if a worker died (and the memory's shards are among its losses)."""
        self._abort(actors)
        lost = self._lost_shards(client, workers, error)
        if not lost:
            raise error
        if getattr(self, "_actors", None) is actors:
            self._lost = lost
        elif hasattr(self, "_actors"):
            # A new fit failed; the memory's current shards may have died too.
            mine = self._lost_shards(client, self.shard_workers_)
            if mine:
                self._lost = mine
        self._raise_lost(lost, workers, bounds, "fit")

    def _usable(self):
        check_is_fitted(self, "_actors")
        if self._lost:
            where = ", ".join(
                f"shard {s} (content units {self.shard_bounds_[s]}.."
                f"{self.shard_bounds_[s + 1] - 1})"
                for s in self._lost
            )
            raise ShardLostError(
                f"{where} died with its worker: fit the memory again before using it"
            )

    # ------------------------------------------------------------------ retrieval

    def _queries(self, Q):
        """Query rows in batches (``dask.array`` queries one block at a time)."""
        import dask.array as da

        if isinstance(Q, da.Array):
            Q = Q.rechunk({1: -1})
            for b in range(len(Q.chunks[0])):
                yield self._rows(Q.blocks[b].compute(scheduler="threads"), "Q", reset=False)
        else:
            yield self._rows(Q, "Q", reset=False)

    def _batches(self, qptr, qidx, n_rows):
        for a in range(0, n_rows, self.batch_size):
            b = min(a + self.batch_size, n_rows)
            yield qptr[a : b + 1] - qptr[a], qidx[qptr[a] : qptr[b]]

    def retrieve(self, Q):
        """Retrieve the contents addressed by the queries, with the steps each ran.

        Parameters
        ----------
        Q : array-like, sparse matrix or dask.array of shape (n_queries, m)
            Binary query patterns.

        Returns
        -------
        patterns : ndarray of uint8 or sparse matrix, shape (n_queries, n)
            Retrieved contents; sparse (CSR) when ``Q`` is sparse.
        iterations : ndarray of int
            Steps each query ran.
        synaptic_ops : None
            Not counted across shards.
        """
        self._usable()
        self._check_params()
        params = self._retrieve_params(self._winners())
        self._actors[0].check(params).result()
        traffic = {"sent": 0, "received": 0, "queries": 0}
        ptrs, idxs, iters, like = [], [], [], None
        for Qb, (qptr, qidx, n_rows, _) in self._queries(Q):
            like = Qb if _is_sparse(Qb) else None
            for bptr, bidx in self._batches(qptr, qidx, n_rows):
                ptr, idx, it = self._retrieve_batch(bptr, bidx, params, traffic)
                ptrs.append(ptr)
                idxs.append(idx)
                iters.append(it)
                traffic["queries"] += bptr.size - 1
        self.communication_ = traffic
        ptr, idx = _concat_rows(ptrs, idxs)
        iterations = np.concatenate(iters) if iters else np.zeros(0, np.uint32)
        if getattr(self, "_y_1d", False):
            out = from_rows(ptr, idx, self.n_outputs_)[:, 0]
        else:
            out = from_rows(ptr, idx, self.n_outputs_, like=like)
        return out, iterations, None

    def _retrieve_batch(self, qptr, qidx, params, traffic):
        actors = self._actors
        nq = qptr.size - 1
        traffic["sent"] += len(actors) * (qptr.nbytes + qidx.nbytes)
        if self.n_iter == 1 and self.retrieval == "threshold":
            parts = self._call_all(actors, "threshold_units", qptr, qidx, params)
            traffic["received"] += sum(p.nbytes + i.nbytes for p, i in parts)
            ptr, idx = _join_columns(parts, nq)
            return ptr, idx, np.ones(nq, np.uint32)
        if self.n_iter == 1 and self.retrieval == "wta":
            parts = self._call_all(actors, "wta_candidates", qptr, qidx, params, params["winners"])
            traffic["received"] += sum(p.nbytes + i.nbytes + v.nbytes for p, i, v in parts)
            ptr, idx = _wta_merge(parts, nq, params["winners"])
            return ptr, idx, np.ones(nq, np.uint32)
        return self._iterate(qptr, qidx, params, traffic)

    def _iterate(self, qptr, qidx, params, traffic):
        """The core's retrieval loop, with the potentials gathered from the shards."""
        from synaplast import _core

        actors = self._actors
        nq = qptr.size - 1
        mean_activity = self._mean_activity
        states = [qidx[qptr[r] : qptr[r + 1]].copy() for r in range(nq)]
        noise = np.tile([params["p01"], params["p10"]], (nq, 1)).astype(np.float64)
        adaptive = params["adaptive"] and params["rule"] == "bayes"
        done = np.zeros(nq, bool)
        iterations = np.zeros(nq, np.uint32)
        anchored = None
        for step in range(params["n_iter"]):
            active = np.flatnonzero(~done)
            if active.size == 0:
                break
            sptr, sidx = _pack([states[r] for r in active])
            aptr, aidx = _pack([qidx[qptr[r] : qptr[r + 1]] for r in active])
            use = (
                noise[active]
                if adaptive
                else np.tile([params["p01"], params["p10"]], (active.size, 1))
            )
            is_anchored = bool(params["anchor"]) and step > 0
            traffic["sent"] += len(actors) * (sptr.nbytes + sidx.nbytes + use.nbytes)
            parts = self._call_all(
                actors, "step_potentials", sptr, sidx, aptr, aidx, use, params, is_anchored
            )
            traffic["received"] += sum(p.nbytes for p in parts)
            x = np.ascontiguousarray(np.concatenate(parts, axis=1))
            if is_anchored:
                x = x + anchored[active]
            lens = np.array([states[r].size for r in active], dtype=np.int64)
            yptr, yidx, nz = _core.AssocStore.next_states(
                x, lens, aptr, aidx, np.ascontiguousarray(noise[active]), params, mean_activity
            )
            if params["anchor"] and step == 0:
                anchored = np.zeros((nq, x.shape[1]))
                anchored[active] = x
            for t, r in enumerate(active):
                y = yidx[yptr[t] : yptr[t + 1]]
                iterations[r] += 1
                if self.auto_ and np.array_equal(y, states[r]):
                    done[r] = True
                states[r] = y
                noise[r] = nz[t]
        ptr, idx = _pack(states)
        return ptr, idx, iterations

    def predict(self, Q):
        """Retrieved binary patterns for the queries (bit-identical to ``AssociativeMemory``).

        Parameters
        ----------
        Q : array-like, sparse matrix or dask.array of shape (n_queries, m)
            Binary query patterns.

        Returns
        -------
        patterns : ndarray of uint8 or sparse matrix, shape (n_queries, n)
            Dense uint8, or CSR for sparse ``Q``; 1-d when fitted on 1-d contents.
        """
        return self.retrieve(Q)[0]

    def decision_function(self, Q):
        """Dendritic potentials of one retrieval step, gathered from the shards.

        Parameters
        ----------
        Q : array-like, sparse matrix or dask.array of shape (n_queries, m)
            Binary query patterns.

        Returns
        -------
        potentials : ndarray of shape (n_queries, n)
            float64 potentials of the content units under ``rule``.
        """
        self._usable()
        self._check_params()
        h = int(self.n_hypercolumns or 0) if self.retrieval == "hypercolumn" else 0
        if h and self.n_outputs_ % h:
            raise ValueError(
                f"{self.n_outputs_} content units cannot form {self.n_hypercolumns} hypercolumns"
            )
        params = self._retrieve_params(0)
        traffic = {"sent": 0, "received": 0, "queries": 0}
        out = []
        for _, (qptr, qidx, n_rows, _) in self._queries(Q):
            for bptr, bidx in self._batches(qptr, qidx, n_rows):
                traffic["sent"] += len(self._actors) * (bptr.nbytes + bidx.nbytes)
                parts = self._call_all(self._actors, "potentials", bptr, bidx, params)
                traffic["received"] += sum(p.nbytes for p in parts)
                traffic["queries"] += bptr.size - 1
                out.append(np.concatenate(parts, axis=1))
        self.communication_ = traffic
        x = np.concatenate(out, axis=0)
        return x[:, 0] if getattr(self, "_y_1d", False) else x

    def _adopt(self, store, auto, n, y_1d):
        super()._adopt(store, auto, n, y_1d)
        self._mean_activity = float(np.asarray(store.content_counts).sum()) / float(
            max(store.n_pairs, 1)
        )
        return self

    def __getstate__(self):
        raise TypeError(
            "a ShardedAssociativeMemory lives on its Dask workers and cannot be pickled; "
            "fit an AssociativeMemory (synaplast.distributed.fit_blocks) to keep a copy"
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class _PerShard(list):
    """Arguments that differ per shard (one entry per shard)."""


def _pack(rows):
    lens = np.array([r.size for r in rows], dtype=np.int64)
    ptr = np.concatenate(([0], np.cumsum(lens))).astype(np.int64)
    idx = np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, np.int64)
    return ptr, idx


def _concat_rows(ptrs, idxs):
    if not ptrs:
        return np.zeros(1, np.int64), np.zeros(0, np.int64)
    out_ptr, offset = [np.zeros(1, np.int64)], 0
    for p in ptrs:
        out_ptr.append(p[1:] + offset)
        offset += int(p[-1])
    return np.concatenate(out_ptr), np.concatenate(idxs).astype(np.int64)


def _join_columns(parts, nq):
    """Rows from the shards' column blocks (shard order = ascending units)."""
    rows = [
        np.concatenate([idx[ptr[r] : ptr[r + 1]] for ptr, idx in parts]).astype(np.int64)
        for r in range(nq)
    ]
    return _pack(rows)


def _wta_merge(parts, nq, winners):
    """Global l-WTA from the shards' candidate lists: the units whose potential
    is at least the ``winners``-th largest of all candidates (ties included)."""
    rows = []
    for r in range(nq):
        idx = np.concatenate([i[p[r] : p[r + 1]] for p, i, _ in parts])
        val = np.concatenate([v[p[r] : p[r + 1]] for p, _, v in parts])
        if winners == 0 or idx.size == 0:
            rows.append(np.zeros(0, np.int64))
            continue
        k = min(int(winners), idx.size)
        kth = -np.partition(-val, k - 1)[k - 1]
        rows.append(np.sort(idx[val >= kth]).astype(np.int64))
    return _pack(rows)
