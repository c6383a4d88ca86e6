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


@pytest.mark.parametrize(
    ("law", "draw"),
    [
        ("lognormal", lambda r, n: r.lognormal(-1.5, 0.6, n)),
        ("normal", lambda r, n: r.normal(5.0, 1.5, n)),
        ("exponential", lambda r, n: r.exponential(0.3, n)),
    ],
)
def test_distribution_fits_name_the_law_the_weights_were_drawn_from(law, draw):
    from scipy.stats import kstest

    from synaplast.analysis import lognormal_fit

    w = draw(np.random.default_rng(3), 5000)
    fit = lognormal_fit(w)
    w = w[w > 0]  # the fit uses the positive weights
    ks = {k: fit[f"ks_{k}"] for k in ("lognormal", "normal", "exponential")}
    assert min(ks, key=ks.get) == law
    assert ks[law] < 0.03 and sorted(ks.values())[1] > 0.04
    # each distance is scipy's KS statistic against the fitted law
    want = {
        "lognormal": kstest(w, "lognorm", (fit["sigma"], 0, np.exp(fit["mu"]))).statistic,
        "normal": kstest(w, "norm", (fit["mean"], fit["sd"])).statistic,
        "exponential": kstest(w, "expon", (0, fit["mean"])).statistic,
    }
    for k in ks:
        assert ks[k] == pytest.approx(want[k], abs=1e-12)
    assert np.isnan(lognormal_fit([0.0, -1.0, 2.0])["ks_exponential"])


def _dense_mlp_ce(mlp, X, yi):
    p = mlp.predict_proba(X)
    return -np.log(p[np.arange(len(yi)), yi])


def test_pgd_ascends_the_loss_inside_the_ball_and_one_step_is_fgsm():
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier

    from synaplast import analysis

    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16.0, y[:300]
    mlp = MLPClassifier((20,), max_iter=300, random_state=0).fit(X, y)
    X0 = X.copy()
    clean = mlp.score(X, y)
    fgsm = analysis.fgsm_accuracy(mlp, X, y, 0.1)
    pgd = analysis.pgd_accuracy(mlp, X, y, 0.1)
    assert np.array_equal(X, X0)  # the caller's array is not written
    assert pgd <= fgsm < clean
    assert analysis.pgd_accuracy(mlp, X, y, 0.1, n_steps=1, step_size=0.1) == fgsm
    assert analysis.pgd_accuracy(mlp, X, y, 0.0) == clean
    # the gradient the attack follows is the MLP's own: a step along its sign raises the loss
    yi = np.searchsorted(mlp.classes_, y)
    g = analysis.input_gradient(mlp, X, yi)
    step = X + 1e-3 * np.sign(g)
    assert np.mean(_dense_mlp_ce(mlp, step, yi) > _dense_mlp_ce(mlp, X, yi)) > 0.95
    with pytest.raises(ValueError, match="eps"):
        analysis.pgd_accuracy(mlp, X, y, -0.1)
    with pytest.raises(ValueError, match="labels"):
        analysis.pgd_accuracy(mlp, X, y + 20, 0.1)


def test_noise_and_occlusion_are_reproducible_and_degrade_accuracy():
    from sklearn.datasets import load_digits

    from synaplast import analysis

    X, y = load_digits(return_X_y=True)
    X, y = X[:400] / 16.0, y[:400]
    est = SPC(max_synapses=2000, random_state=0).fit(X, y)
    X0 = X.copy()
    clean = est.score(X, y)
    assert analysis.noise_accuracy(est, X, y, 0.0) == clean
    assert analysis.occlusion_accuracy(est, X, y, 0.0) == clean
    a = analysis.noise_accuracy(est, X, y, 0.5, random_state=1)
    assert a == analysis.noise_accuracy(est, X, y, 0.5, random_state=1) and a < clean
    b = analysis.occlusion_accuracy(est, X, y, 0.6, random_state=1)
    assert b < clean
    assert analysis.occlusion_accuracy(est, X, y, 1.0) == analysis.occlusion_accuracy(
        est, np.zeros_like(X), y, 0.0
    )
    assert np.array_equal(X, X0)
    with pytest.raises(ValueError, match="fraction"):
        analysis.occlusion_accuracy(est, X, y, 1.5)
