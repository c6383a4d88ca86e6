"""Thread control for the Rust kernels."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from synaplast import _core
from synaplast._validation import check_int


def set_num_threads(n: int) -> None:
    """Run the Rust kernels on ``n`` threads.

    Results do not depend on this setting: every kernel sums in a fixed order.

    Parameters
    ----------
    n : int
        Threads; ``0`` for one per core (or ``RAYON_NUM_THREADS``).

    Returns
    -------
    None
        The setting applies to every later call.
    """
    _core.set_num_threads(check_int(n, "n", low=0, high=4096))


def get_num_threads() -> int:
    """Number of threads the Rust kernels run on.

    Returns
    -------
    n : int
        Threads.
    """
    return _core.get_num_threads()


@contextmanager
def threads(n: int) -> Iterator[None]:
    """Context manager running the kernels inside it on ``n`` threads.

    Parameters
    ----------
    n : int
        Threads (``0``: one per core).

    Returns
    -------
    context : contextlib.AbstractContextManager
        Restores the previous number on exit.
    """
    previous = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        _core.set_num_threads(previous)
