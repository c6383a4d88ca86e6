"""Thread control for the Rust kernels.

The kernels run in one pool of threads. Its default size is the first of
the environment variables ``SYNAPLAST_NUM_THREADS``, ``RAYON_NUM_THREADS``
and ``OMP_NUM_THREADS`` that holds a positive count, else the number of
cores; it is read when the first kernel runs (and again at
``set_num_threads(0)``). Cluster engines (Dask, Ray, Spark, joblib's loky)
set ``OMP_NUM_THREADS`` for their workers, so a worker's kernels use the
threads it was given and workers × threads stay within the cores.

The pool is also registered with threadpoolctl (when it is installed) under
the ``"openmp"`` API, as an OpenMP runtime would be, so
``threadpoolctl.threadpool_limits(1)`` and every limit meant for compiled
kernels' threads reach it.
"""

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
        Threads; ``0`` for the default: ``SYNAPLAST_NUM_THREADS``, else
        ``RAYON_NUM_THREADS``, else ``OMP_NUM_THREADS``, else one per core.

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
        Threads (``0``: the default, see :func:`set_num_threads`).

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


def _register_threadpoolctl() -> None:
    """Make the kernel pool visible to threadpoolctl, if it is installed.

    threadpoolctl finds controllable pools among the loaded shared libraries:
    the extension module exports ``synaplast_get_num_threads`` and
    ``synaplast_set_num_threads``, which identify it (other modules named
    ``_core`` lack them) and which the controller calls.
    """
    try:
        import threadpoolctl
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        return
    if not hasattr(threadpoolctl, "register") or any(
        c.__name__ == "_KernelPoolController"
        for c in getattr(threadpoolctl, "_ALL_CONTROLLERS", ())
    ):
        return

    class _KernelPoolController(threadpoolctl.LibController):
        user_api = "openmp"
        internal_api = "synaplast"
        filename_prefixes = ("_core",)
        check_symbols = ("synaplast_get_num_threads", "synaplast_set_num_threads")

        def get_num_threads(self):
            get = getattr(self.dynlib, "synaplast_get_num_threads", None)
            return None if get is None else int(get())

        def set_num_threads(self, num_threads):
            set_ = getattr(self.dynlib, "synaplast_set_num_threads", None)
            if set_ is not None:
                set_(int(num_threads))

        def get_version(self):
            return _core.__version__

    threadpoolctl.register(_KernelPoolController)


_register_threadpoolctl()
