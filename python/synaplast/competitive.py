"""Competitive plasticity: energy-saving online learning in multilayer networks.

:class:`CompetitivePlasticityClassifier` trains a multilayer perceptron
online while writing only some of the synapses (the largest updates, a path
of plastic units, or through synaptic caching), after van Rossum & Pache
(2024) and Li & van Rossum (2020); :func:`frugal_preprocess` is the
reference input transformation. The model, its equations and references are
in the user guide (*Competitive plasticity*).
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from synaplast import _core
from synaplast._progress import Progress
from synaplast._validation import (
    as_float32,
    check_int,
    check_real,
    encode_labels,
    partial_fit_classes,
    reject_dates,
    seed_from,
    unchanged_on_error,
)
from synaplast.energy import CapacityReport, EnergyReport, synaptic_ops

__all__ = ["CompetitivePlasticityClassifier", "frugal_preprocess"]


def frugal_preprocess(X_train, X_test=None, *, noise=0.001, random_state=0):
    """The reference input transformation (``frugal_24``): shift, centre, jitter.

    Pixels in ``[0, 1]`` are shifted by ``-0.01``, the global mean of each set
    is subtracted and ``N(0, noise)`` is added (which makes the top-``|Δw|``
    selection unique). The reference code also applies this to its bias
    column; here the bias is a separate constant input of the network.

    Parameters
    ----------
    X_train : array-like of shape (n_samples, n_features)
        Training images.
    X_test : array-like of shape (n_test, n_features), optional
        Test images, transformed the same way.
    noise : float, default=0.001
        Standard deviation of the jitter.
    random_state : int or None, default=0
        Seed of the jitter.

    Returns
    -------
    X_train or (X_train, X_test) : ndarray of float32
        The transformed set(s).
    """
    rng = np.random.default_rng(random_state)
    noise = check_real(noise, "noise", low=0.0)
    out = []
    for name, X in (("X_train", X_train), ("X_test", X_test)):
        if X is None:
            continue
        X = as_float32(X, name, 2).astype(np.float64) - 0.01
        X -= X.mean()
        if noise > 0:
            X += rng.normal(0.0, noise, X.shape)
        out.append(X.astype(np.float32))
    return out[0] if X_test is None else tuple(out)


class CompetitivePlasticityClassifier(ClassifierMixin, BaseEstimator):
    """Multilayer perceptron learning online with energy-saving plasticity.

    Gradient descent on a fully connected network (a bias input to every
    layer) with batch size 1 by default. The defaults are the reference
    settings of van Rossum & Pache (2024): one hidden layer of 100 leaky-ReLU
    units (slope 0.1), linear outputs with squared error on one-hot targets,
    learning rate 0.01, initial weights ``N(0, 0.03)``, samples drawn with
    replacement. Energy is counted in the Rust update loop: ``M0`` (synaptic
    writes, i.e. non-zero ``Δw``) and ``M1`` (``Σ|Δw|``) per layer, and their
    minima ``M0_min`` (synapses whose final weight differs from the initial
    one) and ``M1_min`` (``Σ|w_final − w_init|``).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Units of each hidden layer.
    activation : {"leaky_relu", "relu", "sigmoid"}, default="leaky_relu"
        Hidden non-linearity (``"sigmoid"`` is the logistic function).
    leaky_slope : float, default=0.1
        Negative slope of ``"leaky_relu"``.
    output : {"linear", "softmax"}, default="linear"
        Linear outputs with squared error on one-hot targets, or softmax with
        cross-entropy. Both give the output error ``onehot − y``.
    learning_rate : float, default=0.01
        ``η``; a batch uses the mean error of its samples.
    init_std : float, default=0.03
        Standard deviation of the initial Gaussian weights (biases included).
    batch_size : int, default=1
        Samples per update (1: online learning as in the reference).
    sampling : {"replacement", "shuffle"}, default="replacement"
        Draw samples uniformly with replacement (reference) or in shuffled
        passes. The draw of the t-th sample depends only on ``random_state``
        and t, so ``fit`` in one go or many ``partial_fit`` calls agree.
    update_fraction : float in (0, 1], default=1.0
        ``p``: fraction of the candidate updates of each hidden weight layer
        that is written each step (the largest ``|Δw|``). With ``n``
        candidates, the threshold is the ``k``-th smallest ``|Δw|``,
        ``k = round((1 − p)(n − 1))`` as in the reference code, and every
        update ``>=`` it is kept. **Selection, no sort**: for batch size 1 the
        update is a rank-1 outer product ``η δ_j a_i``, so the threshold is
        found exactly by bisection over the float bit pattern with a linear
        two-pointer count over the sorted factors (``O(n_in + n_out)`` per
        step); per neuron it is one ``nth_element`` selection of the
        presynaptic factors; a batch > 1 uses ``nth_element`` on the
        magnitudes of the materialised update.
    selection : {"layer", "neuron"}, default="layer"
        Choose the top fraction within each layer or within each
        postsynaptic neuron's inputs.
    output_fraction : float in (0, 1], "scaled" or None, default=None
        Fraction for the output layer; ``None`` uses ``update_fraction``,
        ``"scaled"`` the reference variant ``min(78.4 p, 1)``.
    plastic_units : int or None, default=None
        Only this many units of each hidden layer are plastic (the "path"):
        their incoming and outgoing synapses (the output biases stay
        plastic). With ``update_fraction`` the fraction is taken of the
        path's synapses.
    plastic_mode : {"fixed", "error"}, default="fixed"
        A random subset fixed at initialisation, or re-chosen every step as
        the units with the largest backpropagated ``|δ|``.
    caching : bool, default=False
        Synaptic caching: ``w = l + s``; updates go to the transient ``s``,
        which decays by ``exp(-1/cache_tau)`` per step and costs
        ``maintenance_cost · Σ|s|`` per step; when any ``|s|`` of a neuron
        exceeds ``consolidation_threshold``, all its synapses consolidate
        (``l += s``, ``s = 0``, energy ``Σ|Δl|``). ``fit`` consolidates all
        transient weights at its end (the energy is counted).
    cache_tau : float or None, default=None
        Decay time constant of ``s`` in steps (``None``: no decay).
    maintenance_cost : float, default=0.0
        ``c`` of the maintenance energy.
    consolidation_threshold : float, default=0.1
        ``θ``.
    target_accuracy : float or None, default=None
        Stop once the accuracy on the evaluation set reaches it (reference:
        0.95). The evaluation set is ``eval_set`` of ``fit`` or, if not
        given, a stratified ``validation_fraction`` split of the training data.
    eval_every : int, default=2000
        Evaluate every this many training samples (the reference's rule);
        each evaluation is a row of ``history_``.
    validation_fraction : float, default=0.1
        Held-out fraction when ``target_accuracy`` is set without ``eval_set``.
    max_epochs : float, default=5.0
        At most ``max_epochs · n_samples`` training samples per ``fit``.
    error_clip : float or None, default=10.0
        The output error ``onehot − y`` and the backpropagated errors are
        clipped to ``±error_clip``, a safeguard that keeps plain SGD finite on
        unscaled inputs. In the reference runs the errors stay far below 10,
        so it never acts there. ``None``: no clipping.
    random_state : int, RandomState or None, default=None
        Seeds the weights, the path and the sample order.
    verbose : int, default=0
        Show a progress bar (training then runs in chunks, same results).

    Attributes
    ----------
    classes_ : ndarray
    n_features_in_ : int
    history_ : list of dict
        One entry per evaluation: ``samples``, ``epochs``, ``accuracy``,
        ``M0``, ``M1``, ``M0_min``, ``M1_min`` (totals over layers so far).
    n_samples_seen_ : int
        Training samples drawn so far (all calls).
    epochs_ : float
        ``n_samples_seen_`` over the training-set size of the last fit.
    reached_target_ : bool or None
        Whether ``target_accuracy`` was reached (``None`` without a target).
    layer_energy_ : list of dict
        Per weight layer: ``M0``, ``M1``, ``M0_min``, ``M1_min``,
        ``inefficiency_M0``/``_M1``, and for caching ``consolidation_writes``,
        ``consolidation_energy``, ``maintenance_energy``, ``consolidations``.
    energy_ : EnergyReport
        Totals. Without caching ``writes``/``abs_change`` are ``M0``/``M1``;
        with caching they are the consolidation writes and the consolidation
        plus maintenance energy (the transient changes are in ``details``).
    capacity_ : CapacityReport
    coefs_ : list of ndarray
        Weights of each layer, shape ``(n_out, n_in + 1)``, bias last.

    Notes
    -----
    Speed (see ``benches/RESULTS.md``): with batch size 1 each first-layer
    row is updated and immediately multiplied with the next sample (one pass
    over the largest matrix per sample, AVX-512 or AVX2 when the CPU has
    them); evaluations are packed-panel matrix products over blocks of
    samples. With two or more threads (:func:`synaplast.set_num_threads`) and
    a ``target_accuracy``, each evaluation runs on a snapshot of the network
    while training goes on; when the target is reached the network returns
    to that snapshot. Results are identical for every thread count.

    Examples
    --------
    >>> import numpy as np
    >>> from synaplast import CompetitivePlasticityClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = CompetitivePlasticityClassifier(hidden_layer_sizes=(16,), learning_rate=0.05,
    ...                                       update_fraction=0.1, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.8
    True
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="leaky_relu",
        leaky_slope=0.1,
        output="linear",
        learning_rate=0.01,
        init_std=0.03,
        batch_size=1,
        sampling="replacement",
        update_fraction=1.0,
        selection="layer",
        output_fraction=None,
        plastic_units=None,
        plastic_mode="fixed",
        caching=False,
        cache_tau=None,
        maintenance_cost=0.0,
        consolidation_threshold=0.1,
        target_accuracy=None,
        eval_every=2000,
        validation_fraction=0.1,
        max_epochs=5.0,
        error_clip=10.0,
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.leaky_slope = leaky_slope
        self.output = output
        self.learning_rate = learning_rate
        self.init_std = init_std
        self.batch_size = batch_size
        self.sampling = sampling
        self.update_fraction = update_fraction
        self.selection = selection
        self.output_fraction = output_fraction
        self.plastic_units = plastic_units
        self.plastic_mode = plastic_mode
        self.caching = caching
        self.cache_tau = cache_tau
        self.maintenance_cost = maintenance_cost
        self.consolidation_threshold = consolidation_threshold
        self.target_accuracy = target_accuracy
        self.eval_every = eval_every
        self.validation_fraction = validation_fraction
        self.max_epochs = max_epochs
        self.error_clip = error_clip
        self.random_state = random_state
        self.verbose = verbose

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "activation": [StrOptions({"leaky_relu", "relu", "sigmoid"})],
        "leaky_slope": [Interval(Real, -np.inf, np.inf, closed="neither")],
        "output": [StrOptions({"linear", "softmax"})],
        "learning_rate": [Interval(Real, 0, np.inf, closed="neither")],
        "init_std": [Interval(Real, 0, np.inf, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "sampling": [StrOptions({"replacement", "shuffle"})],
        "update_fraction": [Interval(Real, 0, 1, closed="right")],
        "selection": [StrOptions({"layer", "neuron"})],
        "output_fraction": [Interval(Real, 0, 1, closed="right"), StrOptions({"scaled"}), None],
        "plastic_units": [Interval(Integral, 1, None, closed="left"), None],
        "plastic_mode": [StrOptions({"fixed", "error"})],
        "caching": ["boolean"],
        "cache_tau": [Interval(Real, 0, np.inf, closed="neither"), None],
        "maintenance_cost": [Interval(Real, 0, np.inf, closed="left")],
        "consolidation_threshold": [Interval(Real, 0, np.inf, closed="left")],
        "target_accuracy": [Interval(Real, 0, 1, closed="both"), None],
        "eval_every": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "max_epochs": [Interval(Real, 0, np.inf, closed="neither")],
        "error_clip": [Interval(Real, 0, np.inf, closed="neither"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # ------------------------------------------------------------ parameters
    def _derived(self) -> dict:
        """Validated parameters in the form the core takes (after ``_validate_params``)."""
        hidden = self.hidden_layer_sizes
        hidden = (hidden,) if isinstance(hidden, Integral) else tuple(hidden)
        if not hidden:
            raise ValueError("hidden_layer_sizes needs at least one hidden layer")
        hidden = tuple(check_int(h, "hidden_layer_sizes", low=1) for h in hidden)
        p = float(self.update_fraction)
        if self.output_fraction is None:
            p_out = p
        elif self.output_fraction == "scaled":
            p_out = min(78.4 * p, 1.0)
        else:
            p_out = float(self.output_fraction)
        cache = None
        if self.caching:
            decay = 1.0 if self.cache_tau is None else math.exp(-1.0 / self.cache_tau)
            if decay <= 0.0:
                raise ValueError(f"cache_tau={self.cache_tau} is too small (the decay underflows)")
            cache = {
                "decay": decay,
                "maintenance_cost": float(self.maintenance_cost),
                "threshold": float(self.consolidation_threshold),
            }
        return {
            "hidden": hidden,
            "p": p,
            "p_out": p_out,
            "cache": cache,
            "target": None if self.target_accuracy is None else float(self.target_accuracy),
            "error_clip": math.inf if self.error_clip is None else float(self.error_clip),
        }

    def _validate_xy(self, X, y, reset):
        reject_dates(X)
        X, y = validate_data(self, X, y, dtype=np.float32, reset=reset, order="C")
        check_classification_targets(y)
        if y.ndim != 1:
            raise ValueError(f"y must be 1-dimensional, got shape {y.shape}")
        return X, y

    # ------------------------------------------------------------------- fit
    def _new_network(self, prm, n_in, n_classes, seed):
        """A fresh Rust network for validated parameters ``prm``."""
        config = {
            "sizes": [n_in, *prm["hidden"], n_classes],
            "activation": self.activation,
            "leaky_slope": float(self.leaky_slope),
            "output": self.output,
            "learning_rate": float(self.learning_rate),
            "init_std": float(self.init_std),
            "fractions": [prm["p"]] * len(prm["hidden"]) + [prm["p_out"]],
            "selection": self.selection,
            "plastic_units": self.plastic_units,
            "path_mode": self.plastic_mode,
            "caching": prm["cache"],
            "batch_size": self.batch_size,
            "error_clip": prm["error_clip"],
        }
        return _core.CompetitiveMlp(config, seed)

    def _schedule(self, prm, max_samples, target, seed):
        """The ``Schedule`` of one training call."""
        return {
            "sampling": self.sampling,
            "max_samples": int(max_samples),
            "eval_every": self.eval_every,
            "target_accuracy": target,
            "seed": seed,
        }

    @unchanged_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, eval_set=None):
        """Train from fresh weights until ``target_accuracy`` or ``max_epochs``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,)
            Class labels.
        eval_set : tuple (X_eval, y_eval), optional
            Evaluation set of the stopping rule and of ``history_``.

        Returns
        -------
        self : CompetitivePlasticityClassifier
            The fitted estimator.
        """
        prm = self._derived()
        X, y = self._validate_xy(X, y, reset=True)
        classes = np.unique(y)
        if classes.size < 2:
            raise ValueError(
                f"y has only one class ({classes[0]!r}); a classifier needs at least 2 classes"
            )
        seed = seed_from(self.random_state)
        self.classes_ = classes
        yi = encode_labels(classes, y)
        eval_xy = self._eval_set(eval_set, X, yi, prm, seed)
        if eval_xy is not None and eval_xy[2]:  # split off from the training data
            X, yi = eval_xy[3], eval_xy[4]
        model = self._new_network(prm, X.shape[1], classes.size, seed)
        max_samples = max(1, math.ceil(self.max_epochs * X.shape[0]))
        history, reached = self._train(model, X, yi, max_samples, eval_xy, prm, seed, prm["target"])
        if prm["cache"] is not None:
            model.consolidate_all()
        self._model = model
        self._seed = seed
        self._n_train = X.shape[0]
        self.history_ = history
        self.reached_target_ = None if prm["target"] is None else bool(reached)
        self._finish()
        return self

    def _eval_set(self, eval_set, X, yi, prm, seed):
        """``(X_eval, y_eval, split, X_train, y_train)`` or None."""
        if eval_set is not None:
            try:
                Xe, ye = eval_set
            except (TypeError, ValueError):
                raise TypeError("eval_set must be a pair (X_eval, y_eval)") from None
            Xe = as_float32(Xe, "eval_set X", 2, allow_empty=False)
            if Xe.shape[1] != X.shape[1]:
                raise ValueError(f"eval_set X has {Xe.shape[1]} features, X has {X.shape[1]}")
            ye = np.asarray(ye)
            if ye.ndim != 1 or ye.shape[0] != Xe.shape[0]:
                raise ValueError("eval_set y must be 1-d with one label per row of eval_set X")
            return Xe, encode_labels(self.classes_, ye, "eval_set y"), False, X, yi
        if prm["target"] is None:
            return None
        from sklearn.model_selection import train_test_split

        n_val = max(len(self.classes_), int(round(self.validation_fraction * X.shape[0])))
        if n_val >= X.shape[0]:
            raise ValueError("too few samples to split off a validation set")
        counts = np.bincount(yi)
        strat = yi if counts.min() >= 2 and n_val >= len(counts) else None
        Xt, Xv, yt, yv = train_test_split(
            X, yi, test_size=n_val, random_state=seed % (2**32), stratify=strat
        )
        return (
            np.ascontiguousarray(Xv),
            yv.astype(np.int64),
            True,
            np.ascontiguousarray(Xt),
            yt.astype(np.int64),
        )

    def _train(self, model, X, yi, max_samples, eval_xy, prm, seed, target):
        eval_set = (eval_xy[0], eval_xy[1]) if eval_xy is not None else None
        history = []
        reached = False
        n = X.shape[0]
        verbose = bool(self.verbose)
        if not verbose:
            chunks = [max_samples]
        else:  # chunks of whole evaluation intervals; the same result as one call
            every = self.eval_every
            step = every * max(1, math.ceil(max_samples / every / 20))
            first = step - model.samples_seen % every
            chunks = [min(first, max_samples)]
            while sum(chunks) < max_samples:
                chunks.append(min(step, max_samples - sum(chunks)))
        with Progress(max_samples, "competitive", enabled=verbose) as bar:
            for todo in chunks:
                out = model.train(X, yi, self._schedule(prm, todo, target, seed), eval_set)
                for c in out["history"]:
                    history.append(
                        {
                            "samples": int(c["samples"]),
                            "epochs": c["samples"] / n,
                            "accuracy": c["accuracy"],
                            "M0": int(c["writes"]),
                            "M1": c["abs_change"],
                            "M0_min": int(c["min_writes"]),
                            "M1_min": c["min_abs_change"],
                        }
                    )
                postfix = f"acc {history[-1]['accuracy']:.4f}" if history else None
                bar.update(int(out["samples"]), postfix)
                reached = out["reached"]
                if reached:
                    break
        return history, reached

    @unchanged_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """One pass of online updates over ``X`` in the configured sample order.

        Draws ``len(X)`` samples (with replacement or shuffled, as set by
        ``sampling``). No stopping rule and no final consolidation (call
        :meth:`consolidate` to move cached weights into the persistent ones).
        A failed call leaves the model as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like, optional
            All classes; required on the first call.

        Returns
        -------
        self : CompetitivePlasticityClassifier
            The updated estimator.
        """
        first = not hasattr(self, "_model")
        prm = self._derived()
        X, y = self._validate_xy(X, y, reset=first)
        self.classes_ = partial_fit_classes(self, classes, first, min_classes=2)
        yi = encode_labels(self.classes_, y)
        if first:
            seed = seed_from(self.random_state)
            model = self._new_network(prm, X.shape[1], self.classes_.size, seed)
        else:
            model = self._model.copy()
            seed = self._seed
        model.train(X, yi, self._schedule(prm, X.shape[0], None, seed))
        self._model = model
        self._seed = seed
        self._n_train = X.shape[0]
        if first:
            self.history_ = []
            self.reached_target_ = None
        self._finish()
        return self

    def consolidate(self):
        """Move all cached (transient) weights into the persistent ones.

        Returns
        -------
        self : CompetitivePlasticityClassifier
            The estimator, with ``energy_`` counting the consolidation.
        """
        check_is_fitted(self, "_model")
        self._model.consolidate_all()
        self._finish()
        return self

    def _finish(self):
        m = self._model
        self.n_samples_seen_ = int(m.samples_seen)
        self.epochs_ = self.n_samples_seen_ / max(self._n_train, 1)
        self.coefs_ = [np.asarray(w) for w in m.weights()]
        caching = self.caching
        layers = []
        tot = {"M0": 0, "M1": 0.0, "M0_min": 0, "M1_min": 0.0}
        cache_tot = {
            "consolidation_writes": 0,
            "consolidation_energy": 0.0,
            "maintenance_energy": 0.0,
            "consolidations": 0,
        }
        for e, (m0min, m1min) in zip(m.energy(), m.minimal_energy(), strict=True):
            row = {
                "M0": int(e["writes"]),
                "M1": float(e["abs_change"]),
                "M0_min": int(m0min),
                "M1_min": float(m1min),
            }
            row["inefficiency_M0"] = row["M0"] / row["M0_min"] if row["M0_min"] else math.inf
            row["inefficiency_M1"] = row["M1"] / row["M1_min"] if row["M1_min"] else math.inf
            for k in tot:
                tot[k] += row[k]
            if caching:
                for k in cache_tot:
                    row[k] = e[k]
                    cache_tot[k] += e[k]
            layers.append(row)
        self.layer_energy_ = layers
        n_syn = sum(w.size for w in self.coefs_)
        details = {
            "layers": layers,
            "epochs": self.epochs_,
            "samples": self.n_samples_seen_,
            "M0": tot["M0"],
            "M1": tot["M1"],
        }
        if caching:
            details.update(cache_tot)
            details["transient_writes"] = tot["M0"]
            details["transient_abs_change"] = tot["M1"]
            writes = cache_tot["consolidation_writes"]
            abs_change = cache_tot["consolidation_energy"] + cache_tot["maintenance_energy"]
        else:
            writes, abs_change = tot["M0"], tot["M1"]
        self.energy_ = EnergyReport(
            writes=int(writes),
            abs_change=float(abs_change),
            min_writes=int(tot["M0_min"]),
            min_abs_change=float(tot["M1_min"]),
            ops_per_prediction=float(n_syn),
            prediction_ops=synaptic_ops(n_syn, sparse=False),
            details=details,
        )
        self.capacity_ = CapacityReport(
            n_synapses=int(sum(np.count_nonzero(w) for w in self.coefs_)),
            n_potential=int(n_syn),
            memory_bytes=int(4 * n_syn * (3 if caching else 2)),
            details={"paths": [np.asarray(p) for p in m.paths()]},
        )

    # --------------------------------------------------------------- predict
    def _outputs(self, X):
        check_is_fitted(self, "_model")
        reject_dates(X)
        X = validate_data(self, X, dtype=np.float32, reset=False, order="C")
        return np.asarray(self._model.forward(X))

    def decision_function(self, X):
        """Network outputs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes) or (n_samples,)
            The outputs; for two classes ``output[:, 1] − output[:, 0]``
            (positive: ``classes_[1]``).
        """
        out = self._outputs(X)
        if out.shape[1] == 2:
            return out[:, 1] - out[:, 0]
        return out

    def predict(self, X):
        """The class of the largest output.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels.
        """
        out = self._outputs(X)
        return self.classes_[np.argmax(out, axis=1)]

    def predict_proba(self, X):
        """Class probabilities: the softmax outputs, or the softmax of the linear outputs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        out = self._outputs(X).astype(np.float64)
        if self.output == "softmax":
            return out / out.sum(axis=1, keepdims=True)
        out -= out.max(axis=1, keepdims=True)
        np.exp(out, out=out)
        return out / out.sum(axis=1, keepdims=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags
