"""What every screen shares: the data sets and the training-screen frame.

A training screen is a :class:`TrainingScreen` subclass naming its
parameter class (``Params``), its session class (``Session``, the model
work, free of Panel) and its plots (``make_plots`` / ``update_plots``).
"""

from __future__ import annotations

import threading

import numpy as np
import panel as pn

from synaplast import datasets
from synaplast.explore.jobs import TrainingJob
from synaplast.explore.widgets import (
    SIDEBAR_WIDTH,
    ParamSetBar,
    RunControls,
    param_widgets,
    set_disabled,
)

__all__ = ["DATASETS", "TrainingScreen", "default_dataset", "load_data"]

#: Data sets of the classifier screens: name -> (loader, image shape).
DATASETS = ("digits", "mnist-126", "mnist")
_cache: dict = {}
_cache_lock = threading.Lock()


def default_dataset() -> str:
    """MNIST digits 1, 2 and 6 (the structural paper's setting) when MNIST is
    installed, else scikit-learn's digits."""
    return "mnist-126" if datasets.mnist_available() else "digits"


def load_data(name: str, max_train: int, seed: int):
    """``(X_train, y_train, X_test, y_test, image_shape)``, at most ``max_train``
    training samples (a seeded random subset). Loaded once per process."""
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {name!r}")
    with _cache_lock:
        if name not in _cache:
            if name == "digits":
                _cache[name] = (*datasets.load_digits(), (8, 8))
            else:
                subset = (1, 2, 6) if name == "mnist-126" else None
                _cache[name] = (*datasets.load_mnist(subset=subset), (28, 28))
        X_tr, y_tr, X_te, y_te, shape = _cache[name]
    if max_train and max_train < len(X_tr):
        keep = np.sort(np.random.default_rng(seed).choice(len(X_tr), max_train, replace=False))
        X_tr, y_tr = X_tr[keep], y_tr[keep]
    return X_tr, y_tr, X_te, y_te, shape


class TrainingScreen:
    """Parameters, parameter sets and run controls beside live plots of a training run.

    Parameters are locked while a run is open (running or paused), so what
    the run store records is what ran; *Reset* ends the run and unlocks them.
    """

    title = ""
    Params = None  # a ModelParams subclass
    Session = None  # callable(params) -> session (see synaplast.explore.jobs)
    overrides: dict = {}

    def __init__(self, store):
        self.store = store
        self.params = self.Params()
        self.widgets = param_widgets(
            self.params,
            self.params.names(),
            overrides={"seed": pn.widgets.IntInput, **self.overrides},
        )
        self.sets = ParamSetBar(store, self.params)
        self.controls = RunControls()
        self.sets.load_default()
        self.job: TrainingJob | None = None
        self._seen = -1
        self._last_state = None
        c = self.controls
        c.start.on_click(self._start)
        c.pause.on_click(self._pause)
        c.step.on_click(self._step)
        c.reset.on_click(self._reset)
        self.make_plots()

    # ------------------------------------------------------------ layout
    def make_plots(self) -> None:
        raise NotImplementedError

    def update_plots(self, snapshot: dict) -> None:
        raise NotImplementedError

    def clear_plots(self) -> None:
        raise NotImplementedError

    def plot_panel(self):
        raise NotImplementedError

    @property
    def panel(self):
        sidebar = pn.Column(
            pn.pane.Markdown(f"### {self.title}", margin=(0, 10)),
            *self.widgets.values(),
            self.sets.panel,
            self.controls.panel,
            width=SIDEBAR_WIDTH,
        )
        return pn.Row(sidebar, self.plot_panel())

    # ------------------------------------------------------------ control
    def _new_job(self) -> TrainingJob:
        values = self.params.to_dict()
        frozen = self.Params(**values)  # the session's own copy
        session_cls = self.Session
        return TrainingJob(
            lambda: session_cls(frozen), self.store, self.params.model, values, frozen.seed
        )

    def _fresh(self) -> bool:
        return self.job is None or self.job.state in ("finished", "stopped", "failed")

    def _start(self, _event=None) -> None:
        if self._fresh():
            self.job = self._new_job()
        self.job.start()
        self.poll()

    def _pause(self, _event=None) -> None:
        if self.job is not None:
            self.job.pause()
        self.poll()

    def _step(self, _event=None) -> None:
        if self._fresh():
            self.job = self._new_job()
        self.job.step()
        self.poll()

    def _reset(self, _event=None) -> None:
        if self.job is not None and self.job.active:
            self.job.stop()
        self.job = None
        self._seen = -1
        self.clear_plots()
        self.poll()

    def close(self) -> None:
        """End an open run (the browser tab went away)."""
        if self.job is not None and self.job.active:
            self.job.stop()

    # ------------------------------------------------------------ polling
    def poll(self) -> None:
        """Called a few times a second: publish the job's progress and new snapshot."""
        job = self.job
        c = self.controls
        if job is None:
            state, text = "idle", "Ready: parameters apply to the next run."
            c.progress.value = 0
        else:
            state = job.state
            done, total = job.progress
            c.progress.value = int(100 * done / total) if total else 0
            run = f"run {job.run_id}" if job.run_id is not None else "run"
            text = {
                "idle": "Starting…",
                "running": f"Running {run}: step {done} of {total}",
                "paused": f"Paused {run} at step {done} of {total}",
                "finished": f"Finished {run} ({done} steps); Start begins a new run",
                "stopped": f"Stopped {run} at step {done}",
                "failed": f"⚠ {run} failed: {job.error}",
            }[state]
            if job.version != self._seen and job.snapshot is not None:
                self._seen = job.version
                self.update_plots(job.snapshot)
        if c.status.object != text:
            c.status.object = text
        if state != self._last_state:
            self._last_state = state
            locked = job is not None and job.active
            set_disabled([*self.widgets.values(), *self.sets.widgets], locked)
            c.pause.disabled = state != "running"
            c.start.disabled = state == "running"
            c.step.disabled = state == "running"
