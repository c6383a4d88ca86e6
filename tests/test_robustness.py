"""Regressions of issue 16: no panic, hang, abort or half-applied call.

Cases that crashed or hung the interpreter before their fix run in a
subprocess (with a memory cap where they allocated), so a regression fails
the test instead of killing the test run.
"""

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.datasets import load_digits

import synaplast
from synaplast import (
    AssociativeMemory,
    CompetitivePlasticityClassifier,
    StructuralPlasticityClassifier,
    SynapseMatrix,
    _core,
)


def run_isolated(code: str, timeout: float = 120, memory_gb: float | None = None):
    """Run ``code`` in a fresh interpreter; returns (returncode, stdout + stderr)."""
    prefix = ""
    if memory_gb is not None:
        prefix = (
            "import resource\n"
            f"lim = int({memory_gb} * 2**30)\n"
            "resource.setrlimit(resource.RLIMIT_AS, (lim, lim))\n"
        )
    proc = subprocess.run(
        [sys.executable, "-c", prefix + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:150] / 16.0, y[:150]


def test_products_from_python_threads_with_an_explicit_pool():
    # The reproducer: after `threads(k)` the products run in an
    # explicit pool, which re-entered a borrowed thread-local ("already borrowed").
    with synaplast.threads(2):

        def job(seed):
            W = SynapseMatrix((600, 64))
            W.grow_random(32, random_state=seed)
            x = np.random.default_rng(seed).random((700, 64)).astype(np.float32)
            want = W.to_dense() @ x.T
            for _ in range(8):
                np.testing.assert_allclose(W.forward(x), want.T, rtol=1e-4, atol=1e-4)
                W.backward(np.ones((700, 600), np.float32))

        with ThreadPoolExecutor(4) as ex:
            list(ex.map(job, range(8)))


def test_tiny_connection_probabilities_terminate():
    code, out = run_isolated(
        """
        import numpy as np
        from synaplast import EPropClassifier
        X = (np.random.default_rng(0).random((8, 10, 4)) < 0.2).astype(np.uint8)
        for p in (1e-17, 1e-300):
            clf = EPropClassifier(n_rec=8, max_iter=1, p_in=p, p_rec=p, random_state=0)
            clf.fit(X, np.arange(8) % 2)
        print("done")
        """,
        timeout=60,
    )
    assert code == 0 and "done" in out, out


@pytest.mark.parametrize("batch_size", [10**8, 2**62])
def test_huge_batch_size_structural_equals_one_batch(digits, batch_size):
    X, y = digits
    kw = dict(n_hidden=30, max_iter=2, random_state=0)
    whole = StructuralPlasticityClassifier(batch_size=len(X), **kw).fit(X, y)
    huge = StructuralPlasticityClassifier(batch_size=batch_size, **kw).fit(X, y)
    np.testing.assert_array_equal(huge.predict_proba(X), whole.predict_proba(X))


def test_huge_batch_size_competitive_is_refused_by_name(digits):
    X, y = digits
    for bs in (10**12, 2**62):
        clf = CompetitivePlasticityClassifier(hidden_layer_sizes=(20,), batch_size=bs)
        with pytest.raises(MemoryError, match="batch_size"):
            clf.fit(X, y)


def test_init_range_beyond_float32_is_a_value_error():
    W = SynapseMatrix((5, 5))
    with pytest.raises(ValueError, match="float32"):
        W.grow_random(2, init=(-2e38, 2e38))
    with pytest.raises(ValueError, match="float32"):
        W.grow([0, 1], [1, 2], init=(-3e38, 3e38))
    assert W.nnz == 0


@pytest.mark.parametrize(
    "expr",
    [
        "SynapseMatrix((10**9, 10**9))",
        "SynapseMatrix((2**32 - 1, 1))",
        "SynapseMatrix((10**5, 10**5)).to_dense()",
    ],
)
def test_huge_shapes_raise_memory_error(expr):
    # Under a 2 GiB address-space cap these aborted ("memory allocation failed").
    code, out = run_isolated(
        f"""
        import numpy as np
        from synaplast import SynapseMatrix, _core
        try:
            {expr}
        except MemoryError as e:
            print("MemoryError", e)
        else:
            print("no error")
        """,
        memory_gb=2,
    )
    assert code == 0 and "MemoryError" in out, out


def test_huge_inhibitory_population_is_refused(digits):
    X, y = digits
    clf = StructuralPlasticityClassifier(n_hidden=10, n_inhibitory=10**12, max_iter=1)
    with pytest.raises((MemoryError, ValueError), match="inhibitory"):
        clf.fit(X, y)


def test_fortran_ordered_arrays_are_not_read_transposed():
    d = np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3))
    with pytest.raises(ValueError, match="C-ordered"):
        _core.SynapseMatrix.from_dense(d)
    m = _core.SynapseMatrix.from_dense(np.ascontiguousarray(d))
    with pytest.raises(ValueError, match="C-ordered"):
        m.forward(np.asfortranarray(np.ones((4, 3), np.float32)))
    np.testing.assert_array_equal(SynapseMatrix.from_dense(d).to_dense(), d)


def test_non_finite_weights_are_refused_and_updates_saturate():
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match="NaN or infinity"):
            SynapseMatrix.from_dense(np.array([[bad, 1.0]], np.float32))
        with pytest.raises(ValueError, match="finite"):
            _core.SynapseMatrix.from_dense(np.array([[bad, 1.0]], np.float32))
    m = SynapseMatrix.from_dense(np.array([[3e38, 1.0]], np.float32))
    m.apply_delta(np.array([3e38, 1.0], np.float32))
    assert np.isfinite(m.weights).all()


def test_multi_chunk_partial_fit_is_all_or_nothing(monkeypatch):
    import synaplast.associative as assoc

    rng = np.random.default_rng(0)
    U = (rng.random((40, 30)) < 0.2).astype(np.uint8)
    mem = AssociativeMemory().fit(U[:10])
    before = (mem.n_patterns_, mem.predict(U[:10]).copy())

    class Interrupted:
        """A progress bar that is interrupted (Ctrl-C) after the first chunk."""

        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n):
            raise KeyboardInterrupt

    monkeypatch.setattr(assoc, "_CHUNK", 7)
    monkeypatch.setattr(assoc, "Progress", Interrupted)
    with pytest.raises(KeyboardInterrupt):
        mem.partial_fit(U[10:])
    assert mem.n_patterns_ == before[0]
    assert mem._store.n_pairs == before[0]
    np.testing.assert_array_equal(mem.predict(U[:10]), before[1])


def test_huge_recurrent_layer_is_refused():
    # 10^8 recurrent units aborted on an allocation failure under a memory cap.
    code, out = run_isolated(
        """
        import numpy as np
        from synaplast import EPropClassifier
        X = (np.random.default_rng(0).random((4, 10, 3)) < 0.2).astype(np.uint8)
        try:
            EPropClassifier(n_rec=10**8, max_iter=1).fit(X, np.arange(4) % 2)
        except MemoryError as e:
            print("MemoryError", e)
        """,
        memory_gb=2,
    )
    assert code == 0 and "MemoryError" in out and "recurrent" in out, out


@pytest.mark.parametrize("param", ["batch_size", "n_inhibitory"])
def test_sizes_beyond_int64_name_the_parameter(digits, param):
    X, y = digits
    with pytest.raises(ValueError, match=param):
        StructuralPlasticityClassifier(max_iter=1, **{param: 2**64}).fit(X, y)
