"""synaplast.plotting: the figures carry the labels, scales and marks they promise."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from synaplast import plotting  # noqa: E402


def test_receptive_fields_share_one_colour_scale_with_a_colourbar():
    W = np.abs(np.random.default_rng(0).normal(size=(70, 16)))
    fig = plotting.receptive_fields(W, max_units=64)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 64
    assert len({im.get_clim() for im in images}) == 1
    assert images[0].get_clim() == (0.0, W[:64].max())
    assert any(ax.get_ylabel() == "synaptic weight" for ax in fig.axes)  # the colourbar
    assert "first 64 of 70" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="images"):
        plotting.receptive_fields(W[:, :15])


def test_weight_histogram_is_labelled_and_marks_the_clamp():
    w = np.random.default_rng(1).lognormal(-2, 0.5, 500)
    ax = plotting.weight_histogram(w, w_max=0.5).axes[0]
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "density per unit ln w"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("w_max = 0.5" in t for t in labels)
    for law in ("lognormal", "normal", "exponential"):
        assert any(t.startswith(f"{law} fit (KS 0.") for t in labels)
    # per unit ln w a lognormal law is a bell: the drawn fit peaks at exp(mu)
    line = next(ln for ln in ax.get_lines() if ln.get_label().startswith("lognormal"))
    x, y = line.get_data()
    assert x[np.argmax(y)] == pytest.approx(np.exp(np.log(w).mean()), rel=0.05)
    ax = plotting.weight_histogram(w, log_x=False).axes[0]
    assert ax.get_xscale() == "linear" and ax.get_ylabel() == "probability density"


def _rows():
    return [
        {
            "algorithm": a,
            "n_hidden": h,
            "seed": 0,
            "reached": not (a == "b" and h == 30),
            "M0": 10.0 * h * (i + 1),
            "M1": 1.0 * h * (i + 1),
            "M0_min": h,
            "M1_min": 0.1 * h,
            "history": [
                {"M0": 1, "M1": 1.0, "accuracy": 0.5},
                {"M0": 9, "M1": 3.0, "accuracy": 0.9},
            ],
        }
        for i, a in enumerate("abc")
        for h in (10, 30)
    ]


def test_energy_axes_are_words_and_missed_runs_are_drawn():
    fig = plotting.energy_vs_hidden(_rows(), "abc")
    left, right = fig.axes[:2]
    assert left.get_ylabel() == "M0: synaptic writes (count)"
    assert right.get_ylabel().startswith("M1: Σ|Δw|")
    labels = [t.get_text() for t in right.get_legend().get_texts()]
    assert "b: missed target" in labels
    colours = {tuple(line.get_color()) for line in left.get_lines() if line.get_label() in "abc"}
    assert len(colours) == 3  # distinct colours
    acc = plotting.accuracy_vs_energy(_rows(), "abc", n_hidden=30)
    assert "b (missed target)" in [t.get_text() for t in acc.axes[1].get_legend().get_texts()]


def test_eprop_figure_says_it_is_a_fidelity_check_and_keeps_the_legend_off_the_raster():
    raster = np.random.default_rng(2).random((50, 8)) < 0.1
    fig = plotting.eprop_comparison([1.0, 2.0], [1.0, 2.1], raster, (np.array([3]), np.array([4])))
    assert "Fidelity check" in fig._suptitle.get_text()
    legend = fig.axes[1].get_legend()
    assert legend.get_bbox_to_anchor().x0 >= fig.axes[1].bbox.x1 - 1  # outside the axes


def test_save_figures_writes_pngs(tmp_path):
    paths = plotting.save_figures(
        {"loss": plotting.loss_curve([3.0, 2.0, 1.5]), "raster": plotting.spike_raster(np.eye(5))},
        str(tmp_path),
    )
    assert [p.rsplit("/", 1)[1] for p in paths] == ["loss.png", "raster.png"]
    assert all((tmp_path / name).stat().st_size > 1000 for name in ("loss.png", "raster.png"))


def test_demo_figures_show_the_weight_histogram_on_log_x_with_the_fits(tmp_path):
    from sklearn.datasets import load_digits

    from synaplast import StructuralPlasticityClassifier

    X, y = load_digits(return_X_y=True)
    est = StructuralPlasticityClassifier(max_synapses=400, random_state=0).fit(
        X[:300] / 16, y[:300]
    )
    figs = plotting.structural_figures(est)
    ax = figs["structural_weight_histogram"].axes[0]
    assert ax.get_xscale() == "log"
    assert sum(ln.get_label().endswith(")") for ln in ax.get_lines()) == 3
    paths = plotting.save_structural_figures(est, str(tmp_path))
    assert any(p.endswith("structural_weight_histogram.png") for p in paths)
