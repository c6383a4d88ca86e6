"""The explorer's model work without a browser: parameters, jobs, screens' sessions."""

import threading
import time

import numpy as np
import pytest

pytest.importorskip("panel", reason="the explorer needs the extra: pip install synaplast[explore]")

from synaplast.explore import RunStore  # noqa: E402
from synaplast.explore.jobs import Evaluation, TrainingJob  # noqa: E402
from synaplast.explore.screens import competitive, eprop, memory, structural  # noqa: E402


def test_params_json_round_trip_and_atomic_load():
    p = memory.MemoryParams(n=500, rule="bayes")
    d = p.to_dict()
    assert "name" not in d and d["n"] == 500 and d["rule"] == "bayes"
    q = memory.MemoryParams()
    ignored = q.from_dict({**d, "removed_in_a_later_version": 1})
    assert ignored == ["removed_in_a_later_version"] and q.to_dict() == d
    with pytest.raises(ValueError, match="n_patterns"):
        q.from_dict({"n": 800, "n_patterns": 10**9})
    assert q.n == 500  # nothing applied
    with pytest.raises(ValueError):
        q.from_dict({"rule": "no such rule"})


def test_memory_evaluation_matches_monte_carlo_and_theory():
    # Knoblauch, Palm & Sommer 2010 setting: n = m = 1,000, k = l = 10, M = 5,083, clean full
    # queries: the closed form gives ε = 0.01, Monte Carlo ε ≈ 0.0145.
    snap, metrics, curves = memory.evaluate(
        dict(association="hetero", n=1000, k=10, n_patterns=5083, miss=0.0, n_queries=1000, seed=3)
    )
    assert 0.010 < metrics["eps"] < 0.020
    assert abs(metrics["p1"] - 0.398) < 0.01
    p1, eps, _ = memory.willshaw_curves(1000, 10, [5083], 0, auto=False)
    assert abs(p1[0] - 0.399) < 0.002 and abs(eps[0] - 0.01) < 0.0015
    # Points only where every cue addresses a stored pattern (M >= 1,000 cues).
    assert curves["eps"][0] == snap["curve"]["M"] and min(snap["curve"]["M"]) >= 1000
    assert np.all(np.diff(snap["curve"]["p1"]) > 0)  # the load grows with M
    # Image strip: pattern, cue and one retrieval step (hetero), codes 0..3.
    assert snap["labels"] == ["stored pattern", "cue (−0, +0)", "step 1"]
    assert set(np.unique(snap["images"][~np.isnan(snap["images"])])) <= {0, 1, 2, 3}


def test_memory_iterative_retrieval_and_cancel():
    snap, metrics, _ = memory.evaluate(dict(n=600, k=8, n_patterns=1500, miss=0.5, n_iter=3))
    assert snap["labels"][-1] == "step 3" and 0 <= metrics["eps"] < 1
    assert memory.evaluate(dict(n=600, n_patterns=1500), cancelled=lambda: True) is None
    # ANE needs the Bayesian rule; the mapping only asks for it there.
    p = memory.MemoryParams(rule="bayes", ane=True, miss=0.3)
    assert p.estimator_params()["noise_estimation"] == "adaptive"
    assert "noise_estimation" not in memory.MemoryParams(ane=True).estimator_params()


class _Countdown:
    def __init__(self, n, fail_at=None, gate=None):
        self.n, self.i, self.fail_at, self.gate = n, 0, fail_at, gate
        self.entered = threading.Event()  # set when a step begins

    done = property(lambda self: self.i >= self.n)
    progress = property(lambda self: (self.i, self.n))

    def step(self):
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(5)
        if self.i == self.fail_at:
            raise ValueError("diverged")
        self.i += 1

    def snapshot(self):
        return {"i": self.i}

    def metrics(self):
        return {"i": self.i}

    def curves(self):
        return {"i": (list(range(self.i)), list(range(self.i)))}


def _wait(cond, timeout=10, msg=lambda: ""):
    end = time.monotonic() + timeout
    while not cond() and time.monotonic() < end:
        time.sleep(0.01)
    assert cond(), msg()


def test_training_job_start_pause_step_stop_and_records(tmp_path):
    store = RunStore(tmp_path / "r.sqlite")
    gate = threading.Event()
    session = _Countdown(50, gate=gate)
    job = TrainingJob(lambda: session, store, "test", {"a": 1}, 7)
    job.step()  # from idle: exactly one step, then paused
    gate.set()
    _wait(lambda: job.progress == (1, 50))
    time.sleep(0.05)
    assert job.state == "paused" and job.progress == (1, 50)
    _wait(lambda: store.get_run(job.run_id).status == "paused")  # the table shows it
    job.step()
    job.step()
    _wait(lambda: job.progress == (3, 50))
    gate.clear()
    session.entered.clear()
    job.start()
    assert session.entered.wait(5)  # a step is under way ...
    job.pause()  # ... and the pause waits for its end
    gate.set()
    _wait(lambda: job.snapshot["i"] == 4)
    time.sleep(0.05)
    at = job.progress[0]
    time.sleep(0.1)
    assert job.state == "paused" and job.progress[0] == at  # paused means no steps
    job.stop(wait=5)
    assert job.state == "stopped"
    run = store.get_run(job.run_id)
    assert (run.status, run.params, run.seed, run.metrics) == ("stopped", {"a": 1}, 7, {"i": at})
    assert run.curves["i"][0] == list(range(at))
    done = TrainingJob(lambda: _Countdown(3), store, "test", {}, 0)
    done.start()
    done.join(5)
    assert done.state == "finished" and store.get_run(done.run_id).metrics == {"i": 3}
    bad = TrainingJob(lambda: _Countdown(5, fail_at=2), store, "test", {}, 0)
    bad.start()
    bad.join(5)
    assert bad.state == "failed" and "diverged" in bad.error
    assert store.get_run(bad.run_id).status == "failed"


def test_evaluation_latest_request_wins(tmp_path):
    store = RunStore(tmp_path / "r.sqlite")
    seen = []

    def slow(params, cancelled):
        seen.append(params["x"])
        for _ in range(20):
            if cancelled():
                return None
            time.sleep(0.01)
        return {"x": params["x"]}, {"x": params["x"]}, {}

    ev = Evaluation(slow, store, "test")
    for x in range(5):
        ev.submit({"x": x}, seed=0)
    assert ev.wait(10)
    assert ev.snapshot == {"x": 4}
    runs = store.runs("test")
    assert [r.params["x"] for r in runs] == [4]  # superseded requests are not recorded
    assert runs[0].metrics["seconds"] > 0
    assert seen[-1] == 4 and len(seen) <= 3
    ev.close()


def test_structural_session_epochs():
    p = structural.StructuralParams(dataset="digits", n_hidden=20, epochs=3, max_train=500)
    s = structural.StructuralSession(p)
    assert s.snapshot()["history"]["epoch"] == [] and not s.done
    for _ in range(3):
        s.step()
    assert s.done and s.progress == (3, 3)
    snap = s.snapshot()
    assert snap["history"]["epoch"] == [1, 2, 3]
    assert snap["synapses"] == s.est.synapse_history_ and len(snap["synapses"]) == 4
    assert snap["fields"].shape[0] >= 8  # 8x8 digit fields tiled
    assert (
        abs(np.sum(snap["hist"]["density"] * (snap["hist"]["right"] - snap["hist"]["left"])) - 1)
        < 1e-9
    )
    m = s.metrics()
    assert m["epochs"] == 3 and 0 <= m["accuracy"] <= 1 and m["writes"] > 0
    assert s.curves()["accuracy"] == ([1, 2, 3], snap["history"]["accuracy"])


def test_competitive_session_compares_with_backprop():
    p = competitive.CompetitiveParams(
        dataset="digits", n_hidden=20, update_fraction=0.1, chunk=300, epochs=0.5, max_train=1000
    )
    s = competitive.CompetitiveSession(p)
    while not s.done:
        s.step()
    m = s.metrics()
    assert s.progress == (2, 2) and m["samples"] == 600
    # Writing the top 10% of updates costs about a tenth of plain backprop's writes.
    assert 5 < m["M0_saving"] < 15
    assert m["frugal_M0"] >= m["frugal_M0_min"] > 0
    assert p.backprop_params()["hidden_layer_sizes"] == (20,)


def test_eprop_session_raster_and_readout():
    p = eprop.EPropParams(n_rec=30, n_in=20, n_steps=200, iterations=6)
    s = eprop.EPropSession(p)
    s.step()
    s.step()
    assert s.done and s.progress == (6, 6)
    snap = s.snapshot()
    raster = s.est.record_spikes(s.X)[0]
    assert len(snap["raster"]["t"]) == raster.sum() > 0
    assert np.array_equal(snap["target"]["readout"], s.est.predict_sequence(s.X).ravel())
    assert len(snap["loss"]["loss"]) == 6
    x, y = eprop.sine_task(20, 200, 0.05, 0)
    assert x.shape == (1, 200, 20) and np.abs(y).max() == pytest.approx(1.0)


def test_stop_all_ends_open_runs_as_stopped(tmp_path):
    from synaplast.explore.jobs import stop_all

    store = RunStore(tmp_path / "r.sqlite")
    job = TrainingJob(lambda: _Countdown(10**6), store, "test", {}, 0)
    job.start()
    _wait(lambda: job.progress[0] > 0)
    stop_all(timeout=5)
    assert job.state == "stopped" and store.get_run(job.run_id).status == "stopped"


def test_cli_explore_refuses_a_corrupt_database(tmp_path, capsys):
    from synaplast import cli

    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database" * 400)
    assert cli.main(["explore", "--db", str(junk), "--port", "0", "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert "not an SQLite database" in err and str(junk) in err
    assert junk.read_bytes() == b"not a database" * 400


def test_screen_opens_with_its_default_set_even_a_broken_one(tmp_path):
    store = RunStore(tmp_path / "r.sqlite")
    store.save_params("structural", "bad", {"n_hidden": 10**9})
    store.set_default("structural", "bad")
    screen = structural.StructuralScreen(store)
    assert screen.params.n_hidden != 10**9 and "cannot load" in screen.sets.message.object
    store.save_params("structural", "old", {"n_hidden": 42, "removed_knob": 1})
    store.set_default("structural", "old")
    screen = structural.StructuralScreen(store)
    assert screen.params.n_hidden == 42 and screen.widgets["n_hidden"].value == 42
    assert "removed_knob" in screen.sets.message.object
