"""Screen 4: e-prop, a recurrent spiking network learning a signal.

The task of NEST's e-prop sine-wave example: Poisson input spikes, a target
that is a sum of four sines, one leaky readout. Live: the spike raster of
the recurrent neurons (``record_spikes``), the readout against its target
and the loss curve. Training goes through ``partial_fit`` (one e-prop
iteration per call, a few per step).
"""

from __future__ import annotations

import numpy as np
import panel as pn
import param

from synaplast import EPropRegressor
from synaplast.explore.params import ModelParams
from synaplast.explore.screens.base import TrainingScreen
from synaplast.explore.widgets import COLORS, add_lines, line_figure, source

__all__ = ["EPropParams", "EPropScreen", "EPropSession", "sine_task"]

_DEFAULTS = EPropRegressor().get_params()
_PERIODS = (1000, 500, 333, 200)  # steps, as in NEST's example


def sine_task(n_in: int, n_steps: int, rate: float, seed: int):
    """Poisson input spikes ``(1, n_steps, n_in)`` and a target ``(1, n_steps, 1)``
    (a sum of four sines of random amplitude and phase, scaled to [-1, 1])."""
    rng = np.random.default_rng(seed)
    x = (rng.random((1, n_steps, n_in)) < rate).astype(np.uint8)
    t = np.arange(n_steps)
    amp = rng.uniform(0.5, 2.0, 4)
    phase = rng.uniform(0.0, 2 * np.pi, 4)
    y = sum(
        a * np.sin(2 * np.pi * t / T + ph) for a, T, ph in zip(amp, _PERIODS, phase, strict=True)
    )
    y = y - y[0]
    y = y / max(np.abs(y).max(), 1e-9)
    return x, y.reshape(1, n_steps, 1)


class EPropParams(ModelParams):
    model = "eprop"

    n_rec = param.Integer(
        _DEFAULTS.get("n_rec", 100),
        bounds=(10, 2000),
        label="recurrent neurons",
        doc="recurrent neurons",
    )
    neuron = param.Selector(default=_DEFAULTS.get("neuron", "lif"), objects=["lif", "alif"])
    p_in = param.Number(
        _DEFAULTS.get("p_in", 1.0), bounds=(0.01, 1.0), doc="input→recurrent connection probability"
    )
    p_rec = param.Number(
        _DEFAULTS.get("p_rec", 1.0),
        bounds=(0.0, 1.0),
        doc="recurrent→recurrent connection probability",
    )
    learning_rate = param.Number(
        _DEFAULTS.get("learning_rate", 1e-2), bounds=(1e-5, 0.1), doc="optimizer step size"
    )
    n_in = param.Integer(100, bounds=(10, 1000), label="input neurons", doc="Poisson input neurons")
    n_steps = param.Integer(
        1000, bounds=(100, 5000), label="sequence steps", doc="steps (ms) of the sequence"
    )
    input_rate = param.Number(0.05, bounds=(0.005, 0.5), doc="input spike probability per step")
    iterations = param.Integer(200, bounds=(5, 5000), doc="e-prop iterations of the run")

    def estimator_params(self) -> dict:
        """The one place that maps this screen's widgets to the estimator."""
        return {
            "n_rec": self.n_rec,
            "neuron": self.neuron,
            "p_in": self.p_in,
            "p_rec": self.p_rec,
            "learning_rate": self.learning_rate,
            "batch_size": 1,
            "random_state": self.seed,
        }


class EPropSession:
    """``partial_fit`` iterations on the task; raster and readout after each step."""

    per_step = 5  # iterations between snapshots
    raster_neurons = 100

    def __init__(self, p: EPropParams):
        self.p = p
        self.X, self.Y = sine_task(p.n_in, p.n_steps, p.input_rate, p.seed)
        self.est = EPropRegressor(**p.estimator_params())
        self.iteration = 0

    @property
    def done(self) -> bool:
        return self.iteration >= self.p.iterations

    @property
    def progress(self):
        return self.iteration, self.p.iterations

    def step(self) -> None:
        for _ in range(min(self.per_step, self.p.iterations - self.iteration)):
            self.est.partial_fit(self.X, self.Y)
            self.iteration += 1

    def metrics(self) -> dict:
        if not self.iteration:
            return {}
        loss = self.est.loss_curve_
        pred = self.est.predict_sequence(self.X).ravel()
        return {
            "iterations": self.iteration,
            "loss": loss[-1],
            "loss_ratio": loss[-1] / loss[0] if loss[0] else None,
            "correlation": float(np.corrcoef(pred, self.Y.ravel())[0, 1]),
            "writes": int(self.est.energy_.writes),
        }

    def curves(self) -> dict:
        loss = list(getattr(self.est, "loss_curve_", []))
        return {"loss": (list(range(1, len(loss) + 1)), loss)}

    def snapshot(self) -> dict:
        t = np.arange(self.p.n_steps)
        snap = {"target": {"t": t, "target": self.Y.ravel(), "readout": np.full(t.size, np.nan)}}
        if not self.iteration:
            snap["raster"] = {"t": [], "neuron": []}
            snap["loss"] = {"iteration": [], "loss": []}
            return snap
        raster = self.est.record_spikes(self.X)[0][:, : self.raster_neurons]
        steps, neurons = np.nonzero(raster)
        snap["raster"] = {"t": steps, "neuron": neurons}
        snap["rate_hz"] = float(raster.mean() * 1000.0 / self.est.dt)
        snap["target"]["readout"] = self.est.predict_sequence(self.X).ravel()
        loss = self.est.loss_curve_
        snap["loss"] = {"iteration": np.arange(1, len(loss) + 1), "loss": np.asarray(loss)}
        return snap


class EPropScreen(TrainingScreen):
    title = "e-prop (recurrent spiking network)"
    Params = EPropParams
    Session = EPropSession
    overrides = {"learning_rate": pn.widgets.FloatInput}

    def make_plots(self) -> None:
        self.raster_fig = line_figure(
            "Spike raster (first 100 recurrent neurons)", "step", "neuron"
        )
        self.raster_src = source("eprop-raster", t=[], neuron=[])
        self.raster_fig.scatter(
            "t",
            "neuron",
            source=self.raster_src,
            marker="dash",
            size=3,
            angle=np.pi / 2,
            color="black",
        )
        self.out_fig = line_figure("Readout against target", "step", "signal")
        self.out_src = source("eprop-readout", t=[], target=[], readout=[])
        add_lines(
            self.out_fig,
            self.out_src,
            "t",
            [("target", COLORS[0], "target"), ("readout", COLORS[1], "readout")],
        )
        self.loss_fig = line_figure("Loss", "iteration", "loss", y_type="log")
        self.loss_src = source("eprop-loss", iteration=[], loss=[])
        self.loss_fig.line("iteration", "loss", source=self.loss_src, color=COLORS[2], line_width=2)

    def plot_panel(self):
        return pn.Column(
            pn.Row(pn.pane.Bokeh(self.raster_fig), pn.pane.Bokeh(self.out_fig)),
            pn.Row(pn.pane.Bokeh(self.loss_fig)),
        )

    def clear_plots(self) -> None:
        self.raster_src.data = {"t": [], "neuron": []}
        self.out_src.data = {"t": [], "target": [], "readout": []}
        self.loss_src.data = {"iteration": [], "loss": []}

    def update_plots(self, snap: dict) -> None:
        self.raster_src.data = snap["raster"]
        self.out_src.data = snap["target"]
        self.loss_src.data = snap["loss"]
        if "rate_hz" in snap:
            self.raster_fig.title.text = (
                f"Spike raster (first 100 recurrent neurons, mean rate {snap['rate_hz']:.1f} Hz)"
            )
        if len(snap["loss"]["loss"]):
            self.loss_fig.title.text = f"Loss {snap['loss']['loss'][-1]:.4g}"
