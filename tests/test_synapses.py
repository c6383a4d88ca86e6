"""SynapseMatrix against a dense NumPy reference."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import synaplast
from conftest import random_sparse
from synaplast import SynapseMatrix

shapes = st.tuples(st.integers(1, 9), st.integers(1, 9))


@st.composite
def dense_matrices(draw):
    n_post, n_pre = draw(shapes)
    seed = draw(st.integers(0, 2**31))
    density = draw(st.sampled_from([0.0, 0.2, 0.6, 1.0]))
    return random_sparse(np.random.default_rng(seed), n_post, n_pre, density)


@settings(max_examples=60, deadline=None)
@given(dense_matrices(), st.sampled_from([0, 1, 3, 40]), st.integers(0, 1000))
def test_products_match_dense(d, batch, seed):
    rng = np.random.default_rng(seed)
    W = SynapseMatrix.from_dense(d)
    W.check_invariants()
    np.testing.assert_array_equal(W.to_dense(), d)
    x = rng.standard_normal((batch, d.shape[1])).astype(np.float32)
    g = rng.standard_normal((batch, d.shape[0])).astype(np.float32)
    np.testing.assert_allclose(W.forward(x), x @ d.T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(W.backward(g), g @ d, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(W.row_sums(), d.sum(1), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(W.row_counts(), (d != 0).sum(1))
    assert W.nnz == np.count_nonzero(d)
    assert W.density == pytest.approx(np.count_nonzero(d) / d.size)


def test_large_products_cross_blocks(rng):
    d = random_sparse(rng, 300, 200, 0.05)
    W = SynapseMatrix.from_dense(d)
    x = rng.random((700, 200), dtype=np.float32)
    np.testing.assert_allclose(W.forward(x), x @ d.T, rtol=1e-4, atol=1e-4)
    g = rng.random((700, 300), dtype=np.float32)
    np.testing.assert_allclose(W.backward(g), g @ d, rtol=1e-4, atol=1e-4)


def test_binary_synapses(rng):
    d = random_sparse(rng, 20, 30, 0.3, binary=True)
    W = SynapseMatrix.from_dense(d, binary=True)
    assert W.binary and W.weights is None
    x = rng.random((5, 30), dtype=np.float32)
    np.testing.assert_allclose(W.forward(x), x @ d.T, rtol=1e-5)
    with pytest.raises(ValueError, match="binary"):
        SynapseMatrix.from_dense(d * 2, binary=True)
    with pytest.raises(TypeError, match="binary synapses have no weights"):
        W.hebbian_update(np.ones((1, 20)), np.ones((1, 30)), 0.1)
    # binary synapses use less memory than weighted ones
    assert W.memory_bytes() < SynapseMatrix.from_dense(d).memory_bytes()


def test_coo_and_scipy_roundtrip(rng):
    sp = pytest.importorskip("scipy.sparse")
    W = SynapseMatrix.from_coo([1, 0, 1, 1], [2, 1, 2, 0], [1.0, 2.0, 3.0, 4.0], shape=(2, 3))
    np.testing.assert_array_equal(W.to_dense(), [[0, 2, 0], [4, 0, 4]])
    d = random_sparse(rng, 15, 25, 0.2)
    m = sp.random(15, 25, density=0.2, format="coo", random_state=1, dtype=np.float64)
    W = SynapseMatrix.from_scipy(m)
    np.testing.assert_allclose(W.to_dense(), m.toarray(), rtol=1e-6)
    np.testing.assert_allclose(W.to_scipy().toarray(), m.toarray(), rtol=1e-6)
    W2 = SynapseMatrix.from_scipy(sp.csr_matrix(d))
    np.testing.assert_array_equal(W2.to_dense(), d)
    # unsorted CSR with duplicates is accepted and normalised
    raw = sp.csr_matrix(
        (np.array([1.0, 2.0, 3.0]), np.array([2, 0, 2]), np.array([0, 3])), shape=(1, 3)
    )
    np.testing.assert_array_equal(SynapseMatrix.from_scipy(raw).to_dense(), [[2, 0, 4]])
    with pytest.raises(TypeError, match="scipy.sparse"):
        SynapseMatrix.from_scipy(d)


def test_out_of_range_and_bad_indices():
    with pytest.raises(ValueError, match="not below 2"):
        SynapseMatrix.from_coo([2], [0], shape=(2, 2))
    with pytest.raises(ValueError, match="negative"):
        SynapseMatrix.from_coo([-1], [0], shape=(2, 2))
    with pytest.raises(TypeError, match="integer"):
        SynapseMatrix.from_coo([0.5], [0], shape=(2, 2))
    with pytest.raises(ValueError, match="differ"):
        SynapseMatrix((2, 2)).grow([0, 1], [0])
    W = SynapseMatrix.from_dense(np.eye(3, dtype=np.float32))
    before = W.to_dense()
    with pytest.raises(ValueError, match="presynaptic candidate index 7"):
        W.grow([0, 1], [1, 7], init=0.5)
    np.testing.assert_array_equal(W.to_dense(), before)  # unchanged after the failure
    assert W.counters["grown"] == 0


@pytest.mark.parametrize(
    ("bad", "exc", "match"),
    [
        (np.array([[np.nan, 1.0]]), ValueError, "NaN"),
        (np.array([[np.inf, 1.0]]), ValueError, "NaN or infinity"),
        (np.ones((1, 3)), ValueError, "columns"),
        (np.ones(2), ValueError, "2-dimensional"),
        (np.array([["a", "b"]]), TypeError, "numeric"),
        ([[1, 2], [3]], TypeError, "array"),
    ],
)
def test_bad_activity(bad, exc, match):
    W = SynapseMatrix.from_dense(np.ones((2, 2), dtype=np.float32))
    with pytest.raises(exc, match=match):
        W.forward(bad)


def test_dtypes_and_no_writes_to_caller(rng):
    d = random_sparse(rng, 6, 8, 0.5)
    W = SynapseMatrix.from_dense(d)
    for dtype in (np.float64, np.int32, bool):
        x = (rng.random((4, 8)) > 0.5).astype(dtype)
        np.testing.assert_allclose(W.forward(x), x.astype(np.float32) @ d.T, rtol=1e-5)
    x = rng.random((4, 8), dtype=np.float32)
    x.flags.writeable = False
    post = rng.random((4, 6), dtype=np.float32)
    post.flags.writeable = False
    keep = x.copy(), post.copy()
    W.forward(x)
    W.hebbian_update(post, x, 0.1)
    np.testing.assert_array_equal(x, keep[0])
    np.testing.assert_array_equal(post, keep[1])
    # a non-contiguous view works too
    xs = rng.random((8, 8), dtype=np.float32)[::2]
    np.testing.assert_allclose(W.forward(xs), xs @ W.to_dense().T, rtol=1e-5)


def test_prune(rng):
    d = random_sparse(rng, 10, 12, 0.6)
    W = SynapseMatrix.from_dense(d)
    n = W.prune(threshold=0.5)
    ref = np.where(np.abs(d) < 0.5, 0, d)
    np.testing.assert_array_equal(W.to_dense(), ref)
    assert n == np.count_nonzero(d) - np.count_nonzero(ref) == W.counters["pruned"]
    W = SynapseMatrix.from_dense(d)
    counts = W.row_counts()
    W.prune(fraction=0.3)
    np.testing.assert_array_equal(W.row_counts(), counts - np.floor(0.3 * counts))
    W = SynapseMatrix.from_dense(d)
    mask = W.weights > 0
    W.prune(mask=mask)
    np.testing.assert_array_equal(W.to_dense(), np.where(d > 0, 0, d))
    with pytest.raises(ValueError, match="exactly one"):
        W.prune(threshold=0.1, fraction=0.1)
    with pytest.raises(ValueError, match="fraction must be <= 1"):
        W.prune(fraction=1.5)
    with pytest.raises(ValueError, match="mask must have shape"):
        W.prune(mask=np.ones(W.nnz + 1, bool))


def test_grow(rng):
    W = SynapseMatrix.from_dense(np.array([[1, 0, 0], [0, 0, 2]], dtype=np.float32))
    n = W.grow([0, 0, 0, 1, 1], [1, 1, 0, 0, 2], weights=[5, 6, 7, 8, 9])
    assert n == 2  # (0,1) once (first weight wins), (1,0); (0,0) and (1,2) exist
    np.testing.assert_array_equal(W.to_dense(), [[1, 5, 0], [8, 0, 2]])
    W.check_invariants()
    W = SynapseMatrix((50, 40))
    n = W.grow_random(10, init=(0.01, 0.1), random_state=3)
    assert n == 500 and (W.row_counts() == 10).all()
    assert ((W.weights >= 0.01) & (W.weights < 0.1)).all()
    W2 = SynapseMatrix((50, 40))
    W2.grow_random(10, init=(0.01, 0.1), random_state=3)
    np.testing.assert_array_equal(W.to_dense(), W2.to_dense())
    assert W.grow_random(100, random_state=1) == 50 * 30  # fills the remaining positions
    assert W.density == 1.0
    with pytest.raises(ValueError, match="low > high"):
        W.grow_random(1, init=(1.0, 0.0))


def test_same_result_for_any_thread_count(rng, restore_threads):
    d = random_sparse(rng, 200, 150, 0.1)
    x = rng.random((300, 150), dtype=np.float32)
    g = rng.random((3, 200), dtype=np.float32)
    results = []
    for n in (1, 2, 3):
        synaplast.set_num_threads(n)
        assert synaplast.get_num_threads() == n
        W = SynapseMatrix.from_dense(d)
        W.prune(fraction=0.25)
        W.grow_random(7, init=(-0.1, 0.1), random_state=9)
        W.hebbian_update(rng.random((300, 200), dtype=np.float32) * 0 + 0.5, x, 1e-3)
        results.append((W.to_dense(), W.forward(x), W.backward(g), W.counters))
    for r in results[1:]:
        np.testing.assert_array_equal(r[0], results[0][0])
        np.testing.assert_array_equal(r[1], results[0][1])
        np.testing.assert_array_equal(r[2], results[0][2])
        assert r[3] == results[0][3]
    with synaplast.threads(1):
        assert synaplast.get_num_threads() == 1


def test_hebbian_update_and_energy_recount(rng):
    d = np.abs(random_sparse(rng, 8, 10, 0.5))
    W = SynapseMatrix.from_dense(d)
    initial = W.copy()
    post = rng.random((3, 8), dtype=np.float32) - 0.5
    pre = rng.random((3, 10), dtype=np.float32)
    writes, change = W.hebbian_update(post, pre, 0.2, bounds=(0, None))
    ref = np.where(d != 0, np.maximum(d + 0.2 * post.T @ pre, 0), 0)
    np.testing.assert_allclose(W.to_dense(), ref, rtol=1e-5, atol=1e-6)
    diff = np.abs(W.to_dense() - d)
    assert writes == np.count_nonzero(diff)
    assert change == pytest.approx(diff.sum(), rel=1e-5)
    delta = rng.standard_normal(W.nnz).astype(np.float32) * 0.1
    delta[::3] = 0
    w_before = W.weights
    W.apply_delta(delta)
    assert W.counters["writes"] == writes + np.count_nonzero(delta)
    assert W.counters["abs_change"] == pytest.approx(change + np.abs(delta).sum(), rel=1e-5)
    np.testing.assert_allclose(W.weights, w_before + delta, rtol=1e-6)
    m0, m1 = W.minimal_energy_from(initial)
    final_diff = W.to_dense() - d
    assert m0 == np.count_nonzero(final_diff)
    assert m1 == pytest.approx(np.abs(final_diff).sum(), rel=1e-5)
    W.reset_counters()
    assert W.counters == {"writes": 0, "abs_change": 0.0, "grown": 0, "pruned": 0}
    with pytest.raises(ValueError, match="samples"):
        W.hebbian_update(post, pre[:2], 0.1)
    with pytest.raises(ValueError, match="not an interval"):
        W.apply_delta(delta, bounds=(1, 0))


def test_pickle_copy_and_memory(rng):
    d = random_sparse(rng, 100, 100, 0.01)
    W = SynapseMatrix.from_dense(d)
    W.grow_random(2, init=0.5, random_state=0)
    W2 = pickle.loads(pickle.dumps(W))
    np.testing.assert_array_equal(W2.to_dense(), W.to_dense())
    assert W2.counters == W.counters
    W3 = W.copy()
    W3.prune(threshold=10)
    assert W.nnz > 0 and W3.nnz == 0
    # memory follows the synapses that exist, not the dense matrix
    assert W.memory_bytes() < 0.1 * d.nbytes
    big = SynapseMatrix.from_dense(random_sparse(rng, 100, 100, 0.5))
    assert big.memory_bytes() > 5 * W.memory_bytes()
    assert "nnz=" in repr(W)


def test_kwta(rng):
    x = rng.random((20, 15), dtype=np.float32)
    x[3, :] = 1.0  # ties: lower index wins
    m = synaplast.kwta(x, 4)
    assert m.dtype == bool and (m.sum(1) == 4).all()
    ref = np.zeros_like(m)
    order = np.lexsort((np.arange(15)[None, :].repeat(20, 0), -x), axis=1)
    np.put_along_axis(ref, order[:, :4], True, axis=1)
    np.testing.assert_array_equal(m, ref)
    np.testing.assert_array_equal(m[3], np.arange(15) < 4)
    assert not synaplast.kwta(x, 0).any()
    with pytest.raises(ValueError, match="k must be <= 15"):
        synaplast.kwta(x, 16)
    with pytest.raises(TypeError, match="integer"):
        synaplast.kwta(x, 2.5)


def test_degenerate_shapes():
    W = SynapseMatrix((0, 4))
    assert W.forward(np.zeros((3, 4))).shape == (3, 0)
    W = SynapseMatrix((3, 1))
    assert W.grow_random(2) == 3
    np.testing.assert_array_equal(W.forward(np.full((1, 1), 2.0)), [[0, 0, 0]])
    assert W.forward(np.zeros((0, 1))).shape == (0, 3)
    with pytest.raises(TypeError, match="shape"):
        SynapseMatrix(3)
    with pytest.raises(ValueError, match="n_pre must be >= 0"):
        SynapseMatrix((3, -1))
