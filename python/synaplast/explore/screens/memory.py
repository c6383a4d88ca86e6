"""Screen 1: neural associative memory, re-run on every parameter change.

Stores ``M`` random patterns (exactly ``k`` of ``n`` units active) with
``partial_fit`` in a dozen chunks and, after each chunk, retrieves noisy
cues of the first stored patterns. Live: output noise ε and capacity C
against the number of stored pairs, with the one-step Willshaw theory
(binomial approximation); a stored pattern, its noisy cue and the retrieval
step by step as images; the memory load p1; the energy and capacity reports.
At n = 1,000 an evaluation takes a fraction of a second, and each completed
one is recorded as a run.
"""

from __future__ import annotations

import numpy as np
import panel as pn
import param

from synaplast import AssociativeMemory
from synaplast import memory as mem
from synaplast.explore.jobs import Evaluation
from synaplast.explore.params import ModelParams
from synaplast.explore.widgets import (
    COLORS,
    SIDEBAR_WIDTH,
    ParamSetBar,
    as_image,
    image_grid,
    line_figure,
    param_widgets,
    show_image,
    source,
    square_shape,
    tile_images,
)

__all__ = ["MemoryParams", "MemoryScreen", "evaluate", "willshaw_curves"]

N_CHECKPOINTS = 12


class MemoryParams(ModelParams):
    model = "associative"

    rule = param.Selector(
        default="willshaw",
        objects=["willshaw", "bayes", "bcpnn", "covariance", "hebb", "hopfield"],
        doc="learning rule",
    )
    retrieval = param.Selector(
        default="threshold",
        objects=["threshold", "wta"],
        doc="threshold (Willshaw: |cue|, Bayes: posterior > 1/2) or the k largest potentials",
    )
    association = param.Selector(
        default="auto", objects=["auto", "hetero"], doc="pattern completion or pattern pairs"
    )
    n = param.Integer(
        1000, bounds=(100, 4000), label="units n", doc="units n (address and content)"
    )
    k = param.Integer(10, bounds=(1, 100), label="active units k", doc="active units per pattern")
    n_patterns = param.Integer(
        5000, bounds=(10, 20000), label="stored pairs M", doc="stored pairs M (curves go up to M)"
    )
    miss = param.Number(
        0.3,
        bounds=(0.0, 0.9),
        step=0.1,
        label="cue: fraction missing",
        doc="query noise: fraction of the active units removed",
    )
    add = param.Integer(
        0, bounds=(0, 50), label="cue: units added", doc="query noise: units added to the cue"
    )
    n_iter = param.Integer(
        3, bounds=(1, 10), label="retrieval steps", doc="retrieval steps (auto-association)"
    )
    ane = param.Boolean(
        False,
        label="adaptive noise estimation (ANE)",
        doc="adaptive noise estimation (ANE, Bayes rule)",
    )
    n_queries = param.Integer(
        200, bounds=(10, 1000), label="cues tested", doc="cues tested per point"
    )

    def query_noise(self) -> tuple[int, int]:
        """Units removed from and added to each cue."""
        return min(self.k, int(round(self.miss * self.k))), min(self.add, self.n - self.k)

    def estimator_params(self) -> dict:
        """The one place that maps this screen's widgets to the estimator."""
        miss, add = self.query_noise()
        auto = self.association == "auto"
        out = {
            "rule": self.rule,
            "retrieval": self.retrieval,
            "n_iter": self.n_iter if auto else 1,
        }
        if self.rule == "bayes":
            out["p01"] = min(miss / self.k, 0.99)
            out["p10"] = add / max(self.n - self.k, 1)
            if self.ane and auto:
                out["noise_estimation"] = "adaptive"
        return out


def willshaw_curves(n: int, k: int, M, miss: int, auto: bool):
    """One-step Willshaw theory (binomial approximation, clean add noise) at
    the numbers of pairs ``M``: ``p1``, output noise ε and capacity C (bits
    per synapse; in auto-association what retrieval adds beyond the cue)."""
    M = np.asarray(M, dtype=np.float64)
    p1 = 1.0 - (1.0 - k * k / (n * n)) ** M
    lam_k = max(k - miss, 1)
    q10 = p1**lam_k  # a silent unit reaches the threshold |cue|
    eps = (n - k) * q10 / k
    bits = n * mem.transinformation(k / n, 0.0, q10)
    n_syn = n * (n - 1) if auto else n * n
    if auto:
        bits = bits - n * mem.transinformation(k / n, miss / k, 0.0)
    return p1, eps, M * bits / n_syn


def _recall_bits(Y, T, n):
    """Transinformation of retrieved rows ``Y`` about targets ``T`` (dense 0/1)."""
    ones = T.sum()
    zeros = T.size - ones
    q = ones / T.size
    q01 = ((T == 1) & (Y == 0)).sum() / max(ones, 1)
    q10 = ((T == 0) & (Y == 1)).sum() / max(zeros, 1)
    return n * mem.transinformation(q, q01, q10)


def _dense(a):
    return a.toarray() if hasattr(a, "toarray") else np.asarray(a)


def evaluate(values: dict, cancelled=lambda: False):
    """Store the patterns, measure the curves, take the retrieval images.

    Returns ``(snapshot, metrics, curves)``, or ``None`` when ``cancelled()``
    turns true (newer parameters arrived).
    """
    p = MemoryParams(**values)
    est = AssociativeMemory(**p.estimator_params())
    auto = p.association == "auto"
    n, k, M = p.n, p.k, p.n_patterns
    miss, add = p.query_noise()
    rng = np.random.default_rng(p.seed)
    U = mem.exact_k_patterns(M, n, k, rng, sparse=True)
    V = None if auto else mem.exact_k_patterns(M, n, k, rng, sparse=True)
    nq = min(p.n_queries, M)
    Q = mem.noisy_queries(U[:nq], miss, add, rng)
    T = _dense((U if auto else V)[:nq])
    Qd = _dense(Q)
    cue_bits = _recall_bits(Qd, T, n) if auto else 0.0
    n_syn = n * (n - 1) if auto else n * n
    marks = np.unique(np.linspace(0, M, N_CHECKPOINTS + 1).round().astype(int))
    curve = {"M": [], "eps": [], "C": [], "p1": []}
    a = 0
    for b in marks[1:]:
        est.partial_fit(U[a:b], None if auto else V[a:b])
        a = b
        if b < nq:
            continue  # the cues address stored patterns only
        Y = _dense(est.predict(Q))
        curve["M"].append(int(b))
        curve["eps"].append(float(mem.output_noise(Y, T).mean()))
        curve["C"].append(float(b * (_recall_bits(Y, T, n) - cue_bits) / n_syn))
        curve["p1"].append(float(est.p1_))
        if cancelled():
            return None
    # Pattern 0, its cue and the retrieval step by step (codes: 0 silent,
    # 1 correct, 2 false alarm, 3 miss; the cue: 1 kept, 2 added, 3 removed).
    shape = square_shape(n)
    target = T[0].astype(np.int8)
    cue = Qd[0].astype(np.int8)
    images = [as_image(target, shape), as_image(_codes(cue, target), shape)]
    labels = ["stored pattern", f"cue (−{miss}, +{add})"]
    steps = p.n_iter if auto else 1
    for t in range(1, steps + 1):
        est.set_params(n_iter=t)
        y = _dense(est.predict(Q[:1]))[0].astype(np.int8)
        images.append(as_image(_codes(y, target), shape))
        labels.append(f"step {t}")
    theory = {"M": np.linspace(curve["M"][0], M, 100)}
    _, theory["eps"], theory["C"] = willshaw_curves(n, k, theory["M"], miss, auto)
    theory["eps"] = np.where(theory["eps"] > 1e-5, theory["eps"], np.nan)  # off the log axis
    if add:
        theory = {"M": [], "eps": [], "C": []}  # the closed form assumes add = 0
    metrics = {
        "M": M,
        "eps": curve["eps"][-1],
        "perfect": float((mem.output_noise(Y, T) == 0).mean()),
        "C": curve["C"][-1],
        "p1": curve["p1"][-1],
        "writes": int(est.energy_.writes),
    }
    snapshot = {
        "curve": curve,
        "theory": theory,
        "images": tile_images(images, min(len(images), 3), gap=2),
        "labels": labels,
        "shape": shape,
        "report": f"{est.energy_}\n\n{est.capacity_}",
        "metrics": metrics,
    }
    curves = {"eps": (curve["M"], curve["eps"]), "C": (curve["M"], curve["C"])}
    return snapshot, metrics, curves


def _codes(state, target):
    """0 silent, 1 both active, 2 active only in ``state``, 3 active only in ``target``."""
    return np.where(
        (state == 1) & (target == 1), 1, np.where(state == 1, 2, np.where(target == 1, 3, 0))
    )


PALETTE = ("#ffffff", "#000000", "#1f77b4", "#d62728")  # silent, correct, false, miss


class MemoryScreen:
    """Sliders update on release; every change re-runs :func:`evaluate` in the background."""

    title = "Associative memory"

    def __init__(self, store):
        self.store = store
        self.params = MemoryParams()
        self.widgets = param_widgets(
            self.params,
            self.params.names(),
            throttled=True,
            overrides={"seed": pn.widgets.IntInput},
        )
        self.sets = ParamSetBar(store, self.params)
        self.sets.load_default()
        self.status = pn.pane.Markdown("Computing…", width=SIDEBAR_WIDTH - 20, margin=(0, 10))
        self.evaluation = Evaluation(evaluate, store, self.params.model)
        self._seen = -1
        self._make_plots()
        self.params.param.watch(self._changed, self.params.names())
        self._submit()

    def _submit(self) -> None:
        self.evaluation.submit(self.params.to_dict(), self.params.seed)

    def _changed(self, _events) -> None:
        self._submit()
        self.poll()

    def _make_plots(self) -> None:
        self.eps_fig = line_figure("Output noise ε", "stored pairs M", "ε", y_type="log")
        self.cap_fig = line_figure("Capacity C", "stored pairs M", "bits per synapse")
        self.curve_src = source("memory-curve", M=[], eps=[], C=[], p1=[])
        self.theory_src = source("memory-theory", M=[], eps=[], C=[])
        for fig, y in ((self.eps_fig, "eps"), (self.cap_fig, "C")):
            fig.line(
                "M",
                y,
                source=self.theory_src,
                color="gray",
                line_dash="dashed",
                line_width=2,
                legend_label="Willshaw theory (one step)",
            )
            fig.line(
                "M",
                y,
                source=self.curve_src,
                color=COLORS[0],
                line_width=2,
                legend_label="measured",
            )
            fig.scatter("M", y, source=self.curve_src, color=COLORS[0], size=6)
            fig.legend.location = "top_left"
            fig.legend.label_text_font_size = "9px"
        self.img_fig, self.img_src = image_grid(
            "Pattern, cue, retrieval steps",
            "memory-images",
            PALETTE,
            0,
            3,
            width=2 * 430 + 10,
            height=380,
        )
        self.legend = pn.pane.Markdown(
            "black: correct · blue: false alarm / added · red: missed / removed",
            styles={"font-size": "11px"},
        )
        self.report = pn.pane.Str("", styles={"font-size": "11px"})
        self.summary = pn.pane.Markdown("")

    @property
    def panel(self):
        sidebar = pn.Column(
            pn.pane.Markdown(f"### {self.title}", margin=(0, 10)),
            *self.widgets.values(),
            self.sets.panel,
            pn.pane.Markdown("**Evaluation**", margin=(5, 10, 0, 10)),
            self.status,
            width=SIDEBAR_WIDTH,
        )
        plots = pn.Column(
            pn.Row(pn.pane.Bokeh(self.eps_fig), pn.pane.Bokeh(self.cap_fig)),
            pn.pane.Bokeh(self.img_fig),
            self.legend,
            pn.Row(self.summary, self.report),
        )
        return pn.Row(sidebar, plots)

    def poll(self) -> None:
        ev = self.evaluation
        if ev.error:
            text = f"⚠ {ev.error}"
        elif ev.busy:
            text = "Computing…"
        else:
            text = f"Done in {ev.seconds:.2f} s; recorded as run {ev.run_id}"
        if self.status.object != text:
            self.status.object = text
        if ev.version == self._seen or ev.snapshot is None:
            return
        self._seen = ev.version
        snap = ev.snapshot
        self.curve_src.data = snap["curve"]
        self.theory_src.data = snap["theory"]
        show_image(self.img_fig, self.img_src, snap["images"])
        labels = snap["labels"]
        rows = [" | ".join(labels[i : i + 3]) for i in range(0, len(labels), 3)]
        self.img_fig.title.text = "   then   ".join(rows)
        m = snap["metrics"]
        self.summary.object = (
            f"| at M = {m['M']:,} | |\n|---|---|\n| output noise ε | {m['eps']:.4g} |\n"
            f"| perfectly recalled | {m['perfect']:.1%} |\n| capacity C | {m['C']:.4g} bit/synapse |\n"
            f"| memory load p1 | {m['p1']:.4f} |\n| synaptic writes | {m['writes']:,} |"
        )
        self.report.object = snap["report"]

    def close(self) -> None:
        self.evaluation.close()
