"""synaplast.analysis: the input gradient behind the FGSM robustness figure."""

import numpy as np
import pytest

from conftest import toy
from synaplast.structural import StructuralPlasticityClassifier as SPC


def test_fgsm_input_gradient_matches_finite_differences():
    from synaplast.analysis import input_gradient

    X, y = toy(n=200, d=12)
    est = SPC(n_hidden=10, max_iter=2, readout_max_iter=5, random_state=0).fit(X, y)
    x = X[:3].astype(np.float64) + 0.05
    yi = np.searchsorted(est.classes_, y[:3])

    def loss(xx):
        p = est.predict_proba(xx.astype(np.float32))
        return -np.log(p[np.arange(3), yi]).sum()

    g = input_gradient(est, x.astype(np.float32), yi)
    h = 1e-2
    for j in range(12):
        e = np.zeros_like(x)
        e[:, j] = h
        num = (loss(x + e) - loss(x - e)) / (2 * h)
        assert g[:, j].sum() == pytest.approx(num, rel=0.05, abs=1e-3)
