"""What every estimator and every learner of the core has in common:
scikit-learn's estimator checks, and pickling through the one state format."""

import pickle

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from synaplast import (
    AssociativeMemory,
    CompetitivePlasticityClassifier,
    EPropClassifier,
    EPropRegressor,
    StructuralPlasticityClassifier,
    _core,
)

ESTIMATORS = [
    AssociativeMemory(binarize=0.0),
    # Patterns must be binary; the checks feed real-valued data, which the
    # documented binarize option maps to patterns (entries > threshold active).
    AssociativeMemory(rule="bayes", retrieval="wta", binarize=0.5),
    CompetitivePlasticityClassifier(random_state=0),
    CompetitivePlasticityClassifier(
        hidden_layer_sizes=(20,),
        update_fraction=0.5,
        selection="neuron",
        plastic_units=10,
        plastic_mode="error",
        caching=True,
        consolidation_threshold=0.05,
        random_state=0,
    ),
    EPropRegressor(n_rec=40, max_iter=10, random_state=0),
    EPropClassifier(n_rec=40, max_iter=10, random_state=0),
    StructuralPlasticityClassifier(random_state=0),
    StructuralPlasticityClassifier(
        max_synapses=200, direct_input=True, max_iter=3, readout_max_iter=20, random_state=0
    ),
]


@parametrize_with_checks(ESTIMATORS)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def _learners():
    """One trained instance of every ``_core`` class."""
    rng = np.random.default_rng(0)
    X = rng.random((40, 6)).astype(np.float32)
    y = (np.arange(40) % 2).astype(np.int64)
    syn = _core.SynapseMatrix.from_dense((X[:5] > 0.5).astype(np.float32) * X[:5])
    store = _core.AssocStore({"m": 6, "n": 6, "auto": True})
    ptr = np.arange(0, 41, 2, dtype=np.int64)[:21]
    idx = np.tile(np.array([0, 3], np.int64), 20)
    store.store(ptr, idx, ptr, idx)
    mlp = CompetitivePlasticityClassifier(hidden_layer_sizes=(4,), random_state=0).fit(X, y)
    net = StructuralPlasticityClassifier(n_hidden=4, max_iter=2, random_state=0).fit(X, y)
    spikes = (rng.random((6, 10, 3)) < 0.2).astype(np.uint8)
    ep = EPropClassifier(n_rec=5, max_iter=2, random_state=0).fit(spikes, np.arange(6) % 2)
    return {"syn": syn, "store": store, "mlp": mlp._model, "net": net._net, "eprop": ep._net}


@pytest.mark.parametrize("name", ["syn", "store", "mlp", "net", "eprop"])
def test_core_learners_pickle_through_their_state(name):
    obj = _learners()[name]
    data = pickle.dumps(obj)
    back = pickle.loads(data)
    assert type(back) is type(obj)
    assert pickle.dumps(back) == data  # the state round-trips exactly
    state = obj.__reduce__()[1][0]
    restore = type(obj)._from_state
    for bad in (state[:-1], state[: len(state) // 2], b"", b"\x00" * 16, state[:9] + b"\xff"):
        with pytest.raises(ValueError):
            restore(bad)
    other = _core.SynapseMatrix if name != "syn" else _core.AssocStore
    with pytest.raises(ValueError, match="not a saved"):
        other._from_state(state)


def _deterministic_cases():
    rng = np.random.default_rng(1)
    X = rng.random((80, 12)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 1).astype(np.int64)
    spikes = (rng.random((16, 12, 5)) < 0.2).astype(np.uint8)
    return [
        (AssociativeMemory(rule="bayes", retrieval="wta", binarize=0.5), X, X > 0.5),
        (CompetitivePlasticityClassifier(hidden_layer_sizes=(8,), random_state=0), X, y),
        (EPropClassifier(n_rec=10, max_iter=3, random_state=0), spikes, np.arange(16) % 2),
        (EPropRegressor(n_rec=10, max_iter=3, random_state=0), spikes, rng.random(16)),
        (StructuralPlasticityClassifier(random_state=0), X, y),
        (StructuralPlasticityClassifier(max_synapses=60, n_inhibitory=3, random_state=0), X, y),
    ]


@pytest.mark.parametrize("case", range(6))
def test_same_results_for_1_2_4_threads_and_after_pickling(case):
    from sklearn.base import clone

    import synaplast

    est, X, y = _deterministic_cases()[case]
    runs = []
    for n in (1, 2, 4):
        with synaplast.threads(n):
            fitted = clone(est).fit(X, y)
            out = fitted.predict(X)
            energy = fitted.energy_
            runs.append((np.asarray(out), energy.writes, energy.abs_change))
    for other in runs[1:]:
        np.testing.assert_array_equal(other[0], runs[0][0])
        assert other[1:] == runs[0][1:]
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(np.asarray(again.predict(X)), runs[-1][0])
    assert again.energy_.writes == runs[-1][1]
