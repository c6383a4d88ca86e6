"""Statistics of learned weights (sparsity, lognormal shape, Dale's law) and robustness.

Stricker/Inoue et al. (2026) report that with competitive excitatory
Hebbian learning sparsity, lognormally distributed weights and Dale's law
emerge without being enforced, and that the network is more robust to
adversarial attacks than backprop; :func:`weight_statistics` measures the
former, :func:`fgsm_accuracy`, :func:`pgd_accuracy`, :func:`noise_accuracy`
and :func:`occlusion_accuracy` the latter.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "dale_compliance",
    "fgsm_accuracy",
    "input_gradient",
    "lognormal_fit",
    "noise_accuracy",
    "occlusion_accuracy",
    "pgd_accuracy",
    "pgd_examples",
    "weight_statistics",
]


def _ks_distance(sample, cdf):
    x = np.sort(np.asarray(sample, dtype=np.float64))
    n = x.size
    f = cdf(x)
    hi = np.arange(1, n + 1) / n - f
    lo = f - np.arange(0, n) / n
    return float(max(hi.max(), lo.max()))


def lognormal_fit(weights):
    """Fit a lognormal, a normal and an exponential law to the positive ``weights``.

    Each law is fitted by maximum likelihood (lognormal: mean and standard
    deviation of ``log w``; normal: mean and standard deviation of ``w``;
    exponential on ``[0, ∞)``: scale = mean of ``w``), and the sample is
    compared with each fitted law by the Kolmogorov-Smirnov distance
    ``sup_x |F_n(x) − F(x)|``. The law with the smallest distance describes
    the weights best; with thousands of weights a distance of 0.05 or less
    means the fitted law is close everywhere.

    Parameters
    ----------
    weights : array-like
        Weights of any shape; only the positive ones are used.

    Returns
    -------
    dict
        ``n`` (the number of positive weights used), ``mu`` and ``sigma``
        (of ``log w``), ``mean`` and ``sd`` (of ``w``), and the distances
        ``ks_lognormal``, ``ks_normal`` and ``ks_exponential`` (NaN with
        fewer than 2 positive weights).
    """
    from scipy.stats import expon, lognorm, norm

    w = np.asarray(weights, dtype=np.float64).ravel()
    w = w[w > 0]
    keys = ("mu", "sigma", "mean", "sd", "ks_lognormal", "ks_normal", "ks_exponential")
    if w.size < 2:
        return {"n": int(w.size), **dict.fromkeys(keys, np.nan)}
    lw = np.log(w)
    mu, sigma = float(lw.mean()), float(lw.std())
    mean, sd = float(w.mean()), float(w.std())
    return {
        "n": int(w.size),
        "mu": mu,
        "sigma": sigma,
        "mean": mean,
        "sd": sd,
        "ks_lognormal": _ks_distance(
            w, lambda x: lognorm.cdf(x, s=max(sigma, 1e-12), scale=np.exp(mu))
        ),
        "ks_normal": _ks_distance(w, lambda x: norm.cdf(x, loc=mean, scale=max(sd, 1e-12))),
        "ks_exponential": _ks_distance(w, lambda x: expon.cdf(x, scale=mean)),
    }


def dale_compliance(outgoing):
    """Fraction of presynaptic neurons whose non-zero outgoing weights share one sign.

    Parameters
    ----------
    outgoing : array of shape (n_post, n_pre)
        Weights onto ``n_post`` neurons from ``n_pre`` neurons (columns are
        the outgoing weights of one presynaptic neuron).
    """
    w = np.asarray(outgoing, dtype=np.float64)
    if w.ndim != 2:
        raise ValueError(f"outgoing must be 2-d, got shape {w.shape}")
    if w.shape[1] == 0:
        return 1.0
    pos = (w > 0).any(axis=0)
    neg = (w < 0).any(axis=0)
    return float(np.mean(~(pos & neg)))


def weight_statistics(est):
    """Sparsity, lognormal fit and Dale's-law compliance of a fitted network.

    Parameters
    ----------
    est : fitted StructuralPlasticityClassifier (or any estimator with
        ``synapses_`` and, optionally, ``coefs_readout_``), or an
        ``MLPClassifier`` (its first layer is used).

    Returns
    -------
    dict
        ``sparsity`` (fraction of potential input→hidden synapses absent or
        zero), ``n_synapses``, the :func:`lognormal_fit` of the magnitudes
        of the non-zero input→hidden weights (``n``, ``lognormal_mu``,
        ``lognormal_sigma``, ``mean``, ``sd``, ``ks_lognormal``,
        ``ks_normal``, ``ks_exponential``: the smallest distance names the
        law that fits best), ``negative_weights`` (count, 0 for an
        excitatory layer), ``dale_input`` (fraction of input neurons whose
        outgoing weights share one sign) and ``dale_hidden`` (same for the
        hidden neurons' readout weights, when there is a readout). With an
        inhibitory population (``inhibitory_in_`` / ``inhibitory_out_`` not
        ``None``) also ``dale_excitatory`` (hidden units whose outgoing E→I
        weights share one sign), ``dale_inhibitory`` (inhibitory units whose
        outgoing I→E weights share one sign), ``negative_e_to_i`` and
        ``positive_i_to_e`` (sign violations, 0 by construction) and
        ``n_inhibitory_synapses`` (non-zero I→E weights); otherwise these are
        ``None``.
    """
    if hasattr(est, "synapses_"):
        syn = est.synapses_
        w_all = syn.weights
        dense = syn.to_dense()
        n_syn = int(np.count_nonzero(w_all))
        n_pot = dense.size
        readout = getattr(est, "coefs_readout_", None)
    elif hasattr(est, "coefs_"):
        dense = np.asarray(est.coefs_[0]).T
        w_all = dense.ravel()
        n_syn = int(np.count_nonzero(dense))
        n_pot = dense.size
        readout = np.asarray(est.coefs_[1]).T if len(est.coefs_) > 1 else None
    else:
        raise TypeError(f"{type(est).__name__} has no synapses_ or coefs_ to analyse")
    w_all = np.asarray(w_all, dtype=np.float64)
    out = {
        "n_synapses": n_syn,
        "sparsity": 1.0 - n_syn / n_pot if n_pot else 0.0,
        "negative_weights": int(np.sum(w_all < 0)),
        "dale_input": dale_compliance(dense),
    }
    fit = lognormal_fit(np.abs(w_all[w_all != 0]))
    out.update({f"lognormal_{k}" if k in ("mu", "sigma") else k: v for k, v in fit.items()})
    out["dale_hidden"] = None if readout is None else dale_compliance(readout)
    e_to_i = getattr(est, "inhibitory_in_", None)
    i_to_e = getattr(est, "inhibitory_out_", None)
    if e_to_i is not None and i_to_e is not None:
        e_to_i = np.asarray(e_to_i, dtype=np.float64)
        i_to_e = np.asarray(i_to_e, dtype=np.float64)
        # dale_compliance takes (n_post, n_pre): columns are a neuron's outgoing weights.
        out["dale_excitatory"] = dale_compliance(e_to_i.T)
        out["dale_inhibitory"] = dale_compliance(i_to_e)
        out["negative_e_to_i"] = int(np.sum(e_to_i < 0))
        out["positive_i_to_e"] = int(np.sum(i_to_e > 0))
        out["n_inhibitory_synapses"] = int(np.count_nonzero(i_to_e))
    else:
        for k in (
            "dale_excitatory",
            "dale_inhibitory",
            "negative_e_to_i",
            "positive_i_to_e",
            "n_inhibitory_synapses",
        ):
            out[k] = None
    return out


def input_gradient(est, X, y_idx):
    """``∂CE/∂x``: the gradient of the cross-entropy of the labels ``y_idx``
    (class indices) with respect to the inputs ``X``, for a fitted
    :class:`~synaplast.StructuralPlasticityClassifier` without inhibitory
    population, or a scikit-learn ``MLPClassifier`` with one ReLU hidden layer.

    The structural classifier's forward function ``p = softmax(V [f(W r − θ), r] + c)``
    on the encoded rates ``r = enc(x)`` (the ON/OFF stage, piecewise linear,
    and the direct pathway ``r`` when the readout has one) is differentiated
    in NumPy (sparse synapses through SciPy) (``f'(u) = 2σ(u)(1 − σ(u))`` for ``u > 0``).
    """
    if hasattr(est, "coefs_") and not hasattr(est, "synapses_"):
        return _mlp_input_gradient(est, X, y_idx)
    X = np.asarray(X, dtype=np.float64)
    enc = getattr(est, "encoder_", None)
    if enc is None:  # encoding="none": the rates as given
        R, dR = X, np.ones_like(X)
        channel = np.arange(X.shape[1])
    else:
        R = enc.transform(X).astype(np.float64)
        channel, scale = enc._channels()
        c = enc.centre_[channel]
        # dr/dx: ±1/range inside the unsaturated band, 0 where clipped
        inside = (R > 0) & (R < 1) | (R == 0) & (X[:, channel] == c)
        dR = np.where(inside, 1.0 / scale, 0.0)
    # sparse products: a dense (n_hidden, n_channels) copy would not fit wide layers
    W = est.synapses_.to_scipy().astype(np.float64).tocsr()
    nh = W.shape[0]
    u = np.asarray((W @ R.T).T) - est.theta_
    s = 1.0 / (1.0 + np.exp(-u))
    fprime = np.where(u > 0, 2.0 * s * (1.0 - s), 0.0)
    p = est.predict_proba(X)
    g_out = p - np.eye(p.shape[1])[y_idx]
    V = est.coefs_readout_
    g_r = np.asarray((W.T @ ((g_out @ V[:, :nh]) * fprime).T).T)
    if V.shape[1] > nh:  # the direct pathway
        g_r = g_r + g_out @ V[:, nh:]
    grad = np.zeros_like(X)
    np.add.at(grad.T, channel, (g_r * dR).T)
    return grad


def _mlp_input_gradient(mlp, X, y_idx):
    a = X @ mlp.coefs_[0] + mlp.intercepts_[0]
    p = mlp.predict_proba(X)
    g_out = p - np.eye(p.shape[1])[y_idx]
    return ((g_out @ mlp.coefs_[1].T) * (a > 0)) @ mlp.coefs_[0].T


def _labels(est, y):
    y_idx = np.searchsorted(est.classes_, y)
    if np.any(y_idx >= len(est.classes_)) or np.any(est.classes_[y_idx] != y):
        raise ValueError("y holds labels the estimator was not fitted on")
    return y_idx


def _accuracy(est, X, y):
    return float(np.mean(est.predict(X.astype(np.float32)) == y))


def fgsm_accuracy(est, X, y, eps, clip=(0.0, 1.0)):
    """Accuracy under the fast gradient sign attack ``x + ε sign(∂CE/∂x)``
    (Goodfellow et al. 2015), clipped to ``clip`` (pixel intensities by
    default; ``None``: no clipping). See :func:`input_gradient`."""
    return pgd_accuracy(est, X, y, eps, n_steps=1, step_size=eps, clip=clip)


def pgd_accuracy(est, X, y, eps, n_steps=10, step_size=None, clip=(0.0, 1.0)):
    """Accuracy under projected gradient descent in the ``L∞`` ball of radius ``eps``.

    Madry et al. (2018) without random start: ``n_steps`` steps
    ``x ← Π(x + α sign(∂CE/∂x))``, each followed by the projection ``Π`` onto
    ``|x − x₀| ≤ ε`` and into ``clip``, with the gradient of the model's own
    forward pass (:func:`input_gradient`: the rule's network, or an
    ``MLPClassifier`` through its weights). One step of size ``ε`` is FGSM.

    Parameters
    ----------
    est : fitted StructuralPlasticityClassifier or MLPClassifier
        The attacked model.
    X : array of shape (n_samples, n_features)
        Clean inputs.
    y : array of shape (n_samples,)
        True labels.
    eps : float
        Radius of the attack (``>= 0``).
    n_steps : int, default=10
        Gradient steps.
    step_size : float or None, default=None
        ``α``; ``None``: ``2.5 ε / n_steps`` (Madry et al.).
    clip : (float, float) or None, default=(0.0, 1.0)
        Valid input range (pixel intensities); ``None``: unbounded.

    Returns
    -------
    float
        Accuracy on the attacked inputs.
    """
    Xa = pgd_examples(est, X, y, eps, n_steps=n_steps, step_size=step_size, clip=clip)
    return _accuracy(est, Xa, np.asarray(y))


def pgd_examples(est, X, y, eps, n_steps=10, step_size=None, clip=(0.0, 1.0)):
    """The adversarial inputs of :func:`pgd_accuracy` (float64, a new array),
    e.g. to test another model on them (a transfer attack).

    Parameters
    ----------
    est : fitted StructuralPlasticityClassifier or MLPClassifier
        The model whose gradient makes the examples.
    X : array of shape (n_samples, n_features)
        Clean inputs.
    y : array of shape (n_samples,)
        True labels.
    eps : float
        Radius of the attack (``>= 0``).
    n_steps : int, default=10
        Gradient steps.
    step_size : float or None, default=None
        ``α``; ``None``: ``2.5 ε / n_steps``.
    clip : (float, float) or None, default=(0.0, 1.0)
        Valid input range; ``None``: unbounded.

    Returns
    -------
    ndarray of shape (n_samples, n_features)
        The attacked inputs.
    """
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be finite and >= 0, got {eps}")
    if int(n_steps) < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    alpha = 2.5 * eps / int(n_steps) if step_size is None else float(step_size)
    X0 = np.asarray(X, dtype=np.float64)
    y_idx = _labels(est, np.asarray(y))
    lo, hi = (-np.inf, np.inf) if clip is None else clip
    Xa = X0.copy()
    for _ in range(int(n_steps)):
        grad = input_gradient(est, Xa, y_idx)
        Xa = np.clip(Xa + alpha * np.sign(grad), X0 - eps, X0 + eps)
        Xa = np.clip(Xa, lo, hi)
    return Xa


def noise_accuracy(est, X, y, sigma, clip=(0.0, 1.0), random_state=0):
    """Accuracy on ``X`` plus Gaussian noise of standard deviation ``sigma``
    (independent per input), clipped to ``clip`` (``None``: unbounded)."""
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must be finite and >= 0, got {sigma}")
    X = np.asarray(X, dtype=np.float64)
    rng = np.random.default_rng(random_state)
    Xn = X + sigma * rng.standard_normal(X.shape)
    if clip is not None:
        Xn = np.clip(Xn, *clip)
    return _accuracy(est, Xn, np.asarray(y))


def occlusion_accuracy(est, X, y, fraction, value=0.0, random_state=0):
    """Accuracy when a random ``fraction`` of each sample's inputs (pixels)
    is occluded, i.e. set to ``value`` (a different random set per sample)."""
    if not (0.0 <= fraction <= 1.0):
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    X = np.array(X, dtype=np.float64)  # a copy: the caller's array is not written
    rng = np.random.default_rng(random_state)
    n_hide = int(round(fraction * X.shape[1]))
    if n_hide:
        hide = np.argsort(rng.random(X.shape), axis=1)[:, :n_hide]
        np.put_along_axis(X, hide, value, axis=1)
    return _accuracy(est, X, np.asarray(y))
