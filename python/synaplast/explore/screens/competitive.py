"""Screen 3: competitive plasticity, the energy of learning, beside plain backprop.

Two networks learn from the same samples in the same order: one with the
energy-saving restrictions of the sidebar (update fraction, path size,
synaptic caching), one by plain online backprop. Live: synaptic writes M0
and Σ|Δw| M1 against their minima M_min, and test accuracy, against the
samples seen. Training goes through ``partial_fit`` on successive chunks of
a shuffled training set.
"""

from __future__ import annotations

import numpy as np
import panel as pn
import param

from synaplast import CompetitivePlasticityClassifier, frugal_preprocess
from synaplast.explore.params import ModelParams
from synaplast.explore.screens.base import DATASETS, TrainingScreen, default_dataset, load_data
from synaplast.explore.widgets import COLORS, add_lines, line_figure, source

__all__ = ["CompetitiveParams", "CompetitiveScreen", "CompetitiveSession"]

_DEFAULTS = CompetitivePlasticityClassifier().get_params()
_NETS = (("frugal", COLORS[0], "energy-saving"), ("backprop", COLORS[1], "plain backprop"))


class CompetitiveParams(ModelParams):
    model = "competitive"

    dataset = param.Selector(
        default="mnist" if default_dataset() != "digits" else "digits",
        objects=list(DATASETS),
        doc="training data",
    )
    max_train = param.Integer(
        60000, bounds=(100, 60000), label="training images", doc="training images (random subset)"
    )
    n_hidden = param.Integer(100, bounds=(10, 1000), label="hidden units", doc="hidden units")
    learning_rate = param.Number(
        _DEFAULTS.get("learning_rate", 0.01), bounds=(1e-4, 0.5), doc="SGD rate η"
    )
    update_fraction = param.Number(
        0.1, bounds=(0.001, 1.0), doc="fraction of the largest |Δw| written per layer and sample"
    )
    plastic_units = param.Integer(
        0,
        bounds=(0, 1000),
        label="path size (0: all units)",
        doc="path size: plastic hidden units (0: all)",
    )
    caching = param.Boolean(False, doc="synaptic caching (transient + consolidated weights)")
    consolidation_threshold = param.Number(
        _DEFAULTS.get("consolidation_threshold", 0.1),
        bounds=(0.0, 1.0),
        doc="caching: a neuron consolidates when a transient |s| exceeds it",
    )
    chunk = param.Integer(
        2000, bounds=(100, 20000), label="samples per step", doc="samples between evaluations"
    )
    epochs = param.Number(1.0, bounds=(0.05, 5.0), doc="passes over the training set")

    def estimator_params(self) -> dict:
        """The one place that maps this screen's widgets to the energy-saving network."""
        return dict(
            self.backprop_params(),
            update_fraction=self.update_fraction,
            plastic_units=self.plastic_units or None,
            caching=self.caching,
            consolidation_threshold=self.consolidation_threshold,
        )

    def backprop_params(self) -> dict:
        """The plain-backprop network it is compared with (same architecture and data)."""
        return {
            "hidden_layer_sizes": (self.n_hidden,),
            "learning_rate": self.learning_rate,
            "sampling": "shuffle",
            "random_state": self.seed,
        }


class CompetitiveSession:
    """Both networks, chunk by chunk; test accuracy and energy after each chunk."""

    def __init__(self, p: CompetitiveParams):
        self.p = p
        X, self.y, X_te, self.y_te, _ = load_data(p.dataset, p.max_train, p.seed)
        self.X, self.X_te = frugal_preprocess(X, X_te, random_state=p.seed)
        self.classes = np.unique(self.y)
        self.nets = {
            "frugal": CompetitivePlasticityClassifier(**p.estimator_params()),
            "backprop": CompetitivePlasticityClassifier(**p.backprop_params()),
        }
        self.total = max(1, int(round(p.epochs * len(self.X) / p.chunk)))
        self.done_chunks = 0
        self.rng = np.random.default_rng(p.seed)
        self.order = np.zeros(0, dtype=np.int64)
        self.history = {
            f"{k}_{m}": [] for k in self.nets for m in ("accuracy", "M0", "M1", "M0_min", "M1_min")
        }
        self.history["samples"] = []

    @property
    def done(self) -> bool:
        return self.done_chunks >= self.total

    @property
    def progress(self):
        return self.done_chunks, self.total

    def _next_chunk(self) -> np.ndarray:
        while self.order.size < self.p.chunk:  # a new shuffled pass when one runs out
            self.order = np.concatenate([self.order, self.rng.permutation(len(self.X))])
        idx, self.order = self.order[: self.p.chunk], self.order[self.p.chunk :]
        return idx

    def step(self) -> None:
        idx = self._next_chunk()
        for key, net in self.nets.items():
            net.partial_fit(self.X[idx], self.y[idx], classes=self.classes)
            e = net.energy_
            h = self.history
            h[f"{key}_accuracy"].append(float(net.score(self.X_te, self.y_te)))
            h[f"{key}_M0"].append(int(e.writes))
            h[f"{key}_M1"].append(float(e.abs_change))
            h[f"{key}_M0_min"].append(int(e.min_writes))
            h[f"{key}_M1_min"].append(float(e.min_abs_change))
        self.done_chunks += 1
        self.history["samples"].append(self.done_chunks * self.p.chunk)

    def metrics(self) -> dict:
        if not self.done_chunks:
            return {}
        h = self.history
        out = {"samples": h["samples"][-1]}
        for key in self.nets:
            for m in ("accuracy", "M0", "M1", "M0_min", "M1_min"):
                out[f"{key}_{m}"] = h[f"{key}_{m}"][-1]
        out["M0_saving"] = h["backprop_M0"][-1] / max(h["frugal_M0"][-1], 1)
        return out

    def curves(self) -> dict:
        h = self.history
        return {k: (h["samples"], v) for k, v in h.items() if k != "samples"}

    def snapshot(self) -> dict:
        return {k: list(v) for k, v in self.history.items()}


class CompetitiveScreen(TrainingScreen):
    title = "Competitive plasticity (energy of learning)"
    Params = CompetitiveParams
    Session = CompetitiveSession
    overrides = {"learning_rate": pn.widgets.FloatInput}

    def make_plots(self) -> None:
        self.src = source(
            "competitive-history",
            samples=[],
            **{
                f"{k}_{m}": []
                for k, _, _ in _NETS
                for m in ("accuracy", "M0", "M1", "M0_min", "M1_min")
            },
        )
        self.figs = {}
        for metric, label in (("M0", "synaptic writes M0"), ("M1", "Σ|Δw| M1")):
            fig = line_figure(f"{label} against its minimum", "samples seen", label, y_type="log")
            lines = []
            for key, color, name in _NETS:
                lines.append((f"{key}_{metric}", color, name))
                lines.append((f"{key}_{metric}_min", color, f"{name} minimum", "dashed"))
            add_lines(fig, self.src, "samples", lines, legend="bottom_right")
            self.figs[metric] = fig
        acc = line_figure("Test accuracy", "samples seen", "accuracy")
        add_lines(
            acc,
            self.src,
            "samples",
            [(f"{k}_accuracy", c, n) for k, c, n in _NETS],
            legend="bottom_right",
        )
        self.figs["accuracy"] = acc
        self.summary = pn.pane.Markdown("")

    def plot_panel(self):
        f = self.figs
        return pn.Column(
            pn.Row(pn.pane.Bokeh(f["M0"]), pn.pane.Bokeh(f["M1"])),
            pn.Row(pn.pane.Bokeh(f["accuracy"]), self.summary),
        )

    def clear_plots(self) -> None:
        self.src.data = {k: [] for k in self.src.data}
        self.summary.object = ""

    def update_plots(self, snap: dict) -> None:
        self.src.data = snap
        if snap["samples"]:
            fr, bp = snap["frugal_M0"][-1], snap["backprop_M0"][-1]
            self.summary.object = (
                f"After **{snap['samples'][-1]:,}** samples\n\n"
                "| | energy-saving | plain backprop |\n|---|---|---|\n"
                f"| accuracy | {snap['frugal_accuracy'][-1]:.4f} | "
                f"{snap['backprop_accuracy'][-1]:.4f} |\n"
                f"| writes M0 | {fr:.3g} | {bp:.3g} |\n"
                f"| M0 / M0_min | {fr / max(snap['frugal_M0_min'][-1], 1):.3g} | "
                f"{bp / max(snap['backprop_M0_min'][-1], 1):.3g} |\n"
                f"| Σ\\|Δw\\| M1 | {snap['frugal_M1'][-1]:.4g} | {snap['backprop_M1'][-1]:.4g} |\n"
            )
