"""Screen 2: the structural-plasticity classifier, epoch by epoch.

Live during training: receptive fields of hidden units as an image grid,
the non-silent synapse count over the epochs (growth and pruning), the
weight histogram with its lognormal fit, test accuracy and the synaptic
writes so far. Training goes through ``partial_fit`` (one epoch per step).
"""

from __future__ import annotations

import numpy as np
import panel as pn
import param
from bokeh.palettes import RdBu11, Viridis256

from synaplast import StructuralPlasticityClassifier
from synaplast.analysis import lognormal_fit
from synaplast.explore.params import ModelParams
from synaplast.explore.screens.base import DATASETS, TrainingScreen, default_dataset, load_data
from synaplast.explore.widgets import (
    COLORS,
    as_image,
    image_grid,
    line_figure,
    show_image,
    source,
    tile_images,
)

__all__ = ["StructuralParams", "StructuralScreen", "StructuralSession"]

# The screen opens with the estimator's own defaults.
_DEFAULTS = StructuralPlasticityClassifier().get_params()


def _default(name, fallback):
    value = _DEFAULTS.get(name, fallback)
    return fallback if value is None or isinstance(value, str) else value


class StructuralParams(ModelParams):
    model = "structural"

    dataset = param.Selector(default=default_dataset(), objects=list(DATASETS), doc="training data")
    max_train = param.Integer(
        20000, bounds=(100, 60000), label="training images", doc="training images (random subset)"
    )
    n_hidden = param.Integer(
        _default("n_hidden", 0),
        bounds=(0, 1000),
        label="hidden units (0: default)",
        doc="hidden units (0: the estimator's default)",
    )
    max_synapses = param.Integer(
        _default("max_synapses", 0),
        bounds=(0, 200000),
        label="synapse budget (0: default)",
        doc="synapse budget of the hidden layer (0: the estimator's default)",
    )
    learning_rate = param.Number(
        _default("learning_rate", 0.05), bounds=(0.0, 1.0), doc="Hebbian rate"
    )
    competition_rate = param.Number(
        _default("competition_rate", 0.5), bounds=(0.0, 20.0), doc="rate of the competitive biases"
    )
    homeostasis_rate = param.Number(
        _default("homeostasis_rate", 0.05), bounds=(0.0, 1.0), doc="rate of the thresholds"
    )
    epochs = param.Integer(_default("max_iter", 10), bounds=(1, 100), doc="epochs of the run")
    readout_epochs = param.Integer(
        5, bounds=(1, 200), label="readout epochs per step", doc="readout epochs after each epoch"
    )

    def estimator_params(self) -> dict:
        """The one place that maps this screen's widgets to the estimator."""
        out = {
            "learning_rate": self.learning_rate,
            "competition_rate": self.competition_rate,
            "homeostasis_rate": self.homeostasis_rate,
            "max_iter": self.epochs,
            "readout_max_iter": self.readout_epochs,
            "random_state": self.seed,
        }
        if self.n_hidden:
            out["n_hidden"] = self.n_hidden
        if self.max_synapses:
            out["max_synapses"] = self.max_synapses
        return out


def _lognormal_pdf(x, mu, sigma):
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        pdf = np.exp(-((np.log(x) - mu) ** 2) / (2 * sigma**2)) / (x * sigma * np.sqrt(2 * np.pi))
    return np.where(x > 0, pdf, 0.0)


class StructuralSession:
    """One run: ``partial_fit`` epoch by epoch, test accuracy after each."""

    n_fields = 36

    def __init__(self, p: StructuralParams):
        self.p = p
        self.X, self.y, self.X_te, self.y_te, self.shape = load_data(p.dataset, p.max_train, p.seed)
        self.classes = np.unique(self.y)
        est = StructuralPlasticityClassifier()
        wanted = p.estimator_params()
        valid = est.get_params()
        self.ignored = sorted(k for k in wanted if k not in valid)
        est.set_params(**{k: v for k, v in wanted.items() if k in valid})
        self.est = est
        self.epoch = 0
        self.history = {"epoch": [], "accuracy": [], "writes": []}

    @property
    def done(self) -> bool:
        return self.epoch >= self.p.epochs

    @property
    def progress(self):
        return self.epoch, self.p.epochs

    def step(self) -> None:
        self.est.partial_fit(self.X, self.y, classes=self.classes)
        self.epoch += 1
        self.history["epoch"].append(self.epoch)
        self.history["accuracy"].append(float(self.est.score(self.X_te, self.y_te)))
        self.history["writes"].append(int(self.est.energy_.writes))

    def metrics(self) -> dict:
        if not self.epoch:
            return {}
        cap = self.est.capacity_
        return {
            "epochs": self.epoch,
            "accuracy": self.history["accuracy"][-1],
            "synapses": int(cap.n_synapses),
            "density": float(cap.density),
            "writes": self.history["writes"][-1],
            "n_train": int(len(self.X)),
        }

    def curves(self) -> dict:
        h = self.history
        out = {"accuracy": (h["epoch"], h["accuracy"]), "writes": (h["epoch"], h["writes"])}
        if self.epoch:
            hist = self.est.synapse_history_
            out["synapses"] = (list(range(len(hist))), list(hist))
        return out

    def _fields(self, dense):
        """Receptive fields in input space (ON minus OFF weights) as images."""
        pix = int(np.prod(self.shape))
        rows = dense[: self.n_fields]
        signed = bool((rows < 0).any())
        if dense.shape[1] != pix:
            return [as_image(r) for r in rows], signed
        return [f.reshape(self.shape) for f in rows], signed

    def snapshot(self) -> dict:
        snap = {"history": {k: list(v) for k, v in self.history.items()}, "ignored": self.ignored}
        if not self.epoch:
            return snap
        syn = self.est.synapses_
        dense = self.est.receptive_fields_
        images, signed = self._fields(dense)
        scale = np.abs(dense[: self.n_fields]).max(axis=1, keepdims=True)
        scale = np.where(scale > 0, scale, 1.0)
        norm = [im / s for im, s in zip(images, scale.ravel(), strict=False)]
        cols = int(np.ceil(np.sqrt(len(norm))))
        snap["fields"] = tile_images(norm, cols)
        snap["signed"] = signed
        w = np.asarray(syn.weights, dtype=np.float64)
        w = w[w > 0]
        if w.size:
            counts, edges = np.histogram(w, bins=40)
            width = edges[1] - edges[0]
            snap["hist"] = {
                "left": edges[:-1],
                "right": edges[1:],
                "density": counts / (w.size * width),
            }
            fit = lognormal_fit(w)
            xs = np.linspace(edges[0], edges[-1], 200)[1:]
            snap["fit"] = {"x": xs, "pdf": _lognormal_pdf(xs, fit["mu"], fit["sigma"])}
            snap["fit_stats"] = fit
        snap["synapses"] = list(self.est.synapse_history_)
        snap["report"] = str(self.est.energy_)
        return snap


class StructuralScreen(TrainingScreen):
    title = "Structural-plasticity classifier"
    Params = StructuralParams
    Session = StructuralSession

    def make_plots(self) -> None:
        self.fields_fig, self.fields_src = image_grid(
            "Receptive fields (first 36 hidden units)", "structural-fields", Viridis256, 0, 1
        )
        self.syn_fig = line_figure("Non-silent synapses", "epoch", "synapses")
        self.syn_src = source("structural-synapses", x=[], y=[])
        self.syn_fig.line("x", "y", source=self.syn_src, line_width=2, color=COLORS[0])
        self.syn_fig.scatter("x", "y", source=self.syn_src, size=5, color=COLORS[0])
        self.hist_fig = line_figure("Weights and lognormal fit", "w", "density")
        self.hist_src = source("structural-hist", left=[], right=[], density=[])
        self.fit_src = source("structural-fit", x=[], pdf=[])
        self.hist_fig.quad(
            left="left",
            right="right",
            top="density",
            bottom=0,
            source=self.hist_src,
            fill_alpha=0.5,
            color=COLORS[0],
        )
        self.hist_fig.line("x", "pdf", source=self.fit_src, color=COLORS[1], line_width=2)
        self.acc_fig = line_figure("Test accuracy and synaptic writes", "epoch", "accuracy")
        self.acc_src = source("structural-accuracy", epoch=[], accuracy=[], writes=[])
        self.acc_fig.line("epoch", "accuracy", source=self.acc_src, line_width=2, color=COLORS[2])
        self.acc_fig.scatter("epoch", "accuracy", source=self.acc_src, size=5, color=COLORS[2])
        self.report = pn.pane.Str("", styles={"font-size": "11px"})
        self.note = pn.pane.Markdown("")

    def plot_panel(self):
        return pn.Column(
            pn.Row(
                pn.pane.Bokeh(self.fields_fig),
                pn.pane.Bokeh(self.syn_fig),
            ),
            pn.Row(pn.pane.Bokeh(self.hist_fig), pn.pane.Bokeh(self.acc_fig)),
            self.note,
            self.report,
        )

    def clear_plots(self) -> None:
        show_image(self.fields_fig, self.fields_src, np.full((1, 1), np.nan))
        self.syn_src.data = {"x": [], "y": []}
        self.hist_src.data = {"left": [], "right": [], "density": []}
        self.fit_src.data = {"x": [], "pdf": []}
        self.acc_src.data = {"epoch": [], "accuracy": [], "writes": []}
        self.report.object = ""
        self.note.object = ""

    def update_plots(self, snap: dict) -> None:
        self.acc_src.data = snap["history"]
        if "fields" in snap:
            mapper = self.fields_fig.renderers[0].glyph.color_mapper
            if snap["signed"]:
                mapper.palette, mapper.low = list(RdBu11), -1
            else:
                mapper.palette, mapper.low = list(Viridis256), 0
            show_image(self.fields_fig, self.fields_src, snap["fields"])
        if "synapses" in snap:
            hist = snap["synapses"]
            self.syn_src.data = {"x": list(range(len(hist))), "y": hist}
        if "hist" in snap:
            self.hist_src.data = snap["hist"]
            self.fit_src.data = snap["fit"]
            f = snap["fit_stats"]
            self.hist_fig.title.text = (
                f"Weights, lognormal fit μ={f['mu']:.2f} σ={f['sigma']:.2f} "
                f"(KS {f['ks_lognormal']:.2f}; normal {f['ks_normal']:.2f})"
            )
        h = snap["history"]
        if h["epoch"]:
            self.acc_fig.title.text = (
                f"Test accuracy {h['accuracy'][-1]:.3f}; writes so far {h['writes'][-1]:,}"
            )
        note = ""
        if snap.get("ignored"):
            note = f"⚠ not parameters of this estimator, ignored: {', '.join(snap['ignored'])}"
        self.note.object = note
        self.report.object = snap.get("report", "")
