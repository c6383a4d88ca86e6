"""Quick in-process fuzzing: generated bad input to the public API.

Every call must either succeed or raise a clean ``ValueError``,
``TypeError`` or ``MemoryError``. A Rust panic reaches Python as
``pyo3_runtime.PanicException`` (a ``BaseException``, not an
``Exception``) and fails the test, as does any other exception type.
Sizes stay small so this runs in seconds; ``make fuzz`` runs the long
variant (benches/fuzz.py), each case in a subprocess.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synaplast import (
    AssociativeMemory,
    CompetitivePlasticityClassifier,
    StructuralPlasticityClassifier,
    SynapseMatrix,
    kwta,
)

CLEAN = (ValueError, TypeError, MemoryError)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

special_floats = st.sampled_from(
    [0.0, -0.0, 1.0, -1.0, 1e-45, 1e38, -3e38, 3.4e38, np.inf, -np.inf, np.nan]
)
dtypes = st.sampled_from(
    ["float32", "float64", "float16", "int64", "uint8", "bool", "complex64", "object", "U3"]
)
# Sizes that must be refused by arithmetic, not by trying: shapes that
# merely exceed the free memory (2**31 rows) run in subprocesses with a
# memory cap (test_robustness.py, make fuzz), never here.
sizes = st.sampled_from([0, 1, 2, 3, 7, 2**32, 2**40, 2**62, 2**63 - 1, 2**64, -1])


@st.composite
def arrays(draw, max_rows=6, max_cols=6):
    """Small arrays of any dtype, shape, layout and special values."""
    shape = tuple(draw(st.lists(st.integers(0, max_rows), min_size=0, max_size=3)))
    dtype = draw(dtypes)
    n = int(np.prod(shape)) if shape else 1
    values = draw(st.lists(special_floats | st.floats(-10, 10), min_size=n, max_size=n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            a = np.array(values, dtype=np.float64).reshape(shape).astype(dtype)
        except (ValueError, TypeError, OverflowError):
            a = np.zeros(shape, dtype=dtype)
    layout = draw(st.sampled_from(["c", "f", "strided", "readonly", "list"]))
    if layout == "f":
        a = np.asfortranarray(a)
    elif layout == "strided" and a.ndim >= 1 and a.shape[0] > 1:
        a = np.repeat(a, 2, axis=0)[::2]
    elif layout == "readonly":
        a.flags.writeable = False
    elif layout == "list":
        return a.tolist()
    return a


def call(f, *args, **kwargs):
    """``f(...)``, passing on success and on clean exceptions only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return f(*args, **kwargs)
        except CLEAN:
            return None


@SETTINGS
@given(n_post=sizes, n_pre=sizes, binary=st.booleans())
def test_synapse_matrix_shapes(n_post, n_pre, binary):
    m = call(SynapseMatrix, (n_post, n_pre), binary=binary)
    if m is not None and m.shape[0] * m.shape[1] < 10**6:
        call(m.to_dense)


@SETTINGS
@given(w=arrays(), x=arrays(), g=arrays(), lo=special_floats, hi=special_floats, k=sizes)
def test_synapse_matrix_methods(w, x, g, lo, hi, k):
    m = call(SynapseMatrix.from_dense, w)
    if m is None:
        m = SynapseMatrix.from_dense(np.eye(3, dtype=np.float32))
    call(m.forward, x)
    call(m.backward, g)
    call(m.apply_delta, x)
    call(m.apply_delta, np.full(m.nnz, hi, np.float32), bounds=(lo, hi))
    call(m.hebbian_update, g, x, hi)
    call(m.set_weights, x)
    call(m.grow_random, min(k, 10) if k >= 0 else k, init=(lo, hi))
    call(m.grow, [0, 1], [1, 0], init=(lo, hi))
    call(m.prune, threshold=lo)
    call(m.prune, fraction=hi)
    call(kwta, x, k)
    m.check_invariants()
    if m.weights is not None:
        assert np.isfinite(m.weights).all()


@SETTINGS
@given(x=arrays(max_rows=8), y=arrays(max_rows=8), param=st.sampled_from(range(6)), v=sizes)
def test_estimators(x, y, param, v):
    params = [
        {},
        {"batch_size": v},
        {"n_hidden": v},
        {"n_inhibitory": v},
        {"init_synapses": v},
        {"max_iter": 1},
    ][param]
    clf = call(StructuralPlasticityClassifier(**{"max_iter": 1, "n_hidden": 5, **params}).fit, x, y)
    if clf is not None:
        call(clf.predict, x)
    comp = {"batch_size": v} if param == 1 else {}
    clf = call(
        CompetitivePlasticityClassifier(hidden_layer_sizes=(4,), max_epochs=1, **comp).fit, x, y
    )
    if clf is not None:
        call(clf.predict, x)
    mem = call(AssociativeMemory().fit, x)
    if mem is not None:
        call(mem.partial_fit, y)
        call(mem.predict, x)


@pytest.mark.parametrize("kind", ["structural", "competitive"])
def test_pickle_round_trip_is_exact(kind):
    import pickle

    rng = np.random.default_rng(0)
    X = rng.random((40, 6))
    y = np.arange(40) % 3
    if kind == "structural":
        clf = StructuralPlasticityClassifier(n_hidden=8, max_iter=2, random_state=0)
    else:
        clf = CompetitivePlasticityClassifier(hidden_layer_sizes=(6,), max_epochs=2)
    clf.fit(X, y)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict(X), clf.predict(X))
