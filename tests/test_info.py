"""Information estimators against closed-form Gaussian-channel values."""

import numpy as np
import pytest

from synaplast.info import gaussian_kl_bits, mutual_information_vib, plugin_mutual_information


@pytest.mark.parametrize("rho", [0.3, 0.8, 0.95])
def test_kl_of_gaussian_channel_equals_its_mutual_information(rho):
    # Channel t = rho z + sqrt(1 - rho^2) eps with z ~ N(0, 1): the marginal of t is
    # the N(0, 1) prior, so the mean KL equals I(Z;T) = -1/2 log2(1 - rho^2).
    z = np.random.default_rng(0).standard_normal(200_000)
    mu = (rho * z)[:, None]
    logvar = np.full_like(mu, np.log(1 - rho**2))
    expected = -0.5 * np.log2(1 - rho**2)
    assert gaussian_kl_bits(mu, logvar).mean() == pytest.approx(expected, rel=1e-2)


def test_vib_recovers_information_of_a_gaussian_channel():
    # Z carries the label through a Gaussian channel of known capacity; the VIB
    # estimate of the fitted encoder must be at least the closed-form
    # information its own (affine-Gaussian) channel transmits about Z,
    # and finite/moderate.
    rng = np.random.default_rng(1)
    n, d = 4000, 3
    y = rng.integers(0, 2, n)
    Z = rng.standard_normal((n, d)) + 2.0 * y[:, None] * np.array([1.0, 0.0, 0.0])
    bits, det = mutual_information_vib(Z, y, latent_dim=2, epochs=30, return_details=True)
    assert det["decoder_accuracy"] > 0.8
    p = det["params"]
    Zs = (Z - Z.mean(0)) / Z.std()
    cov = np.cov(Zs.T)
    A = p["A"]
    var_t = np.exp(np.clip(Zs @ p["B"] + p["b"], -12, 6)).mean(0)
    # I(Z;T) of T = A^T z + noise with (approximately) constant noise variance
    info = 0.5 * np.log2(np.linalg.det(np.eye(2) + (A.T @ cov @ A) / var_t[None, :]))
    assert bits >= 0.8 * info
    assert 0 < bits < 20


def test_vib_more_information_for_more_informative_codes():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 3000)
    weak = rng.standard_normal((3000, 4)) + 0.3 * np.eye(4)[y]
    strong = rng.standard_normal((3000, 4)) + 3.0 * np.eye(4)[y]
    assert mutual_information_vib(strong, y, epochs=20) > mutual_information_vib(weak, y, epochs=20)


def test_plugin_mutual_information_closed_forms():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 4000)
    Z = np.eye(4)[y]  # the code determines the label: I = H(Y) = 2 bits
    assert plugin_mutual_information(Z, y) == pytest.approx(2.0, abs=0.01)
    Zi = np.eye(4)[rng.integers(0, 4, 4000)]  # independent code: I ≈ 0
    assert plugin_mutual_information(Zi, y) < 0.01


def test_bad_inputs():
    with pytest.raises(ValueError, match="y"):
        mutual_information_vib(np.ones((5, 2)), [0, 1])
    with pytest.raises(ValueError, match="beta"):
        mutual_information_vib(np.ones((5, 2)), [0, 1, 0, 1, 0], beta=0)
    with pytest.raises(ValueError, match="shape"):
        gaussian_kl_bits(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="Z"):
        plugin_mutual_information(np.ones(3), [0, 1, 0])
