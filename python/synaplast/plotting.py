"""Figures of the models and benchmarks, as Matplotlib :class:`~matplotlib.figure.Figure` objects.

Every function returns a figure built with Matplotlib's object-oriented API
(no global state, no backend switch), so it works in notebooks, scripts and
headless runs alike; save it with ``fig.savefig(path)`` or
:func:`save_figures`. Matplotlib is optional: install it with
``pip install "synaplast[plot]"`` (:func:`require_matplotlib` raises that
hint before any long computation starts).
"""

from __future__ import annotations

import os

import numpy as np

__all__ = [
    "accuracy_vs_energy",
    "capacity_curve",
    "energy_vs_hidden",
    "few_shot_curves",
    "eprop_comparison",
    "loss_curve",
    "receptive_fields",
    "require_matplotlib",
    "robustness_curves",
    "save_figures",
    "save_structural_figures",
    "spike_raster",
    "stream_accuracy",
    "structural_figures",
    "synapse_count",
    "weight_histogram",
]

#: Colour and marker per curve: ten well separated colours (Matplotlib's
#: ``tab10``) and, beyond ten curves, a second line style.
_MARKERS = "os^Dvp*hX<"


def require_matplotlib():
    """Import Matplotlib's ``Figure``, or raise ``ImportError`` with the install hint."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            'plots need matplotlib: pip install "synaplast[plot]" (or pip install matplotlib)'
        ) from exc
    return Figure


def _style(i: int) -> dict:
    from matplotlib import colormaps

    return {
        "color": colormaps["tab10"](i % 10),
        "marker": _MARKERS[i % len(_MARKERS)],
        "linestyle": "-" if i < 10 else "--",
    }


def save_figures(figures: dict, out_dir: str, dpi: int = 120) -> list[str]:
    """Write ``{name: Figure}`` as ``out_dir/name.png``; returns the paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name, fig in figures.items():
        paths.append(os.path.join(out_dir, f"{name}.png"))
        fig.savefig(paths[-1], dpi=dpi)
    return paths


# ------------------------------------------------------------ structural


def receptive_fields(weights, image_shape=None, max_units: int = 64):
    """Input weights of the first ``max_units`` units as images, one colour scale.

    Parameters
    ----------
    weights : array-like of shape (n_units, n_inputs)
        Dense input→unit weights (rows: units).
    image_shape : tuple of int, optional
        ``(height, width)`` of an input; default: square inputs.
    max_units : int, default=64
        Units shown; the title says how many of how many.

    Returns
    -------
    matplotlib.figure.Figure
    """
    Figure = require_matplotlib()
    W = np.asarray(weights, dtype=np.float64)
    if image_shape is None:
        side = int(round(np.sqrt(W.shape[1])))
        image_shape = (side, side)
    if int(np.prod(image_shape)) != W.shape[1]:
        raise ValueError(f"{W.shape[1]} inputs do not form images of shape {image_shape}")
    k = min(max_units, W.shape[0])
    g = int(np.ceil(np.sqrt(k)))
    vmax = float(np.abs(W[:k]).max()) or 1.0
    vmin = 0.0 if W[:k].min() >= 0 else -vmax
    fig = Figure(figsize=(g * 0.9 + 1.2, g * 0.9 + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(g, g)).ravel()
    image = None
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i < k:
            cmap = "gray_r" if vmin == 0 else "RdBu_r"
            image = ax.imshow(W[i].reshape(image_shape), cmap=cmap, vmin=vmin, vmax=vmax)
    shown = f"all {k}" if k == W.shape[0] else f"first {k} of {W.shape[0]}"
    fig.suptitle(f"receptive fields: input weights of {shown} units")
    if image is not None:
        fig.colorbar(image, ax=list(axes), shrink=0.8, label="synaptic weight")
    return fig


def synapse_count(history):
    """Non-silent synapses after each epoch (``synapse_history_``)."""
    Figure = require_matplotlib()
    fig = Figure(figsize=(4.5, 3.2), layout="constrained")
    ax = fig.subplots()
    ax.plot(np.arange(len(history)), history, marker="o")
    ax.set_xlabel("epoch (0: initial synapses)")
    ax.set_ylabel("non-silent input synapses")
    ax.set_yscale("log")
    return fig


def weight_histogram(weights, w_max: float | None = None, bins: int = 50, log_x: bool = True):
    """Histogram of the positive weights with their fitted lognormal, normal
    and exponential laws (KS distances in the legend, from
    :func:`synaplast.analysis.lognormal_fit`); ``w_max`` marks the clamp.

    With ``log_x`` (the default) the bins are equal in ``log w`` and the
    densities are per unit of ``ln w`` (``w·p(w)``), so a lognormal law is
    a symmetric bell.
    """
    Figure = require_matplotlib()
    from scipy.stats import expon, lognorm, norm

    from synaplast.analysis import lognormal_fit

    w = np.asarray(weights, dtype=np.float64).ravel()
    w = w[w > 0]
    fig = Figure(figsize=(5.0, 3.4), layout="constrained")
    ax = fig.subplots()
    if w.size == 0:
        ax.text(0.5, 0.5, "no positive weights", ha="center", transform=ax.transAxes)
        return fig
    lo, hi = w.min(), w.max()
    if log_x and hi > lo:
        edges = np.geomspace(lo, hi, bins + 1)
        counts, _ = np.histogram(w, edges)
        dens = counts / (w.size * np.diff(np.log(edges)))
        ax.stairs(dens, edges, fill=True, alpha=0.5, label=f"{w.size:,} synapses")
        ax.set_xscale("log")
        xs = np.geomspace(lo, hi, 300)
        scale = xs  # density per unit of ln w
    else:
        ax.hist(w, bins=bins, density=True, alpha=0.5, label=f"{w.size:,} synapses")
        xs = np.linspace(lo, hi, 300)
        scale = np.ones_like(xs)
    fit = lognormal_fit(w)
    if fit["n"] >= 2 and fit["sigma"] > 0 and fit["sd"] > 0:
        laws = {
            "lognormal": lognorm.pdf(xs, s=fit["sigma"], scale=np.exp(fit["mu"])),
            "normal": norm.pdf(xs, loc=fit["mean"], scale=fit["sd"]),
            "exponential": expon.pdf(xs, scale=fit["mean"]),
        }
        styles = {
            "lognormal": ("tab:red", "-"),
            "normal": ("tab:blue", "--"),
            "exponential": ("tab:green", ":"),
        }
        for name, pdf in laws.items():
            c, ls = styles[name]
            ax.plot(
                xs, pdf * scale, color=c, ls=ls, label=f"{name} fit (KS {fit['ks_' + name]:.3f})"
            )
    if w_max is not None:
        ax.axvline(w_max, color="k", ls=":", label=f"clamp w_max = {w_max:g}")
    ax.set_xlabel("synaptic weight" + (" (log scale)" if log_x else ""))
    ax.set_ylabel("density per unit ln w" if log_x else "probability density")
    ax.legend(fontsize=7)
    return fig


def robustness_curves(curves):
    """Accuracy against attack strength, one panel per attack.

    ``curves``: ``{attack: {"x": [...], "xlabel": str, model: [accuracy, ...]}}``
    (as in :func:`synaplast.claims.robustness`); every other key of an
    attack's dict is a model drawn as one curve.
    """
    Figure = require_matplotlib()
    n = max(1, len(curves))
    fig = Figure(figsize=(3.2 * n, 3.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n, sharey=True))
    for ax, (attack, c) in zip(axes, curves.items(), strict=False):
        models = [k for k in c if k not in ("x", "xlabel")]
        for i, m in enumerate(models):
            ax.plot(c["x"], 100 * np.asarray(c[m]), label=m, **_style(i))
        ax.set_title(attack, fontsize=9)
        ax.set_xlabel(c.get("xlabel", ""))
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy (%)")
    axes[0].legend(fontsize=7)
    return fig


def stream_accuracy(rows):
    """Accuracy on each task's test samples over a class-incremental stream.

    ``rows``: results of :func:`synaplast.claims_continual.continual_claim`
    (rows without ``acc``, the joint fits, are skipped); one panel per
    stream, one colour per task, one line style per model.
    """
    Figure = require_matplotlib()
    streams = list(dict.fromkeys(r["stream"] for r in rows if "acc" in r))
    fig = Figure(figsize=(5 * max(1, len(streams)), 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, max(1, len(streams))))
    for ax, stream in zip(axes, streams, strict=False):
        models = [r for r in rows if r["stream"] == stream and "acc" in r]
        for r, style in zip(models, ("-", "--", ":"), strict=False):
            n = len(r["acc"])
            for s in range(n):
                steps = range(s, n)
                ax.plot(
                    [t + 1 for t in steps],
                    [100 * r["acc"][t][s] for t in steps],
                    linestyle=style,
                    marker="o",
                    color=f"C{s}",
                    label=f"{r['model'].split(' ')[0]}: task {s + 1}",
                )
        ax.set_title(stream, fontsize=9)
        ax.set_xlabel("after task")
        ax.set_ylim(-2, 102)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, ncol=2)
    axes[0].set_ylabel("accuracy on the task's test samples (%)")
    return fig


def few_shot_curves(rows):
    """Few-shot accuracy against labelled samples per class, with 95 % intervals.

    ``rows``: results of :func:`synaplast.claims_continual.few_shot`.
    """
    Figure = require_matplotlib()
    fig = Figure(figsize=(5.5, 3.6), layout="constrained")
    ax = fig.subplots()
    for i, v in enumerate(dict.fromkeys(r["variant"] for r in rows)):
        sub = sorted((r for r in rows if r["variant"] == v), key=lambda r: r["shots"])
        k = [r["shots"] for r in sub]
        m = np.array([100 * r["mean"] for r in sub])
        c = np.array([100 * r["ci95"] for r in sub])
        ax.plot(k, m, label=v, **_style(i))
        ax.fill_between(k, m - c, m + c, color=_style(i)["color"], alpha=0.2)
    ax.set_xscale("log")
    ax.set_xlabel("labelled samples per class")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return fig


def structural_figures(est) -> dict:
    """Receptive fields (for square image inputs), synapse count and weight
    histogram of a fitted :class:`~synaplast.StructuralPlasticityClassifier`."""
    W = est.receptive_fields_
    figs = {}
    side = int(round(np.sqrt(W.shape[1])))
    if side * side == W.shape[1]:
        figs["structural_receptive_fields"] = receptive_fields(W)
    figs["structural_synapse_count"] = synapse_count(est.synapse_history_)
    figs["structural_weight_histogram"] = weight_histogram(est.synapses_.weights, est.w_max)
    return figs


def save_structural_figures(est, out_dir: str) -> list[str]:
    """:func:`structural_figures` written as PNGs to ``out_dir``; returns the paths."""
    return save_figures(structural_figures(est), out_dir, dpi=100)


# ------------------------------------------------------------ competitive

_ENERGY_AXIS = {
    "M0": "M0: synaptic writes (count)",
    "M1": "M1: Σ|Δw| (weight units)",
}


def energy_vs_hidden(rows, algorithms, target: float = 0.95):
    """Energy to reach the target accuracy against the hidden layer size.

    ``rows`` are the competitive-plasticity sweep results (``algorithm``,
    ``n_hidden``, ``reached``, ``M0``, ``M1``, ``M0_min``, ``M1_min``). Runs
    that missed the target are drawn as crosses at the energy they spent.
    """
    Figure = require_matplotlib()
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    axs = fig.subplots(1, 2)
    for ax, key in zip(axs, ("M0", "M1"), strict=True):
        for i, name in enumerate(algorithms):
            st = _style(i)
            mine = sorted((r for r in rows if r["algorithm"] == name), key=lambda r: r["n_hidden"])
            hit = [r for r in mine if r["reached"]]
            miss = [r for r in mine if not r["reached"]]
            if hit:
                ax.plot([r["n_hidden"] for r in hit], [r[key] for r in hit], label=name, **st)
            if miss:
                ax.plot(
                    [r["n_hidden"] for r in miss],
                    [r[key] for r in miss],
                    "x",
                    color=st["color"],
                    ms=8,
                    label=f"{name}: missed target",
                )
        mins = {}
        for r in rows:
            if r["reached"]:
                mins.setdefault(r["n_hidden"], []).append(r[key + "_min"])
        if mins:
            ns = sorted(mins)
            ax.plot(ns, [np.mean(mins[n]) for n in ns], "k--", label=f"{key}_min (mean)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("hidden units N_hidden")
        ax.set_ylabel(_ENERGY_AXIS[key])
        ax.set_title(f"{key} to {100 * target:g}% test accuracy")
    axs[1].legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.02, 0.5))
    return fig


def accuracy_vs_energy(rows, algorithms, n_hidden: int, seed: int = 0):
    """Test accuracy over the energy spent so far, one curve per algorithm."""
    Figure = require_matplotlib()
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    axs = fig.subplots(1, 2)
    for i, name in enumerate(algorithms):
        st = _style(i)
        for r in rows:
            if r["algorithm"] == name and r["n_hidden"] == n_hidden and r["seed"] == seed:
                h = r["history"]
                for ax, key in zip(axs, ("M0", "M1"), strict=True):
                    ax.plot(
                        [x[key] for x in h],
                        [x["accuracy"] for x in h],
                        label=name if r["reached"] else f"{name} (missed target)",
                        color=st["color"],
                        ls=st["linestyle"],
                    )
    for ax, key in zip(axs, ("M0", "M1"), strict=True):
        ax.set_xscale("log")
        ax.set_xlabel(_ENERGY_AXIS[key])
        ax.set_ylabel("test accuracy")
        ax.set_title(f"accuracy against {key}, N_hidden = {n_hidden}")
    axs[1].legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.02, 0.5))
    return fig


# ------------------------------------------------------------ e-prop


def loss_curve(losses, ylabel: str = "loss"):
    """Mean training loss per epoch (``loss_curve_`` of the e-prop estimators)."""
    Figure = require_matplotlib()
    fig = Figure(figsize=(4.5, 3.2), layout="constrained")
    ax = fig.subplots()
    ax.plot(np.arange(1, len(losses) + 1), losses, marker="o")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    return fig


def spike_raster(spikes, title: str | None = None):
    """Raster of a ``(n_steps, n_neurons)`` 0/1 spike array."""
    Figure = require_matplotlib()
    t, n = np.nonzero(np.asarray(spikes))
    fig = Figure(figsize=(6, 3), layout="constrained")
    ax = fig.subplots()
    ax.scatter(t, n, s=4, marker="|", color="k")
    ax.set_xlabel("time step")
    ax.set_ylabel("neuron")
    ax.set_xlim(-0.5, np.shape(spikes)[0] - 0.5)
    ax.set_ylim(-0.5, np.shape(spikes)[1] - 0.5)
    if title:
        ax.set_title(title)
    return fig


def eprop_comparison(nest_loss, syn_loss, syn_raster, nest_spikes=None):
    """Side-by-side fidelity check of synaplast against NEST on one task.

    Parameters
    ----------
    nest_loss, syn_loss : array-like
        Loss per iteration (``nest_loss`` may be ``None`` without NEST).
    syn_raster : ndarray of shape (n_steps, n_rec)
        synaplast's recurrent spikes in the last iteration.
    nest_spikes : tuple (steps, neurons), optional
        NEST's spikes in the same iteration.
    """
    Figure = require_matplotlib()
    fig = Figure(figsize=(11, 4.6), layout="constrained")
    axs = fig.subplots(1, 2)
    it = np.arange(1, len(syn_loss) + 1)
    if nest_loss is not None:
        axs[0].plot(it, nest_loss, "o-", color="tab:red", label="NEST 3.10 eprop_iaf")
    axs[0].plot(it, syn_loss, "x--", color="tab:blue", label="synaplast (nest_compatible)")
    axs[0].set_xlabel("iteration")
    axs[0].set_ylabel("loss ½Σ(y − y*)²")
    axs[0].legend()
    t, n = np.nonzero(np.asarray(syn_raster))
    axs[1].scatter(t, n, s=2, color="tab:blue", label="synaplast")
    if nest_spikes is not None:
        axs[1].scatter(nest_spikes[0], nest_spikes[1] + 0.3, s=2, c="tab:red", label="NEST")
    axs[1].set_xlabel("step of the last iteration")
    axs[1].set_ylabel("recurrent neuron")
    axs[1].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), markerscale=4)
    fig.suptitle(
        "Fidelity check, not a learning curve: the same network, inputs and update rule "
        "in both simulators (NEST's example setting, whose loss rises in both)",
        fontsize=9,
    )
    return fig


# ------------------------------------------------------------ memory


def capacity_curve(stored, measured, theory, m_eps=None, title=None):
    """Measured capacity ``C(M)`` (bits per synapse) against the theory curve."""
    Figure = require_matplotlib()
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot(stored, theory, "-", color="tab:blue", label="theory (binomial approximation)")
    ax.plot(stored, measured, "o", color="tab:orange", label="measured (synaplast)")
    if m_eps is not None:
        ax.axvline(m_eps, ls=":", color="gray", label="M_eps (ε = 0.01)")
    ax.set_xlabel("stored pairs M")
    ax.set_ylabel("capacity C (bit per synapse)")
    if title:
        ax.set_title(title)
    ax.legend()
    return fig
