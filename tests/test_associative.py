"""AssociativeMemory as a scikit-learn estimator: checks, errors, pickling."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import synaplast
from synaplast import memory as mem


@pytest.fixture
def data():
    U = mem.exact_k_patterns(50, 30, 4, 0)
    V = mem.exact_k_patterns(50, 20, 3, 1)
    return U, V


def test_bad_inputs_give_clear_errors(data):
    U, V = data
    est = synaplast.AssociativeMemory()
    bad = U.astype(float)
    bad[0, 0] = 0.5
    with pytest.raises(ValueError, match="U must be binary"):
        est.fit(bad, V)
    with pytest.raises(ValueError, match="Y must be binary"):
        est.fit(U, V * 2)
    with pytest.raises(ValueError, match="Y has 49 patterns"):
        est.fit(U, V[:49])
    with pytest.raises(ValueError):
        est.fit(U[:0], V[:0])
    with pytest.raises(ValueError, match="k = 40"):
        mem.exact_k_patterns(3, 30, 40)
    for p in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="p01"):
            synaplast.AssociativeMemory(rule="bayes", p01=p).fit(U, V)
        with pytest.raises(ValueError, match="p10"):
            synaplast.AssociativeMemory(rule="bayes", p10=p).fit(U, V)
    with pytest.raises(TypeError, match="p01"):
        synaplast.AssociativeMemory(p01="x").fit(U, V)
    with pytest.raises(ValueError, match="rule"):
        synaplast.AssociativeMemory(rule="oja").fit(U, V)
    with pytest.raises(ValueError, match="natural threshold"):
        synaplast.AssociativeMemory(rule="hebb").fit(U, V)
    with pytest.raises(ValueError, match="n_hypercolumns"):
        synaplast.AssociativeMemory(retrieval="hypercolumn").fit(U, V)
    with pytest.raises(TypeError, match="n_iter"):
        synaplast.AssociativeMemory(n_iter=1.5).fit(U, V)
    fitted = synaplast.AssociativeMemory(n_iter=3).fit(U, V)
    with pytest.raises(ValueError, match="auto-associative"):
        fitted.predict(U)
    with pytest.raises(ValueError, match="l = 25"):
        synaplast.AssociativeMemory(retrieval="wta", l=25).fit(U, V).predict(U)
    with pytest.raises(ValueError, match="features"):
        synaplast.AssociativeMemory().fit(U, V).predict(U[:, :10])
    with pytest.raises(ValueError, match="cannot form"):
        synaplast.AssociativeMemory(retrieval="hypercolumn", n_hypercolumns=7).fit(U, V).predict(U)


def test_failed_partial_fit_leaves_model_unchanged(data):
    U, V = data
    est = synaplast.AssociativeMemory(rule="bcpnn", retrieval="wta", l=3).fit(U, V)
    before = est.decision_function(U)
    state = pickle.dumps(est)
    with pytest.raises(ValueError):
        est.partial_fit(U, V[:, :5])
    with pytest.raises(ValueError):
        est.partial_fit(U)
    with pytest.raises(ValueError):
        est.partial_fit(U * 3, V)
    np.testing.assert_array_equal(est.decision_function(U), before)
    assert pickle.dumps(est) == state
    with pytest.raises(ValueError):
        est.fit(U[:, :7] * 2, V)
    assert est.n_features_in_ == 30
    np.testing.assert_array_equal(est.decision_function(U), before)


def test_pickle_clone_pipeline_gridsearch(data):
    U, V = data
    for rule in ("willshaw", "bayes"):
        est = synaplast.AssociativeMemory(rule=rule, retrieval="wta", l=3, compress=True)
        est.fit(U, V)
        back = pickle.loads(pickle.dumps(est))
        np.testing.assert_array_equal(back.predict(U), est.predict(U))
        np.testing.assert_array_equal(back.decision_function(U), est.decision_function(U))
        assert back.capacity_.n_synapses == est.capacity_.n_synapses
        assert clone(est).get_params() == est.get_params()
    pipe = Pipeline(
        [("bin", FunctionTransformer(lambda x: (x > 0.5).astype(np.uint8))),
         ("am", synaplast.AssociativeMemory(retrieval="wta", l=3))]
    )  # fmt: skip
    pipe.fit(U * 0.9, V)
    assert pipe.predict(U).shape == V.shape

    def score(est, X, Y):
        return -mem.output_noise(est.predict(X), Y).mean()

    gs = GridSearchCV(
        synaplast.AssociativeMemory(retrieval="wta"),
        {"rule": ["willshaw", "bcpnn"], "l": [2, 3]},
        cv=2,
        scoring=score,
    )
    gs.fit(U, V)
    assert gs.best_params_["l"] in (2, 3)


def test_reports(data):
    U, V = data
    est = synaplast.AssociativeMemory(rule="bayes", retrieval="wta", l=3).fit(U, V)
    assert isinstance(est.energy_, synaplast.EnergyReport)
    assert isinstance(est.capacity_, synaplast.CapacityReport)
    assert est.capacity_.n_potential == 600
    assert est.capacity_.memory_bytes > 0
    assert est.energy_.ops_per_prediction == pytest.approx(4 * 20)
    auto = synaplast.AssociativeMemory(compress=True).fit(U)
    assert auto.capacity_.n_potential == 30 * 29
    assert auto.capacity_.n_synapses < 900
    str(est.energy_), str(est.capacity_)


def test_verbose_progress(data, capsys):
    U, V = data
    synaplast.AssociativeMemory(verbose=True).fit(U, V)
    assert "storing" in capsys.readouterr().err
