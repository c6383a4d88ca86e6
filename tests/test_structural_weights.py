"""The weight dependence of the structural classifier's Hebbian rule."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

import synaplast
from synaplast import StructuralPlasticityClassifier as SPC


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:500] / 16.0, y[:500]


def test_multiplicative_rule_is_deterministic_across_threads_and_stays_excitatory(digits):
    X, y = digits
    kw = {"weight_dependence": "multiplicative", "max_synapses": 1500, "random_state": 3}
    with synaplast.threads(1):
        a = SPC(**kw).fit(X, y)
    with synaplast.threads(2):
        b = SPC(**kw).fit(X, y)
    assert np.array_equal(a.synapses_.weights, b.synapses_.weights)
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))
    w = a.synapses_.weights
    assert w.min() > 0 and w.max() <= a.w_max
    additive = SPC(max_synapses=1500, random_state=3).fit(X, y)
    assert not np.array_equal(additive.synapses_.weights, w)
    assert a.score(X, y) > 0.8  # learns (chance 0.1; 0.846-0.852 over seeds 0, 1, 3)


def test_unknown_weight_dependence_is_refused(digits):
    X, y = digits
    with pytest.raises(ValueError, match="weight_dependence"):
        SPC(weight_dependence="hard").fit(X, y)
