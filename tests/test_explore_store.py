"""RunStore: runs, parameter sets, JSON round trips, migrations, concurrency, bad files."""

import json
import multiprocessing as mp
import sqlite3
import threading

import numpy as np
import pytest

import synaplast
from synaplast.explore import RunStore, RunStoreError
from synaplast.explore import store as store_mod


@pytest.fixture
def db(tmp_path):
    return tmp_path / "runs.sqlite"


def test_run_lifecycle_and_queries(db):
    s = RunStore(db)
    assert s.schema_version == store_mod.SCHEMA_VERSION
    rid = s.start_run("structural", {"n_hidden": np.int64(50), "lr": np.float32(0.5)}, seed=3)
    run = s.get_run(rid)
    assert run.status == "running" and run.finished_at is None and run.duration is None
    assert run.params == {"n_hidden": 50, "lr": 0.5}
    assert run.version == synaplast.__version__
    assert run.environment["numpy"] == np.__version__ and run.environment["threads"] >= 1
    s.update_run(rid, metrics={"accuracy": 0.5}, curves={"acc": ([1], [0.5])})
    s.finish_run(
        rid,
        metrics={"accuracy": 0.9, "loss": float("nan")},
        curves={"acc": (np.arange(1, 4), np.array([0.5, 0.8, 0.9]))},
    )
    run = s.get_run(rid)
    assert run.status == "finished" and run.duration >= 0
    assert run.metrics == {"accuracy": 0.9, "loss": None}  # NaN is stored as null
    assert run.curves == {"acc": ([1, 2, 3], [0.5, 0.8, 0.9])}
    other = s.record_run("structural", {"n_hidden": 10}, seed=4, metrics={"accuracy": 0.7})
    s.record_run("memory", {"n": 1000}, seed=0, metrics={"eps": 0.01}, status="stopped")
    by_acc = s.runs("structural", order_by="metrics.accuracy", descending=False)
    assert [r.id for r in by_acc] == [other, rid]
    assert [r.id for r in s.runs(order_by="params.n_hidden")][:2] == [rid, other]
    assert [r.model for r in s.runs(status="stopped")] == ["memory"]
    assert s.count_runs() == 3 and s.count_runs("memory") == 1
    frame = s.runs_frame()
    assert len(frame) == 3 and "metric.accuracy" in frame.columns
    cmp = s.compare(rid, other)
    assert cmp["params"] == {"n_hidden": (50, 10), "lr": (0.5, None), "seed": (3, 4)}
    assert cmp["metrics"]["accuracy"] == (0.9, 0.7)
    token = s.last_change()
    s.set_label(other, "baseline")
    assert s.last_change() != token and s.get_run(other).label == "baseline"
    s.delete_run(other)
    assert s.count_runs("structural") == 1
    with pytest.raises(KeyError):
        s.get_run(other)
    with pytest.raises(ValueError, match="order_by"):
        s.runs(order_by="id; DROP TABLE runs")
    with pytest.raises(ValueError, match="status"):
        s.finish_run(rid, status="exploded")
    with pytest.raises(ValueError, match="x values"):
        s.update_run(rid, curves={"bad": ([1, 2], [1])})
    with pytest.raises(TypeError, match="cannot store"):
        s.start_run("structural", {"estimator": object()})
    assert s.count_runs() == 2  # the failed calls wrote nothing


def test_parameter_sets(db):
    s = RunStore(db)
    s.save_params("memory", "small", {"n": 500, "k": 5})
    s.save_params("memory", "Big", {"n": 5000, "k": 12})
    s.save_params("structural", "small", {"n_hidden": 20})
    assert s.param_sets("memory") == ["Big", "small"]
    assert s.load_params("memory", "small") == {"n": 500, "k": 5}
    with pytest.raises(ValueError, match="already has"):
        s.save_params("memory", "small", {}, overwrite=False)
    s.save_params("memory", "small", {"n": 600, "k": 5})
    assert s.load_params("memory", "small")["n"] == 600
    assert s.default_params("memory") is None
    s.set_default("memory", "small")
    assert s.default_params("memory") == ("small", {"n": 600, "k": 5})
    s.set_default("memory", "Big")
    assert s.default_params("memory")[0] == "Big"
    s.rename_params("memory", "Big", "large")
    assert s.default_params("memory")[0] == "large"  # the default follows the rename
    with pytest.raises(ValueError, match="already has"):
        s.rename_params("memory", "large", "small")
    with pytest.raises(KeyError):
        s.rename_params("memory", "nope", "x")
    s.delete_params("memory", "large")
    assert s.default_params("memory") is None and s.param_sets("memory") == ["small"]
    with pytest.raises(KeyError):
        s.set_default("memory", "large")
    with pytest.raises(ValueError, match="non-empty name"):
        s.save_params("memory", "  ", {})
    assert s.param_sets("structural") == ["small"]


def test_json_export_import_round_trip(db, tmp_path):
    a = RunStore(db)
    rid = a.record_run(
        "eprop", {"n_rec": 100}, seed=1, metrics={"loss": 0.1}, curves={"loss": ([0, 1], [1, 0.1])}
    )
    a.save_params("eprop", "fast", {"n_rec": 50})
    path = tmp_path / "export.json"
    text = a.export_json([a.export_run(rid), a.export_params("eprop", "fast")], path)
    assert json.loads(text)[0]["kind"] == "synaplast.run"
    b = RunStore(tmp_path / "other.sqlite")
    out = b.import_json(path)
    assert out[0][0] == "run" and out[1] == ("param_set", ("eprop", "fast"))
    got = b.get_run(out[0][1])
    orig = a.get_run(rid)
    assert (got.uuid, got.params, got.metrics, got.curves, got.started_at) == (
        orig.uuid,
        orig.params,
        orig.metrics,
        orig.curves,
        orig.started_at,
    )
    assert b.import_json(text)[0] == ("run", None)  # same UUID: not duplicated
    assert b.count_runs() == 1
    assert b.load_params("eprop", "fast") == {"n_rec": 50}
    # Bad input is refused as a whole.
    with pytest.raises(ValueError, match="not a synaplast export"):
        b.import_json([a.export_params("eprop", "fast"), {"kind": "other"}])
    with pytest.raises(ValueError, match="not valid JSON"):
        b.import_json("{broken")
    assert b.count_runs() == 1


def _schema_1(path):
    """A database as schema 1 left it, with rows."""
    conn = sqlite3.connect(path)
    for sql in store_mod.MIGRATIONS[1]:
        conn.execute(sql)
    conn.execute(f"PRAGMA application_id = {store_mod.APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO runs (uuid, model, params, seed, version, started_at, finished_at, status, "
        "metrics) VALUES ('u1', 'memory', '{\"n\": 1000}', 7, '0.0.1', 1.0, 2.0, 'finished', "
        "'{\"eps\": 0.02}')"
    )
    conn.execute("INSERT INTO curves VALUES (1, 'eps', '[1, 2]', '[0.01, 0.02]')")
    conn.execute(
        "INSERT INTO param_sets (model, name, params, is_default, created_at, updated_at) "
        "VALUES ('memory', 'old', '{\"n\": 100}', 1, 1.0, 1.0)"
    )
    conn.commit()
    conn.close()


def test_migration_from_schema_1_keeps_rows_and_backs_up(db):
    _schema_1(db)
    s = RunStore(db)
    assert s.schema_version == store_mod.SCHEMA_VERSION
    run = s.get_run(1)
    assert (run.uuid, run.seed, run.metrics, run.label, run.environment) == (
        "u1",
        7,
        {"eps": 0.02},
        "",
        {},
    )
    assert run.curves == {"eps": ([1, 2], [0.01, 0.02])}
    assert s.default_params("memory") == ("old", {"n": 100})
    backup = db.with_name(db.name + ".v1.bak")
    conn = sqlite3.connect(backup)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    conn.close()
    # New columns work after the migration; reopening does not migrate again.
    s.set_label(1, "kept")
    assert RunStore(db).get_run(1).label == "kept"


def test_failed_migration_rolls_back(db, monkeypatch):
    _schema_1(db)
    broken = dict(store_mod.MIGRATIONS)
    broken[2] = (*store_mod.MIGRATIONS[2], "CREATE TABLE runs (x)")  # fails after the ALTERs
    monkeypatch.setattr(store_mod, "MIGRATIONS", broken)
    with pytest.raises(RunStoreError, match="migrating"):
        RunStore(db)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    cols = [r[1] for r in conn.execute("PRAGMA table_info(runs)")]
    assert "label" not in cols  # the ALTERs were rolled back too
    assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    conn.close()
    monkeypatch.undo()
    assert RunStore(db).get_run(1).uuid == "u1"


def test_newer_schema_and_foreign_databases_are_refused(db, tmp_path):
    RunStore(db).record_run("memory", {}, metrics={})
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {store_mod.SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(RunStoreError, match="newer than this synaplast"):
        RunStore(db)
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (t TEXT)")
    conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.commit()
    conn.close()
    with pytest.raises(RunStoreError, match="another program"):
        RunStore(other)
    conn = sqlite3.connect(other)
    assert conn.execute("SELECT t FROM notes").fetchall() == [("mine",)]
    conn.close()


def test_corrupt_files_give_a_clear_message_and_are_left_alone(db, tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(RunStoreError, match="not an SQLite database"):
        RunStore(junk)
    assert junk.read_bytes() == b"this is not a database at all" * 100
    # A real database with damaged pages.
    s = RunStore(db)
    for i in range(300):
        s.record_run("memory", {"i": i, "pad": "x" * 200}, seed=i, metrics={"eps": i})
    s.close()
    del s
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(db.read_bytes())
    page = 4096
    for off in range(2 * page, len(data) - page, 3 * page):
        data[off + 8 : off + 400] = b"\xff" * 392
    db.write_bytes(bytes(data))
    before = db.read_bytes()
    with pytest.raises(RunStoreError, match="corrupt"):
        RunStore(db)
    assert db.read_bytes() == before


def test_locked_database_fails_cleanly_and_loses_nothing(db):
    s = RunStore(db, timeout=0.2)
    s.record_run("memory", {"n": 1}, metrics={})
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(RunStoreError, match="locked by another writer"):
            s.record_run("memory", {"n": 2}, metrics={})
        with pytest.raises(RunStoreError, match="locked"):
            s.save_params("memory", "x", {})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [r.params for r in s.runs()] == [{"n": 1}]
    s.record_run("memory", {"n": 3}, metrics={})
    assert s.count_runs() == 2


def _writer(path, worker, n):
    s = RunStore(path, timeout=30)
    for i in range(n):
        rid = s.start_run("memory", {"worker": worker, "i": i}, seed=i)
        s.update_run(rid, curves={"eps": (list(range(5)), [0.1] * 5)})
        s.finish_run(rid, metrics={"eps": i / n})
        if i % 5 == 0:
            s.save_params("memory", f"w{worker}", {"i": i})


def test_concurrent_writers_processes_and_threads(db):
    RunStore(db)
    n = 25
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(db), w, n)) for w in range(3)]
    for p in procs:
        p.start()
    threads = [threading.Thread(target=_writer, args=(db, 10 + w, n)) for w in range(2)]
    for t in threads:
        t.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    for t in threads:
        t.join(120)
    s = RunStore(db)
    runs = s.runs()
    assert len(runs) == 5 * n
    assert all(r.status == "finished" for r in runs)
    assert len({r.uuid for r in runs}) == 5 * n
    assert {(r.params["worker"], r.params["i"]) for r in runs} == {
        (w, i) for w in (0, 1, 2, 10, 11) for i in range(n)
    }
    assert all(s.get_run(r.id).curves["eps"][0] == [0, 1, 2, 3, 4] for r in runs[:10])
    assert s.param_sets("memory") == ["w0", "w1", "w10", "w11", "w2"]
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_in_memory_store_and_default_path(monkeypatch, tmp_path):
    s = RunStore(":memory:")
    rid = s.record_run("memory", {"n": 1}, metrics={"eps": 0.0})
    assert s.get_run(rid).metrics == {"eps": 0.0}
    monkeypatch.setenv("SYNAPLAST_EXPLORE_DB", str(tmp_path / "env.sqlite"))
    assert RunStore().path == tmp_path / "env.sqlite"
    monkeypatch.delenv("SYNAPLAST_EXPLORE_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert store_mod.default_path() == tmp_path / "xdg" / "synaplast" / "explore.sqlite"
