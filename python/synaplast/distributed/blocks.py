"""Streams larger than memory: store blocks of patterns separately, then merge.

An associative memory's state is a sum over its stored pairs, so each block
of rows of a ``dask.array`` of patterns can be stored in its own memory, on
any worker, and the memories merged (:meth:`AssociativeMemory.merge`): the
result is bit-identical to storing every pair at once. Only the fitted
memories (their counters) travel, never the patterns of other blocks.
"""

from __future__ import annotations

from sklearn.base import clone

from synaplast.associative import AssociativeMemory

__all__ = ["fit_blocks"]


def _row_blocks(X, name):
    """The row blocks of a dask array as delayed objects (one column block)."""
    import dask.array as da

    if not isinstance(X, da.Array):
        raise TypeError(f"{name} must be a dask.array.Array, got {type(X).__name__}")
    if X.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1- or 2-dimensional, got shape {X.shape}")
    if X.ndim == 2 and len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    blocks = X.to_delayed()
    return X, [b if X.ndim == 1 else b[0] for b in blocks]


def _fit_block(memory, U, Y):
    return clone(memory).set_params(verbose=False).fit(U, Y)


def _merge(a, b):
    return a.merge(b)


def fit_blocks(memory, U, Y=None, *, scheduler=None):
    """Store a ``dask.array`` of patterns block by block, merging the blocks' memories.

    Each block of rows is stored in a fresh clone of ``memory`` (a task that
    Dask can run on any worker); the clones are merged pairwise in a tree
    of tasks. Merging is exact, so the result equals storing all pairs at
    once, bit for bit. If ``memory`` is fitted already, the new pairs are
    added to it (like :meth:`AssociativeMemory.partial_fit`).

    Parameters
    ----------
    memory : AssociativeMemory
        The memory to fit (its parameters are used; it is changed in place).
    U : dask.array.Array of shape (n_patterns, m)
        Binary address patterns; blocks may be dense or ``scipy.sparse``.
    Y : dask.array.Array of shape (n_patterns, n) or (n_patterns,), optional
        Binary contents with the same row blocks as ``U``; ``None`` for
        auto-association.
    scheduler : str or distributed.Client, optional
        Passed to ``dask.compute`` (``None``: the current default, e.g. a
        ``Client`` that is open).

    Returns
    -------
    memory : AssociativeMemory
        ``memory``, holding the pairs.
    """
    import dask

    if not isinstance(memory, AssociativeMemory):
        raise TypeError(f"memory must be an AssociativeMemory, got {type(memory).__name__}")
    U, ublocks = _row_blocks(U, "U")
    if U.ndim != 2:
        raise ValueError(f"U must be 2-dimensional, got shape {U.shape}")
    if Y is None:
        yblocks = [None] * len(ublocks)
    else:
        Y, yblocks = _row_blocks(Y, "Y")
        if Y.chunks[0] != U.chunks[0]:
            raise ValueError(
                f"Y's row blocks {Y.chunks[0]} differ from U's {U.chunks[0]}: rechunk Y like U"
            )
    if not ublocks or U.shape[0] == 0:
        raise ValueError("U holds no patterns")
    parts = [dask.delayed(_fit_block)(memory, u, y) for u, y in zip(ublocks, yblocks, strict=True)]
    while len(parts) > 1:
        # Pairwise, in block order: merging is exact, so the tree's shape
        # changes nothing but the depth of the work.
        merged = [dask.delayed(_merge)(a, b) for a, b in zip(parts[::2], parts[1::2], strict=False)]
        parts = merged + ([parts[-1]] if len(parts) % 2 else [])
    (fitted,) = dask.compute(parts[0], scheduler=scheduler)
    if hasattr(memory, "_store"):
        return memory.merge(fitted)
    # Adopt the fitted memory's state (not its parameters: they are the same).
    state = {k: v for k, v in fitted.__dict__.items() if k not in memory.get_params()}
    memory.__dict__.update(state)
    return memory
