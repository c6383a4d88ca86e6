"""Information measures of hidden representations.

:func:`mutual_information_vib` estimates ``I(X;Z)`` in the sense of the
variational information bottleneck (Alemi et al. 2017), as used by
Stricker/Inoue et al. (2026) to compare representations: a Gaussian encoder
``q(t|z) = N(μ(z), diag σ²(z))`` is fitted on the hidden code ``Z`` together
with a softmax decoder ``p(y|t)`` by minimising
``CE(y, p(y|t)) + β KL(q(t|z) ‖ N(0, I))`` (reparameterised samples, Adam),
and the mean KL over the samples is reported in bits. That mean KL is an
upper bound of the information the encoder's output carries about ``Z`` (it
exceeds ``I(Z;T)`` by ``KL(q(t) ‖ N(0, I))``).

:func:`gaussian_kl_bits` is the closed-form KL used there and
:func:`plugin_mutual_information` a simple plug-in ``I(Z;Y)`` on discretised
codes.
"""

from __future__ import annotations

import numpy as np

from synaplast._validation import as_float32, check_int, check_real

__all__ = ["gaussian_kl_bits", "mutual_information_vib", "plugin_mutual_information"]

_LN2 = np.log(2.0)


def gaussian_kl_bits(mu, logvar):
    """``KL(N(μ, diag e^{logvar}) ‖ N(0, I))`` per row, in bits."""
    mu = np.asarray(mu, dtype=np.float64)
    logvar = np.asarray(logvar, dtype=np.float64)
    if mu.shape != logvar.shape:
        raise ValueError(f"mu {mu.shape} and logvar {logvar.shape} differ in shape")
    kl = 0.5 * (mu**2 + np.exp(logvar) - 1.0 - logvar)
    return kl.sum(axis=-1) / _LN2


def _labels(y, n):
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"y must have shape ({n},), got {y.shape}")
    classes, idx = np.unique(y, return_inverse=True)
    return classes, idx


def mutual_information_vib(
    Z,
    y,
    *,
    latent_dim=32,
    beta=1e-3,
    epochs=60,
    batch_size=256,
    learning_rate=1e-2,
    random_state=0,
    return_details=False,
):
    """Variational (VIB) estimate of ``I(X;Z)`` of a representation, in bits.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_units)
        The representation (e.g. ``est.transform(X)``).
    y : array-like of shape (n_samples,)
        Labels for the softmax decoder.
    latent_dim : int, default=32
        Dimension of the Gaussian encoder's output.
    beta : float, default=1e-3
        Weight of the KL term.
    epochs, batch_size, learning_rate : training of encoder and decoder (Adam).
    random_state : int
    return_details : bool
        Also return a dict with the decoder accuracy and the per-sample KL.

    Returns
    -------
    float
        Mean ``KL(q(t|z) ‖ N(0, I))`` in bits (or ``(bits, details)``).

    Notes
    -----
    The encoder is affine in ``Z`` for both the mean and the log-variance;
    the decoder is affine-softmax in ``t``. The features are scaled by their
    overall standard deviation first so the estimate does not depend on the
    units of ``Z``.
    """
    Z = as_float32(Z, "Z", 2, allow_empty=False).astype(np.float64)
    n, d = Z.shape
    classes, yi = _labels(y, n)
    k = check_int(latent_dim, "latent_dim", low=1)
    beta = check_real(beta, "beta", low=0, low_open=True)
    epochs = check_int(epochs, "epochs", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    lr = check_real(learning_rate, "learning_rate", low=0, low_open=True)
    rng = np.random.RandomState(check_int(random_state, "random_state", low=0))
    scale = Z.std()
    Zs = (Z - Z.mean(0)) / (scale if scale > 0 else 1.0)
    c = len(classes)
    T = np.eye(c)[yi]
    params = {
        "A": rng.normal(0, 1 / np.sqrt(max(d, 1)), (d, k)),
        "a": np.zeros(k),
        "B": np.zeros((d, k)),
        "b": np.full(k, -2.0),
        "D": rng.normal(0, 1 / np.sqrt(k), (k, c)),
        "e": np.zeros(c),
    }
    m = {key: np.zeros_like(v) for key, v in params.items()}
    v = {key: np.zeros_like(val) for key, val in params.items()}
    step = 0
    b1, b2 = 0.9, 0.999
    for _ in range(epochs):
        order = rng.permutation(n)
        for s in range(0, n, batch_size):
            idx = order[s : s + batch_size]
            z, t = Zs[idx], T[idx]
            nb = len(idx)
            mu = z @ params["A"] + params["a"]
            lv = np.clip(z @ params["B"] + params["b"], -12, 6)
            sd = np.exp(0.5 * lv)
            eps = rng.standard_normal(mu.shape)
            tt = mu + sd * eps
            o = tt @ params["D"] + params["e"]
            o -= o.max(1, keepdims=True)
            p = np.exp(o)
            p /= p.sum(1, keepdims=True)
            go = (p - t) / nb
            g = {"D": tt.T @ go, "e": go.sum(0)}
            gt = go @ params["D"].T
            gmu = gt + beta * mu / nb
            glv = gt * eps * sd * 0.5 + beta * 0.5 * (np.exp(lv) - 1.0) / nb
            g["A"], g["a"] = z.T @ gmu, gmu.sum(0)
            g["B"], g["b"] = z.T @ glv, glv.sum(0)
            step += 1
            for key in params:
                m[key] = b1 * m[key] + (1 - b1) * g[key]
                v[key] = b2 * v[key] + (1 - b2) * g[key] ** 2
                mh = m[key] / (1 - b1**step)
                vh = v[key] / (1 - b2**step)
                params[key] -= lr * mh / (np.sqrt(vh) + 1e-8)
    mu = Zs @ params["A"] + params["a"]
    lv = np.clip(Zs @ params["B"] + params["b"], -12, 6)
    kl = gaussian_kl_bits(mu, lv)
    bits = float(kl.mean())
    if not return_details:
        return bits
    acc = float(np.mean(np.argmax(mu @ params["D"] + params["e"], 1) == yi))
    return bits, {"kl_bits": kl, "decoder_accuracy": acc, "params": params}


def plugin_mutual_information(Z, y, *, threshold=0.0):
    """Plug-in ``I(Z;Y)`` in bits on binarised codes.

    Each sample's code is the binary word ``Z > threshold``; the estimate is
    ``H(Y) − H(Y | word)`` from empirical frequencies. It is biased upward
    when words are many compared to samples (at most ``H(Y)``).
    """
    Z = as_float32(Z, "Z", 2, allow_empty=False)
    _, yi = _labels(y, Z.shape[0])
    th = check_real(threshold, "threshold")
    words = np.packbits(Z > th, axis=1)
    _, wid = np.unique(words, axis=0, return_inverse=True)
    wid = wid.ravel()
    n = len(yi)
    joint = {}
    for w, c in zip(wid.tolist(), yi.tolist(), strict=True):
        joint[(w, c)] = joint.get((w, c), 0) + 1
    pw = np.bincount(wid) / n
    py = np.bincount(yi) / n
    mi = 0.0
    for (w, c), cnt in joint.items():
        pj = cnt / n
        mi += pj * np.log2(pj / (pw[w] * py[c]))
    return float(max(mi, 0.0))
