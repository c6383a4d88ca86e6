"""Recurrent spiking networks that learn with e-prop (Bellec et al. 2020).

:class:`EPropRegressor` and :class:`EPropClassifier` wrap the Rust core
(``synaplast._core.EPropNetwork``): (adaptive) LIF recurrent neurons with
sparse input and recurrent synapses, leaky readouts, eligibility traces,
random or symmetric feedback, firing-rate regularisation, gradient descent or
Adam with weight clamping, and NEST's event-driven update scheme (synapses
update only when their presynaptic neuron spikes; ``update="time"`` runs the
time-driven reference, which gives the same weights).

Inputs are spike trains shaped ``(n_samples, n_steps, n_inputs)`` (0/1), or a
list (one entry per sample) of lists of spike-step arrays (one per input).
A 2-d array ``(n_samples, n_features)`` is latency-coded: each feature is an
input neuron that spikes once, earlier for larger (min-max scaled) values.
The equations and references are in the user guide (*e-prop*).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from synaplast import _core
from synaplast._progress import Progress
from synaplast._validation import (
    encode_labels,
    partial_fit_classes,
    reject_dates,
    seed_from,
    unchanged_on_error,
)
from synaplast.energy import CapacityReport, EnergyReport

__all__ = ["EPropClassifier", "EPropRegressor", "spikes_from_times"]

_SURROGATES = ("piecewise_linear", "exponential", "fast_sigmoid_derivative", "arctan_derivative")


def spikes_from_times(trains, n_steps: int | None = None) -> np.ndarray:
    """Dense ``(n_samples, n_steps, n_inputs)`` uint8 spikes from lists of spike-step arrays."""
    if not isinstance(trains, list | tuple) or not trains:
        raise TypeError("spike trains must be a non-empty list of per-sample lists of arrays")
    n_in = len(trains[0])
    steps = []
    for s, sample in enumerate(trains):
        if len(sample) != n_in:
            raise ValueError(f"X[{s}] has {len(sample)} inputs, expected {n_in}")
        for arr in sample:
            a = np.asarray(arr)
            if a.size and (a.dtype.kind not in "iu" and not np.all(a == np.round(a))):
                raise TypeError("spike times must be integer step indices")
            if a.size and a.min() < 0:
                raise ValueError("spike times must be >= 0")
            steps.append(int(a.max()) + 1 if a.size else 0)
    t = max(steps, default=0) if n_steps is None else int(n_steps)
    out = np.zeros((len(trains), t, n_in), dtype=np.uint8)
    for s, sample in enumerate(trains):
        for i, arr in enumerate(sample):
            a = np.asarray(arr, dtype=np.int64)
            a = a[a < t]
            out[s, a, i] = 1
    return out


_PARAMETERS = """
    Parameters
    ----------
    n_rec : int, default=100
        Recurrent neurons.
    neuron : {"lif", "alif"}, default="lif"
        Leaky integrate-and-fire neurons (NEST ``eprop_iaf``) or adaptive LIF
        neurons with a threshold that rises after each spike (``eprop_iaf_adapt``).
    p_in : float in [0, 1], default=1.0
        Probability of each input→recurrent synapse.
    p_rec : float in [0, 1], default=1.0
        Probability of each recurrent→recurrent synapse (no self-connections).
    tau_m : float, default=20.0
        Membrane time constant of the recurrent neurons (ms).
    tau_out : float, default=20.0
        Membrane time constant of the leaky readouts (ms); it also sets the
        eligibility-trace filter ``κ = exp(−dt/tau_out)``.
    v_th : float, default=0.3
        Spike threshold (relative to rest).
    t_ref : int, default=0
        Refractory period in steps.
    adapt_beta : float, default=1.0
        Threshold adaptation strength ``β`` (used with ``neuron="alif"``).
    adapt_tau : float, default=200.0
        Adaptation time constant (ms).
    surrogate : {"piecewise_linear", "exponential", "fast_sigmoid_derivative", \
"arctan_derivative"}, default="piecewise_linear"
        Pseudo-derivative ``ψ`` of the spike with respect to the membrane
        potential (NEST's names).
    surrogate_height : float, default=0.3
        Height ``γ`` of the pseudo-derivative.
    surrogate_width : float or None, default=None
        Width of the pseudo-derivative; ``None`` uses ``v_th`` and divides the
        height by ``v_th``, as in Bellec et al. (2020).
    input_scale : float, default=6.0
        Initial input weights are ``N(0, 1) · input_scale / √(expected fan-in)``.
    rec_scale : float, default=1.0
        The same for the recurrent weights.
    feedback : {"random", "symmetric"}, default="random"
        Weights that broadcast the output error to the recurrent neurons:
        fixed random (random e-prop) or the readout weights ``W_outᵀ``.
    dale : float in [0, 1] or None, default=None
        Fraction of excitatory neurons under Dale's law (each neuron's
        outgoing weights keep one sign); ``None``: no sign constraint.
    c_reg : float, default=0.0
        Strength of the firing-rate regularisation.
    f_target : float, default=10.0
        Target firing rate of the regularisation (Hz).
    optimizer : {"adam", "gradient_descent"}, default="adam"
        Update applied to the accumulated gradient of each synapse.
    learning_rate : float, default=1e-2
        Step size ``η``.
    w_min : float, default=-100.0
        Lower weight bound.
    w_max : float, default=100.0
        Upper weight bound (``>= w_min``).
    batch_size : int, default=16
        Sequences whose gradients are summed into one weight update.
    max_iter : int, default=20
        Epochs of ``fit``.
    cutoff : int or None, default=None
        Steps after a presynaptic spike over which eligibility traces are
        integrated; ``None``: no cutoff.
    update : {"event", "time"}, default="event"
        Event-driven updates (a synapse updates only when its presynaptic
        neuron spikes, NEST's scheme) or the time-driven reference; both give
        the same weights up to rounding.
    nest_compatible : bool, default=False
        NEST 3.10's forms: no ``(1 − α)`` on the spike input and no ``(1 − κ)``
        on ``ē``, reset in the spike step.
    n_steps_2d : int, default=20
        Steps of the latency code used for 2-d ``X`` (an ON and an OFF input
        per feature, each spiking once).
    window : float in (0, 1], default=0.5
        Fraction of each sequence, at its end, over which the output is
        learned and read (the mean readout there is the prediction).
    dt : float, default=1.0
        Time step (ms).
    distributed : {"mpi", "none"} or None, default=None
        ``"mpi"``: when the script runs under ``mpiexec -n N`` (mpi4py's
        ``COMM_WORLD``, ``pip install synaplast[mpi]``), every rank simulates
        a block of the recurrent neurons and the ranks exchange spikes after
        every step; fitting and prediction give bit-identical losses,
        predictions and weights to one process, and every rank ends with the
        whole fitted estimator. Each rank also keeps its block after
        fitting, and predictions run on the blocks, exchanging only spikes
        (and, at the end, counts). Every rank must call the same methods
        with the same data. One rank, ``None`` or ``"none"``: one process.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights and the order of the sequences.
    verbose : int, default=0
        Show a progress bar over the epochs (on MPI rank 0 only).
"""

_ATTRIBUTES = """
    n_steps_ : int
        Steps per sequence seen in ``fit``.
    n_inputs_ : int
        Input neurons (twice the features for latency-coded 2-d ``X``).
    n_features_in_ : int
        Features (input neurons for spike inputs) seen in ``fit``.
    n_iter_ : int
        Epochs trained.
    loss_curve_ : list of float
        Mean loss of each epoch.
    weights_ : tuple
        ``((indptr, indices, weights), w_out)``: the input and recurrent
        synapses in compressed rows by presynaptic neuron (inputs first) and
        the readout weights ``(n_rec, n_outputs)``.
    energy_ : EnergyReport
        Synaptic writes and ``Σ|Δw|`` of learning against their minimum,
        and the synaptic events of one prediction.
    capacity_ : CapacityReport
        Synapses, bytes of the synapse store with its learning state and of
        the postsynaptic archive.
"""


class _EPropBase(BaseEstimator):
    _loss = "mse"

    def __init__(
        self,
        n_rec=100,
        *,
        neuron="lif",
        p_in=1.0,
        p_rec=1.0,
        tau_m=20.0,
        tau_out=20.0,
        v_th=0.3,
        t_ref=0,
        adapt_beta=1.0,
        adapt_tau=200.0,
        surrogate="piecewise_linear",
        surrogate_height=0.3,
        surrogate_width=None,
        input_scale=6.0,
        rec_scale=1.0,
        feedback="random",
        dale=None,
        c_reg=0.0,
        f_target=10.0,
        optimizer="adam",
        learning_rate=1e-2,
        w_min=-100.0,
        w_max=100.0,
        batch_size=16,
        max_iter=20,
        cutoff=None,
        update="event",
        nest_compatible=False,
        n_steps_2d=20,
        window=0.5,
        dt=1.0,
        distributed=None,
        random_state=None,
        verbose=0,
    ):
        self.n_rec = n_rec
        self.neuron = neuron
        self.p_in = p_in
        self.p_rec = p_rec
        self.tau_m = tau_m
        self.tau_out = tau_out
        self.v_th = v_th
        self.t_ref = t_ref
        self.adapt_beta = adapt_beta
        self.adapt_tau = adapt_tau
        self.surrogate = surrogate
        self.surrogate_height = surrogate_height
        self.surrogate_width = surrogate_width
        self.input_scale = input_scale
        self.rec_scale = rec_scale
        self.feedback = feedback
        self.dale = dale
        self.c_reg = c_reg
        self.f_target = f_target
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.w_min = w_min
        self.w_max = w_max
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.cutoff = cutoff
        self.update = update
        self.nest_compatible = nest_compatible
        self.n_steps_2d = n_steps_2d
        self.window = window
        self.dt = dt
        self.distributed = distributed
        self.random_state = random_state
        self.verbose = verbose

    # -- input handling -------------------------------------------------
    @staticmethod
    def _is_spike_times(X) -> bool:
        if (
            not isinstance(X, list | tuple)
            or not X
            or not isinstance(X[0], list | tuple)
            or not X[0]
        ):
            return False
        return np.ndim(X[0][0]) >= 1

    def _spikes(self, X, fitting: bool) -> np.ndarray:
        if self._is_spike_times(X):
            x = spikes_from_times(list(X), None if fitting else self.n_steps_)
            coding = "spikes"
        else:
            if hasattr(X, "toarray") and not isinstance(X, np.ndarray):
                raise TypeError("X must be dense, got a sparse matrix")
            ndim = np.ndim(X) if isinstance(X, np.ndarray) else None
            if ndim == 3:
                arr = X
                if arr.dtype.kind not in "biuf":
                    raise TypeError(f"X must be numeric 0/1 spikes, got dtype {arr.dtype}")
                if arr.size and not np.all((arr == 0) | (arr == 1)):
                    raise ValueError(
                        "3-d X must hold 0/1 spikes (NaN, infinity and other values are invalid)"
                    )
                x = np.ascontiguousarray(arr, dtype=np.uint8)
                coding = "spikes"
            else:
                reject_dates(X)
                arr = validate_data(self, X, reset=fitting, dtype=np.float64)
                x = self._latency(arr, fitting)
                coding = "latency"
        if x.shape[0] == 0:
            raise ValueError(
                f"Found array with 0 sample(s) (shape={x.shape}) while a minimum of 1 is required."
            )
        if fitting:
            self._coding = coding
            self.n_steps_, self.n_inputs_ = x.shape[1], x.shape[2]
            if coding == "spikes":
                self.n_features_in_ = x.shape[2]
        else:
            if coding != self._coding:
                raise ValueError(
                    f"X is {coding}-coded but the estimator was fitted on {self._coding}-coded data"
                )
            if x.shape[2] != self.n_inputs_:
                raise ValueError(
                    f"X has {x.shape[2]} inputs, but this estimator is expecting {self.n_inputs_}"
                )
        return x

    def _latency(self, arr: np.ndarray, fitting: bool) -> np.ndarray:
        t = int(self.n_steps_2d)
        if fitting:
            self._lo = arr.min(axis=0)
            hi = arr.max(axis=0)
            self._span = np.where(hi > self._lo, hi - self._lo, 1.0)
        u = np.clip((arr - self._lo) / self._span, 0.0, 1.0)
        # ON/OFF latency pair per feature: ON fires early for large values, OFF for small
        u2 = np.concatenate([u, 1.0 - u], axis=1)
        when = np.round((1.0 - u2) * (t - 2)).astype(np.int64)
        x = np.zeros((arr.shape[0], t, u2.shape[1]), dtype=np.uint8)
        s_idx, f_idx = np.indices(when.shape)
        x[s_idx.ravel(), when.ravel(), f_idx.ravel()] = 1
        return x

    def _window_mask(self, n: int, t: int) -> np.ndarray:
        w = float(self.window)
        mask = np.zeros((n, t), dtype=np.float32)
        if t:
            mask[:, t - max(1, int(round(w * t))) :] = 1.0
        return mask

    _parameter_constraints: dict = {
        "n_rec": [Interval(Integral, 1, None, closed="left")],
        "neuron": [StrOptions({"lif", "alif"})],
        "p_in": [Interval(Real, 0, 1, closed="both")],
        "p_rec": [Interval(Real, 0, 1, closed="both")],
        "tau_m": [Interval(Real, 0, np.inf, closed="neither")],
        "tau_out": [Interval(Real, 0, np.inf, closed="neither")],
        "v_th": [Interval(Real, 0, np.inf, closed="neither")],
        "t_ref": [Interval(Integral, 0, None, closed="left")],
        "adapt_beta": [Interval(Real, 0, np.inf, closed="left")],
        "adapt_tau": [Interval(Real, 0, np.inf, closed="neither")],
        "surrogate": [StrOptions(set(_SURROGATES))],
        "surrogate_height": [Interval(Real, 0, np.inf, closed="neither")],
        "surrogate_width": [Interval(Real, 0, np.inf, closed="neither"), None],
        "input_scale": [Interval(Real, -np.inf, np.inf, closed="neither")],
        "rec_scale": [Interval(Real, -np.inf, np.inf, closed="neither")],
        "feedback": [StrOptions({"random", "symmetric"})],
        "dale": [Interval(Real, 0, 1, closed="both"), None],
        "c_reg": [Interval(Real, 0, np.inf, closed="left")],
        "f_target": [Interval(Real, 0, np.inf, closed="left")],
        "optimizer": [StrOptions({"adam", "gradient_descent"})],
        "learning_rate": [Interval(Real, 0, np.inf, closed="neither")],
        "w_min": [Interval(Real, -np.inf, np.inf, closed="neither")],
        "w_max": [Interval(Real, -np.inf, np.inf, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "cutoff": [Interval(Integral, 1, None, closed="left"), None],
        "update": [StrOptions({"event", "time"})],
        "nest_compatible": ["boolean"],
        "n_steps_2d": [Interval(Integral, 2, None, closed="left")],
        "window": [Interval(Real, 0, 1, closed="right")],
        "dt": [Interval(Real, 0, np.inf, closed="neither")],
        "distributed": [StrOptions({"mpi", "none"}), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # -- configuration --------------------------------------------------
    def _config(self, n_in: int, n_out: int) -> dict:
        """The core's ``Config`` (parameters validated by ``_fit_context``;
        ``w_min <= w_max`` is the core's check)."""
        width = self.v_th if self.surrogate_width is None else self.surrogate_width
        kappa = float(np.exp(-self.dt / self.tau_out))
        return {
            "n_in": n_in,
            "n_rec": int(self.n_rec),
            "n_out": n_out,
            "dt": float(self.dt),
            "tau_m": float(self.tau_m),
            "tau_out": float(self.tau_out),
            "v_th": float(self.v_th),
            "t_ref": int(self.t_ref),
            "adapt_beta": float(self.adapt_beta) if self.neuron == "alif" else 0.0,
            "adapt_tau": float(self.adapt_tau),
            "surrogate": self.surrogate,
            "surrogate_height": float(self.surrogate_height)
            / (float(self.v_th) if self.surrogate_width is None else 1.0),
            "surrogate_width": float(width),
            "kappa": kappa,
            "kappa_reg": kappa,
            "c_reg": float(self.c_reg),
            "f_target": float(self.f_target) / 1000.0,
            "loss": self._loss,
            "optimizer": self.optimizer,
            "eta": float(self.learning_rate),
            "w_min": float(self.w_min),
            "w_max": float(self.w_max),
            "cutoff": None if self.cutoff is None else int(self.cutoff),
            "nest_compatible": bool(self.nest_compatible),
            "event_driven": self.update == "event",
            "update_at_spike": False,
            "reset_each_sequence": True,
            "symmetric_feedback": self.feedback == "symmetric",
        }

    # -- distribution over MPI ranks -----------------------------------
    def _communicator(self):
        """MPI ``COMM_WORLD`` with ``distributed="mpi"`` on several ranks, else ``None``."""
        if self.distributed != "mpi":
            return None
        from synaplast.distributed.eprop_mpi import world

        comm = world()
        return comm if comm.Get_size() > 1 else None

    def _seed(self, comm) -> int:
        # every rank draws (so RandomState instances advance alike), rank 0's wins
        seed = seed_from(self.random_state)
        return seed if comm is None else comm.bcast(seed)

    def _partition(self, net, comm, *arrays):
        """This rank's block of ``net``, after checking all ranks hold the same data."""
        from synaplast.distributed.eprop_mpi import Partition

        part = Partition(net, comm)
        part.check_same(net.state_bytes(), *arrays)
        return part

    def _init_network(self, n_in: int, n_out: int):
        cfg = self._config(n_in, n_out)
        seed = self._seed(self._communicator())
        connectivity = {
            "p_in": float(self.p_in),
            "p_rec": float(self.p_rec),
            "input_scale": float(self.input_scale),
            "recurrent_scale": float(self.rec_scale),
            "dale": None if self.dale is None else float(self.dale),
            "symmetric_init": self.feedback == "symmetric",
        }
        self._cfg = cfg
        self._net = _core.EPropNetwork(cfg, connectivity, seed)
        self._w_init = (self._net.synapses().weights.copy(), self._net.w_out().copy())
        self.loss_curve_ = []
        self.n_iter_ = 0

    def _train(self, x, target, mask, epochs: int):
        n = x.shape[0]
        bs = int(self.batch_size)
        comm = self._communicator()
        rng = np.random.RandomState(self._seed(comm) % (2**32))
        # Train a copy and a new loss list, installed at the end: a failed or
        # interrupted (Ctrl-C) call leaves the fitted network as it was
        # (``unchanged_on_error`` restores the attributes, not the objects).
        net = self._net.copy()
        # Over MPI this rank trains its block; the blocks are gathered into
        # ``net`` at the end, on every rank.
        runner = net if comm is None else self._partition(net, comm, x, target, mask)
        losses = list(self.loss_curve_)
        show = bool(self.verbose) and (comm is None or comm.Get_rank() == 0)
        with Progress(epochs, desc=type(self).__name__, enabled=show) as bar:
            for _ in range(epochs):
                order = rng.permutation(n)
                out = runner.run(
                    x[order], target[order], mask[order], {"learn": True, "batch_size": bs}
                )
                losses.append(float(np.mean(out["loss"])))
                bar.update(1, postfix=f"loss {losses[-1]:.4g}")
        if comm is not None:
            runner.absorb_into(net)
        self._net = net
        # Over MPI this rank's trained block (the absorbed weights of its
        # neurons) stays for predictions; it is never pickled.
        self._part = None if comm is None else runner
        self.loss_curve_ = losses
        self.n_iter_ = getattr(self, "n_iter_", 0) + epochs
        self._update_reports()

    def _simulate(self, x, **record) -> dict:
        """Run without learning (membranes reset per sequence), recording as asked."""
        n_out = self._cfg["n_out"]
        tgt = np.zeros((x.shape[0], x.shape[1], n_out), dtype=np.float32)
        mask = np.zeros((x.shape[0], x.shape[1]), dtype=np.float32)
        opts = {"learn": False, **record}
        comm = self._communicator()
        if comm is None:
            return self._net.run(x, tgt, mask, opts)
        part = getattr(self, "_part", None)
        if part is None or part.comm is not comm:
            # unpickled (or another communicator): check every rank holds this model
            part = self._part = self._partition(self._net, comm, x)
        else:
            part.check_same(x)
        try:
            out = part.run(x, tgt, mask, opts)
        except BaseException:
            self._part = None  # a run stopped mid-sequence: rebuild the block next time
            raise
        part.absorb_counts_into(self._net)  # its counts, as one process's run adds them
        return out

    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("_part", None)  # this rank's block and communicator stay here
        return state

    def _readout(self, x) -> np.ndarray:
        return self._simulate(x, record_y=True)["y"]

    def record_spikes(self, X) -> np.ndarray:
        """Spikes of the recurrent neurons while the network runs on ``X`` (no learning).

        The same simulation as :meth:`predict`, so the raster is what the
        readouts integrate: ``y[t] = κ·y[t−1] + W_outᵀ z[t−1]`` with
        ``κ = exp(−dt/τ_out)``.

        Parameters
        ----------
        X : array-like
            Input spikes in any form :meth:`fit` accepts.

        Returns
        -------
        ndarray of uint8, shape (n_samples, n_steps, n_rec)
            ``1`` where a recurrent neuron spiked in a step.
        """
        check_is_fitted(self, "_net")
        x = self._spikes(X, False)
        return np.asarray(self._simulate(x, record_raster=True)["raster"], dtype=np.uint8)

    def _update_reports(self):
        (w0, a0), (w1, a1) = self._net.counters()
        w = self._net.synapses().weights
        wo = self._net.w_out()
        iw, iwo = self._w_init
        changed = int(np.count_nonzero(w != iw) + np.count_nonzero(wo != iwo))
        minabs = float(
            np.abs(w.astype(np.float64) - iw).sum() + np.abs(wo.astype(np.float64) - iwo).sum()
        )
        stats = dict(self._net.stats())
        mem = dict(self._net.memory())
        n_syn = int(mem["n_synapses"] + wo.size)
        self.energy_ = EnergyReport(
            writes=int(w0 + w1),
            abs_change=float(a0 + a1),
            min_writes=changed,
            min_abs_change=minabs,
            ops_per_prediction=float(stats["events"]) / max(stats["steps"], 1) * self.n_steps_,
            prediction_ops={"add": float(stats["events"]) / max(stats["steps"], 1) * self.n_steps_},
            details={
                "synaptic_events": int(stats["events"]),
                "trace_updates": int(stats["trace_updates"]),
                "optimizer_calls": int(stats["optimizer_calls"]),
                "recurrent_spikes": int(stats["spikes"]),
                "simulated_steps": int(stats["steps"]),
            },
        )
        n_in, n_rec = self._cfg["n_in"], self._cfg["n_rec"]
        self.capacity_ = CapacityReport(
            n_synapses=n_syn,
            n_potential=int((n_in + n_rec) * n_rec + n_rec * self._cfg["n_out"]),
            memory_bytes=int(mem["total_bytes"]),
            details={
                "synapse_store_bytes": int(mem["synapse_bytes"]),
                "archive_bytes": int(mem["archive_bytes"]),
                "peak_archive_steps": int(stats["peak_archive_steps"]),
                "bytes_per_synapse_with_state": mem["synapse_bytes"] / max(mem["n_synapses"], 1),
            },
        )

    # -- state -----------------------------------------------------------
    @property
    def weights_(self):
        """``(indptr, indices, weights)`` of input+recurrent synapses (rows = presynaptic) and readout weights."""
        check_is_fitted(self, "_net")
        syn = self._net.synapses()
        return (syn.indptr, syn.indices.astype(np.int64), syn.weights), self._net.w_out()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.target_tags.required = True
        return tags

    def _require_y(self, y):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )


class EPropRegressor(RegressorMixin, _EPropBase):
    __doc__ = (
        """Recurrent spiking network trained with e-prop to map spike trains to signals.

    Inputs are spike trains ``(n_samples, n_steps, n_inputs)`` of 0/1, lists
    of spike-step arrays, or 2-d arrays that are latency-coded. ``y`` is
    either ``(n_samples,)`` / ``(n_samples, n_outputs)`` — one value per
    sample, learned over the last ``window`` of the sequence and predicted
    as the mean readout there — or ``(n_samples, n_steps, n_outputs)`` for
    full target trajectories (:meth:`predict_sequence` returns those). The
    loss is the squared error of the readouts. The model and its learning
    rule are described in the user guide (e-prop).
"""
        + _PARAMETERS
        + """
    Attributes
    ----------"""
        + _ATTRIBUTES
        + """
    See Also
    --------
    EPropClassifier : The same network with a cross-entropy readout.

    Examples
    --------
    >>> import numpy as np
    >>> from synaplast import EPropRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = (rng.random((20, 30, 5)) < 0.1).astype(np.uint8)
    >>> y = X.sum(axis=(1, 2)) / 10.0
    >>> reg = EPropRegressor(n_rec=20, max_iter=3, random_state=0).fit(X, y)
    >>> reg.predict(X).shape
    (20,)
    """
    )

    _loss = "mse"

    def _targets(self, y, n, t, fitting):
        self._require_y(y)
        arr = np.asarray(y, dtype=np.float64)
        if arr.ndim == 0 or arr.shape[0] != n:
            raise ValueError(f"y must have {n} samples, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError("y contains NaN or infinity")
        if arr.ndim == 3:
            if arr.shape[1] != t:
                raise ValueError(f"y has {arr.shape[1]} steps, X has {t}")
            tgt = arr
            mask = np.ones((n, t))
            seq = True
        elif arr.ndim in (1, 2):
            k = 1 if arr.ndim == 1 else arr.shape[1]
            tgt = np.repeat(arr.reshape(n, 1, k), t, axis=1)
            mask = self._window_mask(n, t)
            seq = False
        else:
            raise ValueError(f"y must be 1-, 2- or 3-d, got shape {arr.shape}")
        if fitting:
            self._y_ndim = arr.ndim
            self._y_mean = tgt.mean(axis=(0, 1)) if not seq else np.zeros(tgt.shape[2])
        elif tgt.shape[2] != self._cfg["n_out"]:
            raise ValueError("y has a different number of outputs than in fit")
        tgt = tgt - self._y_mean
        return np.ascontiguousarray(tgt, dtype=np.float32), np.ascontiguousarray(
            mask, dtype=np.float32
        )

    @unchanged_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train for ``max_iter`` epochs from a fresh network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_inputs), list or (n_samples, n_features)
            0/1 spike trains, per-sample lists of spike-step arrays, or
            features that are latency-coded.
        y : array-like of shape (n_samples,), (n_samples, n_outputs) or (n_samples, n_steps, n_outputs)
            Targets per sample, or target trajectories.

        Returns
        -------
        self : EPropRegressor
            The fitted estimator.
        """
        x = self._spikes(X, True)
        tgt, mask = self._targets(y, x.shape[0], x.shape[1], True)
        self._init_network(x.shape[2], tgt.shape[2])
        self._train(x, tgt, mask, int(self.max_iter))
        return self

    @unchanged_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y):
        """One epoch over ``(X, y)``, continuing from the current weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_inputs), list or (n_samples, n_features)
            0/1 spike trains, per-sample lists of spike-step arrays, or
            features that are latency-coded.
        y : array-like of shape (n_samples,), (n_samples, n_outputs) or (n_samples, n_steps, n_outputs)
            Targets, of the same kind as in the first call.

        Returns
        -------
        self : EPropRegressor
            The updated estimator.
        """
        if not hasattr(self, "_net"):
            return self._first_partial(X, y)
        x = self._spikes(X, False)
        tgt, mask = self._targets(y, x.shape[0], x.shape[1], False)
        self._train(x, tgt, mask, 1)
        return self

    def _first_partial(self, X, y):
        x = self._spikes(X, True)
        tgt, mask = self._targets(y, x.shape[0], x.shape[1], True)
        self._init_network(x.shape[2], tgt.shape[2])
        self._train(x, tgt, mask, 1)
        return self

    def predict_sequence(self, X) -> np.ndarray:
        """Readout trajectories.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_inputs), list or (n_samples, n_features)
            0/1 spike trains, per-sample lists of spike-step arrays, or
            features that are latency-coded.

        Returns
        -------
        y : ndarray of shape (n_samples, n_steps, n_outputs)
            The readouts at every step.
        """
        check_is_fitted(self, "_net")
        x = self._spikes(X, False)
        return self._readout(x).astype(np.float64) + self._y_mean

    def predict(self, X):
        """Mean readout over the window (or trajectories for 3-d targets).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_inputs), list or (n_samples, n_features)
            0/1 spike trains, per-sample lists of spike-step arrays, or
            features that are latency-coded.

        Returns
        -------
        y : ndarray of shape (n_samples,), (n_samples, n_outputs) or (n_samples, n_steps, n_outputs)
            Predictions shaped like the targets of ``fit``.
        """
        ys = self.predict_sequence(X)
        if self._y_ndim == 3:
            return ys
        m = self._window_mask(ys.shape[0], ys.shape[1]) > 0
        p = (ys * m[:, :, None]).sum(axis=1) / np.maximum(m.sum(axis=1), 1)[:, None]
        return p[:, 0] if self._y_ndim == 1 else p

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination ``R²`` of the predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_inputs), list or (n_samples, n_features)
            0/1 spike trains, per-sample lists of spike-step arrays, or
            features that are latency-coded.
        y : array-like
            True targets, shaped as in ``fit``; 3-d trajectories are scored
            over all steps.
        sample_weight : array-like of shape (n_samples,), optional
            Weights (per-sample targets only).

        Returns
        -------
        score : float
            ``R²``.
        """
        if np.asarray(y).ndim == 3:
            p = self.predict(X)
            from sklearn.metrics import r2_score

            return r2_score(np.asarray(y).reshape(-1, p.shape[2]), p.reshape(-1, p.shape[2]))
        return super().score(X, y, sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class EPropClassifier(ClassifierMixin, _EPropBase):
    __doc__ = (
        """Recurrent spiking network trained with e-prop to classify spike trains.

    The readouts learn the one-hot class by cross-entropy on their softmax
    over the last ``window`` fraction of each sequence; the predicted class
    is the largest mean readout there. Inputs as for :class:`EPropRegressor`.
"""
        + _PARAMETERS
        + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels."""
        + _ATTRIBUTES
        + """
    See Also
    --------
    EPropRegressor : The same network with a squared-error readout.

    Examples
    --------
    >>> import numpy as np
    >>> from synaplast import EPropClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.arange(40) % 2
    >>> rates = np.where(y[:, None, None] == 1, [0.3, 0.02], [0.02, 0.3])
    >>> X = (rng.random((40, 30, 2)) < rates).astype(np.uint8)
    >>> clf = EPropClassifier(n_rec=20, max_iter=5, random_state=0).fit(X, y)
    >>> clf.predict(X[:4]).shape
    (4,)
    """
    )

    _loss = "cross_entropy"

    def _encode(self, y, n, t):
        self._require_y(y)
        y = column_or_1d(y, warn=True)
        if y.shape[0] != n:
            raise ValueError(f"y must be 1-d with {n} labels, got shape {y.shape}")
        idx = encode_labels(self.classes_, y)
        tgt = np.zeros((n, t, len(self.classes_)), dtype=np.float32)
        tgt[np.arange(n), :, idx] = 1.0
        return tgt

    @unchanged_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train for ``max_iter`` epochs from a fresh network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_inputs), list or (n_samples, n_features)
            0/1 spike trains, per-sample lists of spike-step arrays, or
            features that are latency-coded.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : EPropClassifier
            The fitted estimator.
        """
        self._require_y(y)
        x = self._spikes(X, True)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(
                f"EPropClassifier needs at least 2 classes; got 1 class ({classes[0]!r})"
            )
        self.classes_ = classes
        tgt = self._encode(y, x.shape[0], x.shape[1])
        self._init_network(x.shape[2], len(self.classes_))
        self._train(x, tgt, self._window_mask(x.shape[0], x.shape[1]), int(self.max_iter))
        return self

    @unchanged_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """One epoch over ``(X, y)``; ``classes`` is required on the first call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_inputs), list or (n_samples, n_features)
            0/1 spike trains, per-sample lists of spike-step arrays, or
            features that are latency-coded.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like, optional
            All classes (first call only).

        Returns
        -------
        self : EPropClassifier
            The updated estimator.
        """
        first = not hasattr(self, "_net")
        self.classes_ = partial_fit_classes(self, classes, first)
        if first:
            x = self._spikes(X, True)
            tgt = self._encode(y, x.shape[0], x.shape[1])
            self._init_network(x.shape[2], len(self.classes_))
        else:
            x = self._spikes(X, False)
            tgt = self._encode(y, x.shape[0], x.shape[1])
        self._train(x, tgt, self._window_mask(x.shape[0], x.shape[1]), 1)
        return self

    def _scores(self, X):
        check_is_fitted(self, "_net")
        x = self._spikes(X, False)
        ys = self._readout(x).astype(np.float64)
        m = self._window_mask(x.shape[0], x.shape[1]) > 0
        return (ys * m[:, :, None]).sum(axis=1) / np.maximum(m.sum(axis=1, keepdims=True), 1)

    def decision_function(self, X):
        """Mean readouts over the window.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_inputs), list or (n_samples, n_features)
            0/1 spike trains, per-sample lists of spike-step arrays, or
            features that are latency-coded.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes) or (n_samples,)
            For two classes their difference (positive: ``classes_[1]``).
        """
        d = self._scores(X)
        return d[:, 1] - d[:, 0] if d.shape[1] == 2 else d

    def predict_proba(self, X):
        """Softmax of the mean readouts over the window.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_inputs), list or (n_samples, n_features)
            0/1 spike trains, per-sample lists of spike-step arrays, or
            features that are latency-coded.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        d = self._scores(X)
        e = np.exp(d - d.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X):
        """The class with the largest mean readout over the window.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_inputs), list or (n_samples, n_features)
            0/1 spike trains, per-sample lists of spike-step arrays, or
            features that are latency-coded.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels.
        """
        scores = self._scores(X)
        return self.classes_[np.argmax(scores, axis=1)]
