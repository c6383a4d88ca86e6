"""Input encodings that turn real-valued features into non-negative rates.

Excitatory synapses (weights ``>= 0``) can only add up non-negative presynaptic
rates, so a model built from them needs its input as rates. The retina solves
the same problem for light, which can get brighter or darker than the
surround: ON cells fire when the input rises above a reference, OFF cells
when it falls below it. :class:`OnOffEncoder` does that per feature.

For feature ``j`` with centre ``c_j`` and one-sided ranges
``a_j = max(x_j) − c_j`` and ``b_j = c_j − min(x_j)`` on the training data::

    on_j  = clip((x_j − c_j) / a_j, 0, 1)
    off_j = clip((c_j − x_j) / b_j, 0, 1)

The centre is the training median, except for *rate-like* features: never
negative and exactly 0 on at least a tenth of the training samples (pixel
intensities, counts). Their reference is silence, ``c_j = 0``, so they have
an ON channel only: pixels in ``[0, 1]`` pass essentially unchanged, and no
dense OFF channel is made of background pixels. A channel whose range is 0
(a feature never above, or never below, its centre) is dropped. Values
outside the training range saturate at 1 as a firing rate does:
``transform`` never fails on finite inputs.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["OnOffEncoder"]

#: Fraction of exact zeros that marks a never-negative feature as a rate.
_RATE_ZEROS = 0.1
# Rows encoded at once (their gathered columns stay in cache).
_ROWS_PER_BLOCK = 256


class OnOffEncoder(TransformerMixin, BaseEstimator):
    """ON/OFF channels around each feature's reference, scaled to rates in ``[0, 1]``.

    See the module documentation for the equations.

    Attributes
    ----------
    centre_ : ndarray of shape (n_features,)
        Reference of every feature: 0 for rate-like features, else the
        training median.
    rate_like_ : ndarray of bool, shape (n_features,)
        Features never negative and 0 on at least a tenth of the samples.
    on_scale_, off_scale_ : ndarray of shape (n_features,)
        One-sided ranges above and below the centre (0: the channel is dropped).
    n_features_in_ : int
    n_channels_ : int
        Output features: the ON channels kept, then the OFF channels kept.
    """

    _parameter_constraints: dict = {}

    def __init__(self):
        pass

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the centres and ranges.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Finite real values.
        y : None
            Ignored.

        Returns
        -------
        self : OnOffEncoder
            The fitted encoder.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=True)
        lo, hi = X.min(axis=0), X.max(axis=0)
        # (per block of rows: one mask of all of X is a large temporary, and
        # its first touch costs more than the comparisons)
        zeros = np.zeros(X.shape[1], dtype=np.int64)
        for i in range(0, X.shape[0], 16 * _ROWS_PER_BLOCK):
            zeros += np.count_nonzero(X[i : i + 16 * _ROWS_PER_BLOCK] == 0, axis=0)
        self.rate_like_ = (lo >= 0) & (zeros / X.shape[0] >= _RATE_ZEROS)
        # Medians of the other features only (the costly part on pixels).
        centre = np.zeros(X.shape[1], dtype=X.dtype)
        if not self.rate_like_.all():
            centre[~self.rate_like_] = np.median(X[:, ~self.rate_like_], axis=0)
        self.centre_ = centre.astype(np.float32)
        self.on_scale_ = (hi - centre).astype(np.float32)
        self.off_scale_ = (centre - lo).astype(np.float32)
        return self

    # The channels kept follow from the ranges (never stored on their own, so
    # a tampered pickle cannot point them outside the features).
    @property
    def _on(self):
        return np.flatnonzero(np.asarray(self.on_scale_) > 0)

    @property
    def _off(self):
        return np.flatnonzero(np.asarray(self.off_scale_) > 0)

    def _channels(self):
        """Feature of every output channel, and its signed range (``+a`` for
        ON channels, ``−b`` for OFF ones: ``d rate / d x = 1 / signed range``
        inside the unsaturated band)."""
        on, off = self._on, self._off
        return (
            np.concatenate([on, off]),
            np.concatenate([self.on_scale_[on], -self.off_scale_[off]]),
        )

    @property
    def n_channels_(self):
        """Output features: the ON channels kept, then the OFF channels kept."""
        return int(self._on.size + self._off.size)

    def transform(self, X):
        """ON/OFF rates of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Finite real values (any range).

        Returns
        -------
        R : ndarray of shape (n_samples, n_channels)
            float32 rates in ``[0, 1]``.
        """
        check_is_fitted(self, "centre_")
        X = validate_data(self, X, dtype=np.float32, reset=False)
        return self._encode(X)

    def _encode(self, X):
        """``transform`` of an already validated float32 array."""
        c, off = self.centre_, self._off
        if not (c.shape == self.on_scale_.shape == self.off_scale_.shape == (X.shape[1],)):
            raise ValueError("the encoder's centres and ranges do not match the features")
        keep_on = np.asarray(self.on_scale_) > 0  # (what `_on` lists)
        on = np.flatnonzero(keep_on)
        R = np.empty((X.shape[0], on.size + off.size), dtype=np.float32)
        c_on = c[on] if np.any(c[on]) else None  # (rate-like channels have centre 0)
        on_scale, c_off, off_scale = self.on_scale_[on], c[off], self.off_scale_[off]
        # Row blocks that stay in cache: gathering columns of the whole
        # array at once is several times slower on MNIST-sized inputs.
        for i in range(0, X.shape[0], _ROWS_PER_BLOCK):
            xb, rb = X[i : i + _ROWS_PER_BLOCK], R[i : i + _ROWS_PER_BLOCK]
            if on.size:
                ron = rb[:, : on.size]
                ron[...] = xb[:, on]
                if c_on is not None:
                    ron -= c_on
                ron /= on_scale
            if off.size:
                np.subtract(c_off, xb[:, off], out=rb[:, on.size :])
                rb[:, on.size :] /= off_scale
            np.clip(rb, 0.0, 1.0, out=rb)
        return R

    def get_feature_names_out(self, input_features=None):
        """``<feature>_on`` and ``<feature>_off`` for the channels kept.

        Parameters
        ----------
        input_features : array-like of str, optional
            Input names; by default ``feature_names_in_`` or ``x0, x1, ...``.

        Returns
        -------
        names : ndarray of str
            One name per output channel.
        """
        check_is_fitted(self, "centre_")
        names = OneToOneFeatureMixin.get_feature_names_out(self, input_features)
        return np.asarray(
            [f"{names[j]}_on" for j in self._on] + [f"{names[j]}_off" for j in self._off],
            dtype=object,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
