"""Background work of the screens: training jobs and re-evaluations.

IVISIT runs ``step()`` on the GUI thread, so a long step freezes the window.
Here the model works in a thread of its own (the Rust kernels release the
GIL) and publishes a *snapshot* (plain arrays for the plots) after every
step; the page polls the snapshot and stays responsive.

Both classes are free of Panel, so scripts and tests can drive them.

:class:`TrainingJob` runs a *session* epoch by epoch. A session is any
object with

* ``step()``: one epoch (or chunk) of training, through the estimator's
  public API (``partial_fit``);
* ``done``: whether the planned epochs are over;
* ``progress``: ``(steps done, steps planned)``;
* ``snapshot()``: a dict of plot data (a fresh object each call);
* ``metrics()`` and ``curves()``: what the run store records.

:class:`Evaluation` runs a function of the parameters again whenever they
change, always for the latest parameters (older requests are dropped), and
records each completed evaluation as a run.
"""

from __future__ import annotations

import threading
import time
import traceback
import weakref
from collections.abc import Callable

__all__ = ["Evaluation", "TrainingJob", "stop_all"]

_OPEN: weakref.WeakSet = weakref.WeakSet()  # jobs whose thread was started


def stop_all(timeout: float = 5.0) -> None:
    """Stop every open run (the server is shutting down) so each is recorded as stopped."""
    jobs = [j for j in list(_OPEN) if j.active]
    for job in jobs:
        job.stop()
    end = time.monotonic() + timeout
    for job in jobs:
        job.join(max(0.0, end - time.monotonic()))


class TrainingJob:
    """One run of a session in a background thread: start, pause, step, stop.

    Parameters
    ----------
    make_session : callable
        ``make_session() -> session``; called in the worker thread (data
        loading can take a while).
    store : RunStore or None
        Where the run is recorded (``None``: not recorded).
    model, params, seed :
        What the run store records for this run.

    States: ``"idle"`` (not started), ``"running"``, ``"paused"``,
    ``"finished"`` (all epochs done), ``"stopped"``, ``"failed"``.
    """

    def __init__(self, make_session: Callable, store, model: str, params: dict, seed):
        self._make_session = make_session
        self.store = store
        self.model = model
        self.params = dict(params)
        self.seed = seed
        self.state = "idle"
        self.error: str | None = None
        self.run_id: int | None = None
        self.version = 0  # bumped after every published snapshot
        self.progress = (0, 0)
        self._snapshot: dict | None = None
        self._pending = 0  # single steps requested while paused
        self._stop = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ control
    @property
    def active(self) -> bool:
        """Running or paused (the run is open)."""
        return self.state in ("running", "paused")

    @property
    def snapshot(self) -> dict | None:
        return self._snapshot

    def start(self) -> None:
        """Start the run, or resume it when paused."""
        with self._cond:
            if self.state == "idle":
                self._launch("running")
            elif self.state == "paused":
                self.state = "running"
                self._cond.notify_all()

    def pause(self) -> None:
        """Pause after the current step."""
        with self._cond:
            if self.state == "running":
                self.state = "paused"

    def step(self) -> None:
        """Run exactly one step, then stay paused (starts the run when idle)."""
        with self._cond:
            if self.state == "idle":
                self._pending = 1
                self._launch("paused")
            elif self.state == "paused":
                self._pending += 1
                self._cond.notify_all()

    def stop(self, wait: float | None = None) -> None:
        """End the run after the current step (recorded as ``"stopped"``)."""
        with self._cond:
            if self.state == "idle":
                self.state = "stopped"
                return
            self._stop = True
            self._cond.notify_all()
        if wait is not None and self._thread is not None:
            self._thread.join(wait)

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _launch(self, state: str) -> None:
        _OPEN.add(self)
        self.state = state
        self._thread = threading.Thread(
            target=self._work, name=f"explore-{self.model}", daemon=True
        )
        self._thread.start()

    # ------------------------------------------------------------ worker
    def _idle(self) -> bool:
        return not self._stop and self.state == "paused" and self._pending == 0

    def _wait_for_work(self) -> bool:
        """Block until a step may run; False when the run must end. The run
        store shows a paused run as ``"paused"``."""
        with self._cond:
            waits = self._idle()
        if waits:
            self._mark("paused")
        with self._cond:
            while self._idle():
                self._cond.wait()
            if self._stop:
                return False
            if self.state == "paused":
                self._pending -= 1
        if waits:
            self._mark("running")
        return True

    def _mark(self, status: str) -> None:
        if self.store is not None and self.run_id is not None:
            self.store.update_run(self.run_id, status=status)

    def _work(self) -> None:
        try:
            if self.store is not None:
                self.run_id = self.store.start_run(self.model, self.params, self.seed)
            session = self._make_session()
            self._publish(session)
            while not session.done:
                if not self._wait_for_work():
                    self._end(session, "stopped")
                    return
                session.step()
                self._publish(session)
                if self.store is not None:
                    self.store.update_run(
                        self.run_id, metrics=session.metrics(), curves=session.curves()
                    )
            self._end(session, "finished")
        except Exception as exc:  # shown on the page; the run is kept as failed
            self.error = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
            with self._cond:
                self.state = "failed"
            if self.store is not None and self.run_id is not None:
                try:
                    self.store.finish_run(
                        self.run_id, metrics={"error": self.error}, status="failed"
                    )
                except Exception:
                    traceback.print_exc()
            self.version += 1

    def _publish(self, session) -> None:
        self._snapshot = session.snapshot()
        self.progress = tuple(session.progress)
        self.version += 1

    def _end(self, session, status: str) -> None:
        if self.store is not None:
            self.store.finish_run(
                self.run_id, metrics=session.metrics(), curves=session.curves(), status=status
            )
        with self._cond:
            self.state = status
        self.version += 1


class Evaluation:
    """Re-run ``evaluate(params)`` in a background thread, latest request first.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(params: dict, cancelled: Callable[[], bool]) -> (snapshot, metrics,
        curves)``; it may return early (``None``) when ``cancelled()`` turns true.
    store : RunStore or None
        Every completed evaluation is recorded as a finished run.
    model : str
    """

    def __init__(self, evaluate: Callable, store, model: str):
        self._evaluate = evaluate
        self.store = store
        self.model = model
        self.version = 0
        self.snapshot: dict | None = None
        self.error: str | None = None
        self.run_id: int | None = None
        self.busy = False
        self.seconds = 0.0  # wall time of the last completed evaluation
        self._latest: dict | None = None
        self._serial = 0
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name=f"explore-{model}", daemon=True)
        self._thread.start()

    def submit(self, params: dict, seed=None) -> None:
        """Evaluate ``params`` (replacing any request not started yet)."""
        with self._cond:
            self._serial += 1
            self._latest = {"params": dict(params), "seed": seed, "serial": self._serial}
            self.busy = True
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until no request is pending or running (for scripts and tests)."""
        end = time.monotonic() + timeout
        while self.busy and time.monotonic() < end:
            time.sleep(0.01)
        return not self.busy

    def _same_as_last(self, job) -> int | None:
        """The latest run of this model when it had the same parameters and seed
        (opening the page again re-evaluates what is already recorded)."""
        last = self.store.runs(self.model, limit=1)
        if last and last[0].params == job["params"] and last[0].seed == job["seed"]:
            return last[0].id
        return None

    def _work(self) -> None:
        while True:
            with self._cond:
                while self._latest is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                job, self._latest = self._latest, None
            serial = job["serial"]

            def cancelled(serial=serial):
                return self._closed or self._serial != serial

            started = time.time()
            t0 = time.perf_counter()
            try:
                out = self._evaluate(job["params"], cancelled)
            except Exception as exc:
                self.error = f"{type(exc).__name__}: {exc}"
                out = None
            else:
                self.error = None
            if out is not None and not cancelled():
                snapshot, metrics, curves = out
                self.seconds = time.perf_counter() - t0
                if self.store is not None:
                    try:
                        self.run_id = self._same_as_last(job) or self.store.record_run(
                            self.model,
                            job["params"],
                            job["seed"],
                            metrics=dict(metrics, seconds=self.seconds),
                            curves=curves,
                            started_at=started,
                        )
                    except Exception as exc:
                        self.error = f"the run was not recorded: {exc}"
                self.snapshot = snapshot
            with self._cond:
                if self._latest is None:
                    self.busy = False
            self.version += 1
