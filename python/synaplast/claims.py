"""The rule's biological claims, measured beside backprop (``synaplast bench claims``).

The papers behind :class:`~synaplast.StructuralPlasticityClassifier`
(Stricker/Inoue et al. 2026) claim that the structural-plasticity rule,
unlike backprop, lets lognormal weight distributions emerge and is more
robust to adversarial attacks. Each claim is one *section*: a function that
takes the shared :class:`ClaimData` (the data and the two fitted models)
and returns a :class:`Claim` (a table with the rule and backprop side by
side, and figures). :data:`CLAIM_SECTIONS` lists them in order; a new claim
is a new entry. :func:`run` measures them all, prints one table per claim
and writes the figures as PNGs.

Both models are trained once, with the rule at its defaults and backprop as
``MLPClassifier(hidden_layer_sizes=(100,), max_iter=20)``, the same seed.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

__all__ = [
    "CLAIM_SECTIONS",
    "Claim",
    "ClaimData",
    "continual_learning",
    "few_shot_learning",
    "lognormal_weights",
    "robustness",
    "run",
]

#: Attack strengths of the robustness claim.
EPSILONS = (0.05, 0.1, 0.2)
NOISE_SIGMAS = (0.1, 0.2, 0.3, 0.5)
OCCLUDED = (0.1, 0.25, 0.5, 0.75)


@dataclass
class ClaimData:
    """Data and models shared by the claim sections (models fitted on first use).

    ``n_attack`` test samples (the first ones) are attacked; the attacks
    need one gradient of the model per sample and step.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    random_state: int = 0
    n_attack: int = 1000
    fit_time: dict = field(default_factory=dict)
    #: Parameters of the rule beyond ``random_state`` (empty: the defaults).
    rule_params: dict = field(default_factory=dict)

    @cached_property
    def rule(self):
        """``StructuralPlasticityClassifier`` with every parameter at its default."""
        from synaplast import StructuralPlasticityClassifier

        t0 = time.perf_counter()
        est = StructuralPlasticityClassifier(random_state=self.random_state, **self.rule_params)
        est.fit(self.X_train, self.y_train)
        self.fit_time["rule"] = time.perf_counter() - t0
        return est

    @cached_property
    def bp(self):
        """``MLPClassifier(hidden_layer_sizes=(100,), max_iter=20)``."""
        from sklearn.neural_network import MLPClassifier

        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 20 epochs end unconverged, by design
            est = MLPClassifier(
                hidden_layer_sizes=(100,), max_iter=20, random_state=self.random_state
            )
            est.fit(self.X_train, self.y_train)
        self.fit_time["bp"] = time.perf_counter() - t0
        return est

    def models(self):
        """``{"rule": ..., "BP": ...}``."""
        return {"rule": self.rule, "BP": self.bp}


@dataclass
class Claim:
    """One measured claim: a table (``header`` and ``rows``), figures and a note."""

    title: str
    header: list
    rows: list
    figures: dict = field(default_factory=dict)
    note: str = ""

    def markdown(self) -> str:
        """The table as Markdown, under its title and above its note."""

        def cell(v):
            if isinstance(v, float):
                return f"{v:.3f}" if abs(v) < 10 else f"{v:,.1f}"
            if isinstance(v, int):
                return f"{v:,}"
            return str(v)

        lines = [f"## {self.title}", "", "| " + " | ".join(self.header) + " |"]
        lines.append("|" + "---|" * len(self.header))
        lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in self.rows]
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines)


def lognormal_weights(data: ClaimData, plots: bool = True) -> Claim:
    """Emergent lognormal weights: KS distances of the non-silent input→hidden
    weights to the fitted lognormal, normal and exponential laws.

    The rule's weights are non-negative; backprop's first layer is signed,
    so its magnitudes ``abs(w)`` are fitted (for contrast, not as a like-for-like
    test).
    """
    from synaplast.analysis import weight_statistics

    rows, figures = [], {}
    for label, est in data.models().items():
        st = weight_statistics(est)
        ks = {k: st[f"ks_{k}"] for k in ("lognormal", "normal", "exponential")}
        best = min(ks, key=ks.get)
        weights = "w" if label == "rule" else "abs(w)"
        rows.append(
            [label, weights, st["n_synapses"], ks["lognormal"], ks["normal"], ks["exponential"]]
            + [best, st["lognormal_mu"], st["lognormal_sigma"]]
        )
        if plots:
            from synaplast.plotting import weight_histogram

            w = est.synapses_.weights if label == "rule" else np.abs(est.coefs_[0]).ravel()
            fig = weight_histogram(w, w_max=getattr(est, "w_max", None))
            fig.axes[0].set_title(f"{label} input→hidden weights ({data.name})", fontsize=9)
            figures[f"claims_weights_{label.lower()}"] = fig
    header = ["model", "weights", "synapses", "KS lognormal", "KS normal", "KS exponential"]
    header += ["best fit", "mu (ln w)", "sigma (ln w)"]
    note = (
        "Target (issue 11): the rule's KS to the fitted lognormal <= 0.05 and below the other two."
    )
    return Claim("Emergent lognormal weights", header, rows, figures, note)


def robustness(data: ClaimData, plots: bool = True) -> Claim:
    """Accuracy under FGSM and PGD (10 steps, ``L∞``, each model attacked
    through its own gradient), PGD transferred from the other model (a
    check of gradient masking), Gaussian pixel noise and random pixel
    occlusion, on the first ``n_attack`` test images (inputs clipped to
    ``[0, 1]``)."""
    from synaplast import analysis

    X, y = data.X_test[: data.n_attack], data.y_test[: data.n_attack]
    models = data.models()
    curves = {
        "FGSM": {"x": list(EPSILONS), "xlabel": "ε (L∞)"},
        "PGD, 10 steps": {"x": list(EPSILONS), "xlabel": "ε (L∞)"},
        "Gaussian noise": {"x": list(NOISE_SIGMAS), "xlabel": "σ"},
        "pixel occlusion": {"x": list(OCCLUDED), "xlabel": "fraction of pixels set to 0"},
    }
    attacks = {
        "FGSM": lambda est, v: analysis.fgsm_accuracy(est, X, y, v),
        "PGD, 10 steps": lambda est, v: analysis.pgd_accuracy(est, X, y, v, n_steps=10),
        "Gaussian noise": lambda est, v: analysis.noise_accuracy(
            est, X, y, v, random_state=data.random_state
        ),
        "pixel occlusion": lambda est, v: analysis.occlusion_accuracy(
            est, X, y, v, random_state=data.random_state
        ),
    }
    clean = {m: float(est.score(X, y)) for m, est in models.items()}
    rows = [["clean", "", clean["rule"], clean["BP"], clean["rule"] - clean["BP"]]]
    for attack, fn in attacks.items():
        for m, est in models.items():
            curves[attack][m] = [fn(est, v) for v in curves[attack]["x"]]
        for i, v in enumerate(curves[attack]["x"]):
            r, b = curves[attack]["rule"][i], curves[attack]["BP"][i]
            rows.append([attack, v, r, b, r - b])
    # Transfer: each model on the PGD examples made with the other's gradient
    # (a check of gradient masking: they should not hurt more than its own).
    for v in EPSILONS:
        on_bp = analysis.pgd_examples(models["BP"], X, y, v)
        on_rule = analysis.pgd_examples(models["rule"], X, y, v)
        r = float(np.mean(models["rule"].predict(on_bp.astype(np.float32)) == y))
        b = float(np.mean(models["BP"].predict(on_rule.astype(np.float32)) == y))
        rows.append(["PGD from the other model", v, r, b, r - b])
    figures = {}
    if plots:
        from synaplast.plotting import robustness_curves

        for c in curves.values():  # the clean accuracy as the first point
            c["x"] = [0.0, *c["x"]]
            for m in models:
                c[m] = [clean[m], *c[m]]
        figures["claims_robustness"] = robustness_curves(curves)
    header = ["attack", "strength", "rule acc", "BP acc", "rule − BP"]
    note = (
        f"{len(y):,} test images; gradients of each model's own forward pass "
        "(synaplast.analysis.input_gradient); PGD without random start, step 2.5ε/10; "
        "'PGD from the other model': the rule on the examples made with BP's gradient "
        "and BP on the rule's (transfer)."
    )
    return Claim("Robustness", header, rows, figures, note)


def _pct(v):
    return "—" if v is None else f"{100 * v:.1f} %"


def continual_learning(data: ClaimData, plots: bool = True) -> Claim:
    """Class-incremental streams (0-4 then 5-9; five tasks of two classes),
    rule and BP with ``partial_fit``, no replay, beside both trained jointly.

    Runs :func:`synaplast.claims_continual.continual_claim` on the claim's
    data (streams of its classes, in order); slow on all of MNIST (the
    rule's stream learns every sample once per missing seen class).
    """
    from synaplast.claims_continual import continual_claim

    classes = np.unique(data.y_train)
    half = len(classes) // 2
    splits = {
        "first half then second half": [classes[:half], classes[half:]],
        "tasks of two classes": [classes[i : i + 2] for i in range(0, len(classes), 2)],
    }
    rows = continual_claim(
        data.X_train,
        data.y_train,
        data.X_test,
        data.y_test,
        splits=splits,
        rule_kwargs=data.rule_params,
    )
    header = ["stream", "model", "task 1 right after", "task 1 at the end", "final", "fit s"]
    table = []
    for r in rows:
        acc = r.get("acc")
        first, last = (acc[0][0], acc[-1][0]) if acc else (None, None)
        table.append(
            [r["stream"], r["model"], _pct(first), _pct(last), _pct(r["final"]), r["fit_s"]]
        )
    figures = {}
    if plots:
        from synaplast.plotting import stream_accuracy

        figures["claims_continual_stream"] = stream_accuracy(rows)
    note = (
        "Targets (issue 11): final accuracy after the two-class tasks >= 90 %, task 1 "
        "kept >= 90 % of its value right after task 1."
    )
    return Claim("Continual learning (class-incremental, no replay)", header, table, figures, note)


def few_shot_learning(data: ClaimData, plots: bool = True) -> Claim:
    """1, 5, 10 and 50 labelled samples per class (20 draws), the rule on the
    shots alone and pretrained on the unlabelled training set, against an
    MLPClassifier tuned on the shots (:func:`synaplast.claims_continual.few_shot`)."""
    from synaplast.claims_continual import few_shot, few_shot_table

    rows = few_shot(
        data.X_train,
        data.y_train,
        data.X_test,
        data.y_test,
        X_unlabelled=data.X_train,
        seed=data.random_state,
    )
    header, table = few_shot_table(rows)
    figures = {}
    if plots:
        from synaplast.plotting import few_shot_curves

        figures["claims_few_shot"] = few_shot_curves(rows)
    note = "Mean ± 95 % interval over 20 draws; target: the rule >= BP at every shot count."
    return Claim("Few-shot learning", header, table, figures, note)


#: The claim sections in the order they are measured and printed: ``(name,
#: function)`` with ``function(data: ClaimData, plots: bool) -> Claim``.
CLAIM_SECTIONS = [
    ("weights", lognormal_weights),
    ("robustness", robustness),
    ("continual", continual_learning),
    ("few-shot", few_shot_learning),
]


def run(
    dataset: str = "auto",
    n_train: int | None = None,
    n_attack: int = 1000,
    sections=None,
    out_dir: str | None = None,
    random_state: int = 0,
    echo=print,
) -> list[Claim]:
    """Measure the claims, print one table each, and write their PNGs to ``out_dir``.

    Parameters
    ----------
    dataset : {"auto", "mnist", "digits"}, default="auto"
        MNIST when available offline, else scikit-learn's 8x8 digits (said so).
    n_train : int or None, default=None
        Use the first ``n_train`` training samples (``None``: all).
    n_attack : int, default=1000
        Test samples attacked in the robustness claim.
    sections : list of str or None, default=None
        Names from :data:`CLAIM_SECTIONS` (``None``: all).
    out_dir : str or None, default=None
        Folder for the PNGs (``None``: no figures; needs matplotlib).
    random_state : int, default=0
    echo : callable, default=print
        Where the tables go.

    Returns
    -------
    list of Claim
    """
    from synaplast.datasets import load_dataset

    known = dict(CLAIM_SECTIONS)
    names = list(known) if sections is None else list(sections)
    unknown = [s for s in names if s not in known]
    if unknown:
        raise ValueError(f"unknown claim sections {unknown}; known: {list(known)}")
    if out_dir is not None:
        from synaplast.plotting import require_matplotlib

        require_matplotlib()
    name, (X_tr, y_tr, X_te, y_te) = load_dataset(dataset)
    if n_train is not None:
        X_tr, y_tr = X_tr[:n_train], y_tr[:n_train]
    data = ClaimData(name, X_tr, y_tr, X_te, y_te, random_state=random_state, n_attack=n_attack)
    echo(
        f"synaplast bench claims: {name}, {len(X_tr):,} training / {len(X_te):,} test samples; "
        "rule = StructuralPlasticityClassifier() (defaults), "
        "BP = MLPClassifier(hidden_layer_sizes=(100,), max_iter=20)"
    )
    claims = []
    for s in names:
        claim = known[s](data, plots=out_dir is not None)
        claims.append(claim)
        echo("")
        echo(claim.markdown())
        if s == names[0] and data.fit_time:
            fits = ", ".join(f"{k} {v:.1f} s" for k, v in data.fit_time.items())
            echo(f"\nfit time: {fits}")
    if out_dir is not None:
        from synaplast.plotting import save_figures

        paths = save_figures({k: v for c in claims for k, v in c.figures.items()}, out_dir)
        echo(f"\nfigures written to {out_dir}: {', '.join(paths)}")
    return claims
