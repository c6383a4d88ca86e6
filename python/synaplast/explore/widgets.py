"""Panel pieces every screen shares: parameter widgets, the parameter-set bar,
run controls, plot and image helpers.

Layout convention of a screen: a sidebar (parameters, parameter sets, run
controls and status) on the left, the live plots in a grid on the right.
"""

from __future__ import annotations

import functools
import io
import json
import math

import numpy as np
import panel as pn
import param
from bokeh.models import ColumnDataSource, LinearColorMapper
from bokeh.plotting import figure

from synaplast.explore.store import RunStoreError

__all__ = [
    "ParamSetBar",
    "RunControls",
    "add_lines",
    "image_grid",
    "line_figure",
    "param_widgets",
    "tile_images",
]

SIDEBAR_WIDTH = 300
PLOT_WIDTH = 430
PLOT_HEIGHT = 270
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")


# --------------------------------------------------------------------------- parameters
def param_widgets(params: param.Parameterized, names, *, throttled=False, overrides=None):
    """A widget per parameter, linked both ways to ``params``.

    Bounded integers and numbers become sliders (``throttled``: they update
    on release, so a drag is one change), selectors drop-downs, booleans
    checkboxes; ``overrides`` maps a name to a widget class.
    """
    overrides = overrides or {}
    out = {}
    for name in names:
        p = params.param[name]
        kind = overrides.get(name)
        opts = {"width": SIDEBAR_WIDTH - 20}
        if kind is None:
            if isinstance(p, param.Boolean):
                kind = pn.widgets.Checkbox
            elif isinstance(p, param.Selector):
                kind = pn.widgets.Select
            elif isinstance(p, param.Integer) and p.bounds and None not in p.bounds:
                kind = pn.widgets.IntSlider
            elif isinstance(p, param.Number) and p.bounds and None not in p.bounds:
                kind = pn.widgets.FloatSlider
            elif isinstance(p, param.Integer):
                kind = pn.widgets.IntInput
            else:
                kind = pn.widgets.FloatInput
        if p.doc and "description" in kind.param:
            opts["description"] = p.doc  # a tooltip next to the label
        if throttled and "value_throttled" in kind.param:
            opts["throttled"] = True  # the parameter changes once per drag, on release
        out[name] = kind.from_param(p, **opts)
    return out


def set_disabled(widgets, disabled: bool) -> None:
    for w in widgets:
        w.disabled = disabled


def _guard(method):
    """Show a failed action as a message instead of a stack trace in the server log."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (ValueError, KeyError, TypeError, RunStoreError) as exc:
            msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            self.say(f"⚠ {msg}")
            return None

    return wrapper


class ParamSetBar:
    """Named parameter sets of one model: save, load, rename, delete, default, export, import."""

    def __init__(self, store, params):
        self.store = store
        self.params = params
        self.model = params.model
        w = SIDEBAR_WIDTH - 20
        self.select = pn.widgets.Select(label="Parameter set", options={}, width=w)
        self.name = pn.widgets.TextInput(label="Name", placeholder="name of a new set", width=w)
        self.buttons = {
            label: pn.widgets.Button(label=label, width=(w - 30) // 3, color=kind)
            for label, kind in (
                ("Save", "primary"),
                ("Load", "default"),
                ("Rename", "default"),
                ("Delete", "default"),
                ("Default", "default"),
            )
        }
        self.buttons["Save"].on_click(self._save)
        self.buttons["Load"].on_click(self._load)
        self.buttons["Rename"].on_click(self._rename)
        self.buttons["Delete"].on_click(self._delete)
        self.buttons["Default"].on_click(self._set_default)
        self.download = pn.widgets.FileDownload(
            callback=self._export, filename=f"{self.model}.json", label="Export set", width=w // 2
        )
        self.upload = pn.widgets.FileInput(accept=".json", width=w // 2, label="Import")
        self.upload.param.watch(self._import, "value")
        self.message = pn.pane.Markdown("", width=w, margin=(0, 10))
        self.select.param.watch(self._selected, "value")
        self.refresh()

    @property
    def panel(self):
        b = self.buttons
        return pn.Column(
            pn.pane.Markdown("**Parameter sets**", margin=(5, 10, 0, 10)),
            self.select,
            self.name,
            pn.Row(b["Save"], b["Load"], b["Rename"]),
            pn.Row(b["Delete"], b["Default"]),
            pn.Row(self.download, self.upload),
            self.message,
        )

    @property
    def widgets(self):
        """The controls that change the parameters (locked while a run is open)."""
        b = self.buttons
        return [b["Load"], b["Rename"], b["Delete"], b["Default"], self.select, self.upload]

    def say(self, text: str) -> None:
        self.message.object = text

    def refresh(self, select: str | None = None) -> None:
        default = self.store.default_params(self.model)
        default = default[0] if default else None
        names = self.store.param_sets(self.model)
        self.select.options = {(f"{n} (default)" if n == default else n): n for n in names}
        if select is not None:
            self.select.value = select
        elif self.select.value not in names:
            self.select.value = names[0] if names else None

    def _selected(self, event) -> None:
        if event.new:
            self.download.filename = f"{self.model}-{event.new}.json"

    @_guard
    def load_default(self) -> str | None:
        """Load the model's default set, if any (when the screen opens); a set
        that no longer validates leaves the defaults and says why."""
        default = self.store.default_params(self.model)
        if default is None:
            return None
        ignored = self.params.from_dict(default[1])
        self.refresh(select=default[0])
        self.say(f"Loaded the default set **{default[0]}**" + self._ignored(ignored))
        return default[0]

    @staticmethod
    def _ignored(names) -> str:
        return f" (ignored, unknown here: {', '.join(names)})" if names else ""

    @_guard
    def _save(self, _event=None) -> None:
        name = (self.name.value or "").strip() or self.select.value
        if not name:
            raise ValueError("type a name for the new set")
        self.store.save_params(self.model, name, self.params.to_dict())
        self.name.value = ""
        self.refresh(select=name)
        self.say(f"Saved **{name}**")

    @_guard
    def _load(self, _event=None) -> None:
        name = self.select.value
        if not name:
            raise ValueError("no parameter set to load")
        ignored = self.params.from_dict(self.store.load_params(self.model, name))
        self.say(f"Loaded **{name}**" + self._ignored(ignored))

    @_guard
    def _rename(self, _event=None) -> None:
        old, new = self.select.value, (self.name.value or "").strip()
        if not old or not new:
            raise ValueError("choose a set and type its new name")
        self.store.rename_params(self.model, old, new)
        self.name.value = ""
        self.refresh(select=new)
        self.say(f"Renamed **{old}** to **{new}**")

    @_guard
    def _delete(self, _event=None) -> None:
        name = self.select.value
        if not name:
            raise ValueError("no parameter set to delete")
        self.store.delete_params(self.model, name)
        self.refresh()
        self.say(f"Deleted **{name}**")

    @_guard
    def _set_default(self, _event=None) -> None:
        name = self.select.value
        if not name:
            raise ValueError("no parameter set to make the default")
        self.store.set_default(self.model, name)
        self.refresh(select=name)
        self.say(f"**{name}** opens with this screen from now on")

    def _export(self):
        name = self.select.value
        if not name:
            self.say("⚠ no parameter set to export")
            return io.StringIO("")
        return io.StringIO(self.store.export_json([self.store.export_params(self.model, name)]))

    @_guard
    def _import(self, event) -> None:
        if not event.new:
            return
        out = self.store.import_json(event.new)
        sets = [key[1] for kind, key in out if kind == "param_set" and key[0] == self.model]
        runs = sum(1 for kind, key in out if kind == "run" and key is not None)
        self.refresh(select=sets[0] if sets else None)
        self.say(f"Imported {len(sets)} set(s) of this model and {runs} run(s)")


class RunControls:
    """Start / Pause / Step / Stop-and-reset buttons, progress and status of a run."""

    def __init__(self, width=SIDEBAR_WIDTH - 20):
        bw = (width - 40) // 4
        self.start = pn.widgets.Button(label="Start", color="success", width=bw)
        self.pause = pn.widgets.Button(label="Pause", color="warning", width=bw)
        self.step = pn.widgets.Button(label="Step", width=bw)
        self.reset = pn.widgets.Button(label="Reset", color="danger", width=bw)
        self.progress = pn.indicators.Progress(value=0, max=100, width=width, bar_color="info")
        self.status = pn.pane.Markdown("Ready.", width=width, margin=(0, 10))

    @property
    def panel(self):
        return pn.Column(
            pn.pane.Markdown("**Run**", margin=(5, 10, 0, 10)),
            pn.Row(self.start, self.pause, self.step, self.reset),
            self.progress,
            self.status,
        )


# --------------------------------------------------------------------------- plots
def line_figure(title, x_label, y_label, *, y_type="linear", x_type="linear", **kw):
    fig = figure(
        title=title,
        width=kw.pop("width", PLOT_WIDTH),
        height=kw.pop("height", PLOT_HEIGHT),
        x_axis_label=x_label,
        y_axis_label=y_label,
        y_axis_type=y_type,
        x_axis_type=x_type,
        tools="pan,wheel_zoom,box_zoom,reset,save,hover",
        **kw,
    )
    fig.toolbar.logo = None
    return fig


def add_lines(fig, src, x: str, lines, *, legend="top_left") -> None:
    """Draw ``lines``, each ``(column, color, label)`` or ``(column, color, label, dash)``,
    against the column ``x`` of ``src``, with a small legend."""
    for column, color, label, *dash in lines:
        fig.line(
            x,
            column,
            source=src,
            color=color,
            line_width=1 if dash else 2,
            line_dash=dash[0] if dash else "solid",
            legend_label=label,
        )
    fig.legend.location = legend
    fig.legend.label_text_font_size = "9px"


def source(name: str, **columns) -> ColumnDataSource:
    """A named data source (the browser tests read plots' data by name)."""
    return ColumnDataSource({k: list(v) for k, v in columns.items()}, name=name)


def image_grid(title, name, palette, low, high, *, width=PLOT_WIDTH, height=PLOT_HEIGHT):
    """A figure showing one image array (``source.data['image'][0]``) with fixed colours."""
    fig = figure(
        title=title,
        frame_width=width - 60,
        frame_height=height - 40,
        tools="pan,wheel_zoom,reset,save",
        x_range=(0, 1),
        y_range=(0, 1),
    )
    fig.toolbar.logo = None
    fig.axis.visible = False
    fig.grid.visible = False
    src = ColumnDataSource(
        {"image": [np.full((1, 1), np.nan)], "x": [0], "y": [0], "dw": [1], "dh": [1]}, name=name
    )
    fig.tags = [width - 60, height - 40]  # the box show_image fits images into
    mapper = LinearColorMapper(palette=list(palette), low=low, high=high, nan_color="white")
    fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=src, color_mapper=mapper)
    return fig, src


def show_image(fig, src, image) -> None:
    """Put ``image`` (2-d, row 0 at the top) into an :func:`image_grid` figure."""
    img = np.asarray(image, dtype=np.float64)[::-1]  # Bokeh draws row 0 at the bottom
    h, w = img.shape
    src.data = {"image": [img], "x": [0], "y": [0], "dw": [w], "dh": [h]}
    fig.x_range.start, fig.x_range.end = 0, w
    fig.y_range.start, fig.y_range.end = 0, h
    # Square pixels: the largest frame of the image's aspect inside the box.
    box_w, box_h = fig.tags[:2]
    scale = min(box_w / w, box_h / h)
    fig.frame_width, fig.frame_height = max(20, int(w * scale)), max(20, int(h * scale))


def square_shape(n: int) -> tuple[int, int]:
    """Rows and columns of a near-square image of ``n`` pixels (rows × cols ≥ n)."""
    r = int(math.isqrt(n))
    if r * r == n:
        return r, r
    for rows in range(r, 0, -1):
        if n % rows == 0 and n // rows <= 2 * rows:
            return rows, n // rows
    cols = math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols


def as_image(vector, shape=None) -> np.ndarray:
    """A 1-d vector as a 2-d image (``shape`` or near square; padding is NaN)."""
    v = np.asarray(vector, dtype=np.float64).ravel()
    rows, cols = shape or square_shape(v.size)
    out = np.full(rows * cols, np.nan)
    out[: v.size] = v
    return out.reshape(rows, cols)


def tile_images(images, cols: int, gap: int = 1) -> np.ndarray:
    """Images of one shape side by side in ``cols`` columns, separated by NaN gaps."""
    images = [np.asarray(im, dtype=np.float64) for im in images]
    if not images:
        return np.full((1, 1), np.nan)
    h, w = images[0].shape
    rows = math.ceil(len(images) / cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan)
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = im
    return out


def metrics_markdown(metrics: dict) -> str:
    rows = []
    for k, v in metrics.items():
        if isinstance(v, float):
            v = f"{v:.4g}"
        rows.append(f"| {k} | {v} |")
    return "| metric | value |\n|---|---|\n" + "\n".join(rows) if rows else ""


def dumps(obj) -> str:
    return json.dumps(obj, indent=1)
