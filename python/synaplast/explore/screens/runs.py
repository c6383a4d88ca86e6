"""Screen 5: the runs table (filter, sort), two runs compared, JSON export and import."""

from __future__ import annotations

import io

import pandas as pd
import panel as pn

from synaplast.explore.store import RunStoreError
from synaplast.explore.widgets import COLORS, line_figure

__all__ = ["RunsScreen"]

MODELS = ("associative", "structural", "competitive", "eprop")


class RunsScreen:
    """Every recorded run, from the screens and from scripts sharing the database."""

    title = "Runs"

    def __init__(self, store):
        self.store = store
        self.model = pn.widgets.Select(label="Model", options=["all", *MODELS], width=150)
        self.status_filter = pn.widgets.Select(
            label="Status",
            options=["all", "running", "paused", "finished", "stopped", "failed"],
            width=150,
        )
        self.table = pn.widgets.Tabulator(
            pd.DataFrame(),
            selectable="checkbox",
            header_filters=True,
            pagination="local",
            page_size=12,
            show_index=False,
            disabled=True,
            layout="fit_data_table",
            sizing_mode="stretch_width",
        )
        self.compare_button = pn.widgets.Button(label="Compare selected", color="primary")
        self.delete_button = pn.widgets.Button(label="Delete selected", color="danger")
        self.refresh_button = pn.widgets.Button(label="Refresh")
        self.label = pn.widgets.TextInput(placeholder="label for the selected runs", width=220)
        self.label_button = pn.widgets.Button(label="Set label")
        self.download = pn.widgets.FileDownload(
            callback=self._export, filename="runs.json", label="Export selected"
        )
        self.upload = pn.widgets.FileInput(accept=".json", label="Import")
        self.message = pn.pane.Markdown("")
        self.comparison = pn.Column()
        self.compare_button.on_click(self._compare)
        self.delete_button.on_click(self._delete)
        self.refresh_button.on_click(lambda _e: self.refresh(force=True))
        self.label_button.on_click(self._label)
        self.upload.param.watch(self._import, "value")
        self.model.param.watch(lambda _e: self.refresh(force=True), "value")
        self.status_filter.param.watch(lambda _e: self.refresh(force=True), "value")
        self._token = None
        self.refresh(force=True)

    @property
    def panel(self):
        return pn.Column(
            pn.pane.Markdown(
                "### Runs\nEvery run of every screen, and of scripts using "
                "`synaplast.explore.RunStore` on the same database. Sort by a column header, "
                "filter under it; tick two runs to compare them.",
            ),
            pn.Row(self.model, self.status_filter, self.refresh_button),
            self.table,
            pn.Row(
                self.compare_button,
                self.delete_button,
                self.label,
                self.label_button,
                self.download,
                self.upload,
            ),
            self.message,
            self.comparison,
            sizing_mode="stretch_width",
        )

    def say(self, text: str) -> None:
        self.message.object = text

    # ------------------------------------------------------------ data
    def refresh(self, force: bool = False) -> None:
        try:
            token = self.store.last_change()
        except RunStoreError as exc:
            self.say(f"⚠ {exc}")
            return
        if not force and token == self._token:
            return
        self._token = token
        model = None if self.model.value == "all" else self.model.value
        status = None if self.status_filter.value == "all" else self.status_filter.value
        selected = set(self._selected_ids())
        df = self.store.runs_frame(model, status=status)
        if "params" in df:
            df["params"] = df["params"].str.slice(0, 120)
        self.table.value = df
        if selected and len(df):
            self.table.selection = [i for i, rid in enumerate(df["id"]) if rid in selected]

    def _selected_ids(self) -> list[int]:
        df = self.table.value
        if df is None or not len(df) or "id" not in df:
            return []
        return [int(df["id"].iloc[i]) for i in self.table.selection if i < len(df)]

    def poll(self) -> None:
        self.refresh()

    def close(self) -> None:
        pass

    # ------------------------------------------------------------ actions
    def _compare(self, _event=None) -> None:
        ids = self._selected_ids()
        if len(ids) != 2:
            self.say(f"⚠ tick exactly two runs to compare ({len(ids)} ticked)")
            return
        cmp = self.store.compare(*ids)
        a, b = cmp["a"], cmp["b"]
        rows = [f"| | run {a.id} ({a.model}) | run {b.id} ({b.model}) |", "|---|---|---|"]
        rows.append(f"| status | {a.status} | {b.status} |")
        rows.append(f"| version | {a.version} | {b.version} |")
        rows.append(f"| duration (s) | {_fmt(a.duration)} | {_fmt(b.duration)} |")
        for k, (va, vb) in cmp["metrics"].items():
            rows.append(f"| **{k}** | {_fmt(va)} | {_fmt(vb)} |")
        rows.append("| *parameters that differ* | | |")
        for k, (va, vb) in cmp["params"].items():
            rows.append(f"| {k} | {_fmt(va)} | {_fmt(vb)} |")
        figs = []
        for name in sorted(set(a.curves) | set(b.curves)):
            fig = line_figure(name, "x", name, width=380, height=230)
            for run, color in ((a, COLORS[0]), (b, COLORS[1])):
                if name in run.curves:
                    x, y = run.curves[name]
                    fig.line(x, y, color=color, line_width=2, legend_label=f"run {run.id}")
            fig.legend.label_text_font_size = "9px"
            figs.append(pn.pane.Bokeh(fig))
        self.comparison.objects = [
            pn.pane.Markdown(f"### Run {a.id} against run {b.id}"),
            pn.Row(
                pn.pane.Markdown("\n".join(rows)), pn.FlexBox(*figs, sizing_mode="stretch_width")
            ),
        ]
        self.say("")

    def _delete(self, _event=None) -> None:
        ids = self._selected_ids()
        for rid in ids:
            self.store.delete_run(rid)
        self.say(f"Deleted {len(ids)} run(s)")
        self.refresh(force=True)

    def _label(self, _event=None) -> None:
        ids = self._selected_ids()
        for rid in ids:
            self.store.set_label(rid, self.label.value)
        self.say(f"Labelled {len(ids)} run(s)")
        self.refresh(force=True)

    def _export(self):
        ids = self._selected_ids()
        if not ids:
            self.say("⚠ tick the runs to export")
            return io.StringIO("[]")
        self.download.filename = f"runs-{'-'.join(map(str, ids[:5]))}.json"
        return io.StringIO(self.store.export_json([self.store.export_run(rid) for rid in ids]))

    def _import(self, event) -> None:
        if not event.new:
            return
        try:
            out = self.store.import_json(event.new)
        except (ValueError, KeyError, TypeError, RunStoreError) as exc:
            self.say(f"⚠ {exc}")
            return
        new = sum(1 for kind, key in out if kind == "run" and key is not None)
        dup = sum(1 for kind, key in out if kind == "run" and key is None)
        sets = sum(1 for kind, _ in out if kind == "param_set")
        self.say(f"Imported {new} run(s) ({dup} already here) and {sets} parameter set(s)")
        self.refresh(force=True)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "–" if v is None else str(v)
