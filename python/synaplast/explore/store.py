"""``RunStore``: the SQLite database of runs and named parameter sets.

The explorer and plain scripts share it::

    from synaplast.explore import RunStore

    store = RunStore("runs.sqlite")
    run = store.start_run("structural", {"n_hidden": 100}, seed=0)
    ...
    store.finish_run(run, metrics={"accuracy": 0.93}, curves={"accuracy": ([1, 2], [0.8, 0.93])})
    store.runs(model="structural", order_by="metrics.accuracy")

Every run keeps its model, parameters, seed, the synaplast version and the
environment (Python, NumPy, scikit-learn, threads), start and end time,
status, final metrics and curves; a run has a UUID so that exporting and
importing it again never duplicates it. Parameter sets are named per model,
one of them may be the model's default.

Safety
------
* The schema is versioned (``PRAGMA user_version``) and upgraded by the
  numbered migrations in :data:`MIGRATIONS`, each in one transaction; a file
  with rows is first copied to ``PATH.v<N>.bak``. A file from a newer
  synaplast is refused, not downgraded.
* Write-ahead logging and ``BEGIN IMMEDIATE`` transactions make concurrent
  writers (tabs, threads, processes) safe; a writer waits up to ``timeout``
  seconds for a lock and then fails with :class:`RunStoreError` having
  written nothing.
* A file that is not a run database or is corrupt is refused with a clear
  :class:`RunStoreError` and left exactly as it was.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Run", "RunStore", "RunStoreError", "default_path"]

#: ``PRAGMA application_id`` of a synaplast run database ("SYNP").
APPLICATION_ID = 0x53594E50
EXPORT_FORMAT = 1

# Migration N brings a database from schema N-1 to schema N. Schema 1 was the
# first layout; schema 2 added what makes a run reproducible beyond its seed
# (the environment) and a user label.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            model TEXT NOT NULL,
            params TEXT NOT NULL,
            seed INTEGER,
            version TEXT NOT NULL,
            started_at REAL NOT NULL,
            finished_at REAL,
            status TEXT NOT NULL,
            metrics TEXT NOT NULL DEFAULT '{}'
        )""",
        """CREATE TABLE curves (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            x TEXT NOT NULL,
            y TEXT NOT NULL,
            PRIMARY KEY (run_id, name)
        )""",
        """CREATE TABLE param_sets (
            id INTEGER PRIMARY KEY,
            model TEXT NOT NULL,
            name TEXT NOT NULL,
            params TEXT NOT NULL,
            is_default INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            UNIQUE (model, name)
        )""",
    ),
    2: (
        "ALTER TABLE runs ADD COLUMN label TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE runs ADD COLUMN environment TEXT NOT NULL DEFAULT '{}'",
        "CREATE INDEX runs_model_started ON runs (model, started_at)",
    ),
}
SCHEMA_VERSION = max(MIGRATIONS)

STATUSES = ("running", "paused", "finished", "stopped", "failed")
_RUN_COLUMNS = ("id", "model", "status", "seed", "version", "started_at", "finished_at", "label")


class RunStoreError(RuntimeError):
    """The run database cannot be used (corrupt, foreign, too new or locked).

    The message says why and what to do; the file is never modified by a
    failed call.
    """


def default_path() -> Path:
    """``$SYNAPLAST_EXPLORE_DB``, else ``$XDG_DATA_HOME/synaplast/explore.sqlite``."""
    env = os.environ.get("SYNAPLAST_EXPLORE_DB")
    if env:
        return Path(env)
    root = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(root) / "synaplast" / "explore.sqlite"


def _plain(value):
    """JSON-safe copy: NumPy scalars and arrays to Python, non-finite floats to None."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):
        return _plain(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"cannot store {value!r} ({type(value).__name__}): use numbers, strings, "
            "booleans, None, lists or dicts"
        ) from None
    return f if math.isfinite(f) else None


def _dumps(value) -> str:
    return json.dumps(_plain(value), allow_nan=False, separators=(",", ":"))


def _environment() -> dict:
    env = {"python": platform.python_version(), "platform": platform.platform()}
    for mod in ("numpy", "sklearn"):
        try:
            env[mod] = __import__(mod).__version__
        except ImportError:  # pragma: no cover - both are dependencies
            env[mod] = None
    try:
        import synaplast

        env["threads"] = synaplast.get_num_threads()
    except Exception:  # the store is usable without the compiled core
        env["threads"] = None
    return env


def _version() -> str:
    try:
        from synaplast._core import __version__

        return __version__
    except Exception:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("synaplast")
        except PackageNotFoundError:
            return "unknown"


@dataclass
class Run:
    """One recorded run (curves are loaded by :meth:`RunStore.get_run`)."""

    id: int
    uuid: str
    model: str
    params: dict
    seed: int | None
    version: str
    started_at: float
    finished_at: float | None
    status: str
    metrics: dict
    label: str = ""
    environment: dict = field(default_factory=dict)
    curves: dict = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (``None`` while running)."""
        return None if self.finished_at is None else self.finished_at - self.started_at

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["curves"] = {k: {"x": list(x), "y": list(y)} for k, (x, y) in self.curves.items()}
        return d


class RunStore:
    """Runs and named parameter sets in one SQLite file, shared by the UI and scripts.

    Parameters
    ----------
    path : str or Path, optional
        The database file (created with its folder if missing). Default:
        :func:`default_path`. ``":memory:"`` keeps it in memory (one
        connection, for tests).
    timeout : float
        Seconds a writer waits for another writer's lock before giving up
        with :class:`RunStoreError`.

    Raises
    ------
    RunStoreError
        When the file is not a synaplast run database, is corrupt, comes from
        a newer synaplast, or stays locked. The file is left untouched.
    """

    def __init__(self, path=None, *, timeout: float = 10.0):
        self.path = Path(default_path() if path is None else path)
        self.timeout = float(timeout)
        self._memory = str(path) == ":memory:"
        self._local = threading.local()
        self._memory_conn = None
        # One in-memory connection is shared by all threads: serialise its use.
        # File databases get one connection per thread and SQLite's own locking.
        self._memory_lock = threading.RLock() if self._memory else contextlib.nullcontext()
        if not self._memory:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._open_and_migrate()

    def __repr__(self) -> str:
        return f"RunStore({str(self.path)!r})"

    # ------------------------------------------------------------ connection
    def _connect(self) -> sqlite3.Connection:
        if self._memory:
            if self._memory_conn is None:
                self._memory_conn = sqlite3.connect(
                    ":memory:", isolation_level=None, check_same_thread=False
                )
            return self._memory_conn
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(str(self.path), timeout=self.timeout, isolation_level=None)
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        if self._memory_conn is not None:
            self._memory_conn.close()
            self._memory_conn = None

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _fail(self, exc: sqlite3.Error, doing: str) -> RunStoreError:
        msg = str(exc)
        if "locked" in msg or "busy" in msg:
            return RunStoreError(
                f"{self.path} is locked by another writer (waited {self.timeout:g} s) while "
                f"{doing}; nothing was written and the existing rows are unchanged. "
                "Retry, or close the other program that holds it."
            )
        if "not a database" in msg:
            return RunStoreError(
                f"{self.path} is not an SQLite database (corrupt, or another kind of file); "
                "it was left as it is. Pass another path (--db) or move it away."
            )
        if isinstance(exc, sqlite3.DatabaseError) and ("malformed" in msg or "corrupt" in msg):
            return RunStoreError(
                f"{self.path} is corrupt ({msg}) while {doing}; it was left as it is. Move "
                "it away to start a new database (`sqlite3 FILE .recover` may rescue rows)."
            )
        return RunStoreError(f"{self.path}: {msg} while {doing}")

    class _Tx:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error."""

        def __init__(self, store: RunStore, doing: str):
            self.store, self.doing = store, doing

        def __enter__(self) -> sqlite3.Connection:
            self.store._memory_lock.__enter__()
            self.conn = self.store._connect()
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self.store._memory_lock.__exit__(None, None, None)
                raise self.store._fail(exc, self.doing) from exc
            return self.conn

        def __exit__(self, kind, exc, tb):
            try:
                if kind is None:
                    try:
                        self.conn.execute("COMMIT")
                    except sqlite3.Error as err:
                        self.conn.execute("ROLLBACK")
                        raise self.store._fail(err, self.doing) from err
                else:
                    self.conn.execute("ROLLBACK")
                    if isinstance(exc, sqlite3.Error):
                        raise self.store._fail(exc, self.doing) from exc
            finally:
                self.store._memory_lock.__exit__(None, None, None)
            return False

    def _tx(self, doing: str) -> RunStore._Tx:
        return RunStore._Tx(self, doing)

    def _read(self, sql: str, args=(), doing: str = "reading"):
        with self._memory_lock:
            try:
                return self._connect().execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise self._fail(exc, doing) from exc

    # ------------------------------------------------------------ schema
    def _open_and_migrate(self) -> None:
        # The file is only ever opened through SQLite: closing a descriptor of
        # it opened any other way would drop the locks of this process's other
        # connections (POSIX advisory locks are per process) and corrupt it.
        try:
            conn = self._connect()
            ok = conn.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise RunStoreError(
                    f"{self.path} is corrupt (integrity check: {ok}); it was left as it is. "
                    "Move it away to start a new database (`sqlite3 FILE .recover` may "
                    "rescue rows)."
                )
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.Error as exc:
            self.close()
            raise self._fail(exc, "opening the database") from exc
        if app_id not in (0, APPLICATION_ID) or (app_id == 0 and tables):
            self.close()
            raise RunStoreError(
                f"{self.path} is an SQLite database of another program (application id "
                f"{app_id:#x}, {tables} schema objects); it was left as it is. Pass another "
                "path (--db)."
            )
        if version > SCHEMA_VERSION:
            self.close()
            raise RunStoreError(
                f"{self.path} has schema {version}, newer than this synaplast understands "
                f"({SCHEMA_VERSION}); upgrade synaplast to use it. The file was left as it is."
            )
        if not self._memory:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.Error as exc:
                self.close()
                raise self._fail(exc, "switching to write-ahead logging") from exc
        if version < SCHEMA_VERSION:
            self.migrate(SCHEMA_VERSION)

    @property
    def schema_version(self) -> int:
        return int(self._read("PRAGMA user_version")[0][0])

    def migrate(self, target: int = SCHEMA_VERSION) -> int:
        """Apply the migrations up to ``target``; returns the schema version reached.

        Each step runs in one transaction (SQLite's DDL is transactional), so
        a failed step leaves the previous schema and every row in place. A
        database that already holds runs or sets is first copied to
        ``PATH.v<old>.bak``.
        """
        if target not in MIGRATIONS:
            raise ValueError(f"target must be one of {sorted(MIGRATIONS)}, got {target!r}")
        current = self.schema_version
        if current >= target:
            return current
        if current >= 1 and not self._memory:
            rows = self._read(
                "SELECT (SELECT count(*) FROM runs) + (SELECT count(*) FROM param_sets)"
            )
            if rows[0][0]:
                self._backup(self.path.with_name(f"{self.path.name}.v{current}.bak"))
        for step in range(current + 1, target + 1):
            with self._tx(f"migrating the schema to version {step}") as conn:
                if conn.execute("PRAGMA user_version").fetchone()[0] != step - 1:
                    continue  # another process migrated meanwhile
                for sql in MIGRATIONS[step]:
                    conn.execute(sql)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {step}")
        return self.schema_version

    def _backup(self, dest: Path) -> None:
        if dest.exists():
            return
        tmp = dest.with_name(dest.name + ".tmp")
        try:
            out = sqlite3.connect(str(tmp))
            with self._memory_lock:
                self._connect().backup(out)
            out.close()
            shutil.move(str(tmp), str(dest))
        except (sqlite3.Error, OSError) as exc:
            tmp.unlink(missing_ok=True)
            raise RunStoreError(
                f"could not back up {self.path} to {dest} before migrating ({exc}); "
                "nothing was changed"
            ) from exc

    # ------------------------------------------------------------ runs
    def start_run(self, model: str, params: Mapping, seed: int | None = None, *, label="") -> int:
        """Record a run that starts now (status ``"running"``); returns its id."""
        model = self._check_model(model)
        with self._tx("starting a run") as conn:
            cur = conn.execute(
                "INSERT INTO runs (uuid, model, params, seed, version, started_at, status, "
                "metrics, label, environment) VALUES (?, ?, ?, ?, ?, ?, 'running', '{}', ?, ?)",
                (
                    uuid.uuid4().hex,
                    model,
                    _dumps(dict(params)),
                    None if seed is None else int(seed),
                    _version(),
                    time.time(),
                    str(label),
                    _dumps(_environment()),
                ),
            )
            return int(cur.lastrowid)

    def update_run(self, run_id: int, *, metrics=None, curves=None, status=None) -> None:
        """Replace a run's metrics and/or curves (e.g. at every epoch) and status."""
        self._write_run(run_id, metrics, curves, status, finished=False)

    def finish_run(self, run_id: int, *, metrics=None, curves=None, status="finished") -> None:
        """End a run: its final metrics, curves, status and end time."""
        self._write_run(run_id, metrics, curves, status, finished=True)

    def _write_run(self, run_id, metrics, curves, status, finished):
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        curves = self._check_curves(curves)
        with self._tx("updating a run") as conn:
            if not conn.execute("SELECT 1 FROM runs WHERE id = ?", (int(run_id),)).fetchone():
                raise KeyError(f"no run with id {run_id}")
            if metrics is not None:
                conn.execute(
                    "UPDATE runs SET metrics = ? WHERE id = ?", (_dumps(dict(metrics)), run_id)
                )
            if status is not None:
                conn.execute("UPDATE runs SET status = ? WHERE id = ?", (status, run_id))
            if finished:
                conn.execute("UPDATE runs SET finished_at = ? WHERE id = ?", (time.time(), run_id))
            for name, (x, y) in curves.items():
                conn.execute(
                    "INSERT OR REPLACE INTO curves (run_id, name, x, y) VALUES (?, ?, ?, ?)",
                    (run_id, name, _dumps(list(x)), _dumps(list(y))),
                )

    def record_run(
        self,
        model: str,
        params: Mapping,
        seed: int | None = None,
        *,
        metrics=None,
        curves=None,
        started_at: float | None = None,
        status: str = "finished",
        label: str = "",
    ) -> int:
        """Record a run that has already ended (one call); returns its id."""
        run_id = self.start_run(model, params, seed, label=label)
        if started_at is not None:
            with self._tx("recording a run") as conn:
                conn.execute("UPDATE runs SET started_at = ? WHERE id = ?", (started_at, run_id))
        self.finish_run(run_id, metrics=metrics or {}, curves=curves, status=status)
        return run_id

    def set_label(self, run_id: int, label: str) -> None:
        with self._tx("labelling a run") as conn:
            conn.execute("UPDATE runs SET label = ? WHERE id = ?", (str(label), int(run_id)))

    def delete_run(self, run_id: int) -> None:
        with self._tx("deleting a run") as conn:
            conn.execute("DELETE FROM runs WHERE id = ?", (int(run_id),))

    def _row_to_run(self, row) -> Run:
        (rid, ruuid, model, params, seed, version, start, end, status, metrics, label, env) = row
        return Run(
            id=rid,
            uuid=ruuid,
            model=model,
            params=json.loads(params),
            seed=seed,
            version=version,
            started_at=start,
            finished_at=end,
            status=status,
            metrics=json.loads(metrics),
            label=label,
            environment=json.loads(env),
        )

    _SELECT = (
        "SELECT id, uuid, model, params, seed, version, started_at, finished_at, status, "
        "metrics, label, environment FROM runs"
    )

    def get_run(self, run_id: int) -> Run:
        """A run with its curves; ``KeyError`` when there is none."""
        rows = self._read(self._SELECT + " WHERE id = ?", (int(run_id),))
        if not rows:
            raise KeyError(f"no run with id {run_id}")
        run = self._row_to_run(rows[0])
        for name, x, y in self._read(
            "SELECT name, x, y FROM curves WHERE run_id = ? ORDER BY name", (run.id,)
        ):
            run.curves[name] = (json.loads(x), json.loads(y))
        return run

    def runs(
        self,
        model: str | None = None,
        *,
        status: str | None = None,
        since: float | None = None,
        order_by: str = "started_at",
        descending: bool = True,
        limit: int | None = None,
    ) -> list[Run]:
        """Runs (without curves), filtered and sorted.

        ``order_by`` is a column (``id``, ``model``, ``status``, ``seed``,
        ``version``, ``started_at``, ``finished_at``, ``label``) or
        ``"metrics.NAME"`` / ``"params.NAME"``.
        """
        where, args = [], []
        if model is not None:
            where.append("model = ?")
            args.append(model)
        if status is not None:
            where.append("status = ?")
            args.append(status)
        if since is not None:
            where.append("started_at >= ?")
            args.append(float(since))
        if order_by in _RUN_COLUMNS:
            key = order_by
        elif order_by.startswith(("metrics.", "params.")):
            col, name = order_by.split(".", 1)
            key = f"json_extract({col}, ?)"
            args_order = ['$."' + name.replace('"', "") + '"']
        else:
            raise ValueError(
                f"order_by must be one of {_RUN_COLUMNS} or 'metrics.NAME'/'params.NAME', "
                f"got {order_by!r}"
            )
        sql = self._SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += f" ORDER BY {key} IS NULL, {key} {'DESC' if descending else 'ASC'}, id DESC"
        if key != order_by:
            args += args_order * 2
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        return [self._row_to_run(r) for r in self._read(sql, args)]

    def count_runs(self, model: str | None = None) -> int:
        if model is None:
            return int(self._read("SELECT count(*) FROM runs")[0][0])
        return int(self._read("SELECT count(*) FROM runs WHERE model = ?", (model,))[0][0])

    def last_change(self) -> tuple:
        """A cheap token that changes whenever a run is added, updated or removed."""
        return tuple(
            self._read(
                "SELECT count(*), max(id), total(finished_at), total(length(metrics)), "
                "total(length(label)), (SELECT count(*) FROM curves) FROM runs"
            )[0]
        )

    def runs_frame(self, model: str | None = None, **filters):
        """The runs as a pandas DataFrame, one column per metric (``pandas`` needed)."""
        import pandas as pd

        rows = []
        for r in self.runs(model, **filters):
            row = {k: getattr(r, k) for k in _RUN_COLUMNS}
            row["duration"] = r.duration
            row.update({f"metric.{k}": v for k, v in r.metrics.items() if not isinstance(v, dict)})
            row["params"] = json.dumps(r.params, sort_keys=True)
            rows.append(row)
        columns = [*_RUN_COLUMNS, "duration"]
        df = pd.DataFrame(rows)
        if df.empty:
            return pd.DataFrame(columns=[*columns, "params"])
        df["duration"] = pd.to_numeric(df["duration"]).round(3)
        for col in ("started_at", "finished_at"):
            df[col] = pd.to_datetime(df[col], unit="s").dt.strftime("%Y-%m-%d %H:%M:%S")
        return df

    def compare(self, run_a: int, run_b: int) -> dict:
        """Two runs side by side: ``params`` and ``metrics`` as ``{name: (a, b)}``
        (only differing parameters) and both runs with their curves."""
        a, b = self.get_run(run_a), self.get_run(run_b)
        names = sorted(set(a.params) | set(b.params))
        params = {
            k: (a.params.get(k), b.params.get(k))
            for k in names
            if a.params.get(k) != b.params.get(k)
        }
        if a.seed != b.seed:
            params["seed"] = (a.seed, b.seed)
        keys = list(dict.fromkeys([*a.metrics, *b.metrics]))
        metrics = {k: (a.metrics.get(k), b.metrics.get(k)) for k in keys}
        return {"a": a, "b": b, "params": params, "metrics": metrics}

    # ------------------------------------------------------------ parameter sets
    @staticmethod
    def _check_model(model) -> str:
        if not isinstance(model, str) or not model.strip():
            raise ValueError(f"model must be a non-empty string, got {model!r}")
        return model.strip()

    @staticmethod
    def _check_name(name) -> str:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"a parameter set needs a non-empty name, got {name!r}")
        return name.strip()

    @staticmethod
    def _check_curves(curves) -> dict:
        if not curves:
            return {}
        out = {}
        for name, xy in dict(curves).items():
            try:
                x, y = xy
            except (TypeError, ValueError):
                raise ValueError(f"curve {name!r} must be a pair (x, y)") from None
            if len(x) != len(y):
                raise ValueError(f"curve {name!r} has {len(x)} x values and {len(y)} y values")
            out[str(name)] = (x, y)
        return out

    def save_params(self, model: str, name: str, params: Mapping, *, overwrite=True) -> None:
        """Save (or, with ``overwrite``, replace) the set ``name`` of ``model``."""
        model, name = self._check_model(model), self._check_name(name)
        now = time.time()
        with self._tx("saving a parameter set") as conn:
            exists = conn.execute(
                "SELECT 1 FROM param_sets WHERE model = ? AND name = ?", (model, name)
            ).fetchone()
            if exists and not overwrite:
                raise ValueError(f"{model} already has a parameter set named {name!r}")
            if exists:
                conn.execute(
                    "UPDATE param_sets SET params = ?, updated_at = ? WHERE model = ? AND name = ?",
                    (_dumps(dict(params)), now, model, name),
                )
            else:
                conn.execute(
                    "INSERT INTO param_sets (model, name, params, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (model, name, _dumps(dict(params)), now, now),
                )

    def load_params(self, model: str, name: str) -> dict:
        rows = self._read(
            "SELECT params FROM param_sets WHERE model = ? AND name = ?", (model, name)
        )
        if not rows:
            raise KeyError(f"{model} has no parameter set named {name!r}")
        return json.loads(rows[0][0])

    def param_sets(self, model: str) -> list[str]:
        """Names of the model's parameter sets, in alphabetical order."""
        rows = self._read(
            "SELECT name FROM param_sets WHERE model = ? ORDER BY name COLLATE NOCASE", (model,)
        )
        return [r[0] for r in rows]

    def rename_params(self, model: str, old: str, new: str) -> None:
        new = self._check_name(new)
        with self._tx("renaming a parameter set") as conn:
            if conn.execute(
                "SELECT 1 FROM param_sets WHERE model = ? AND name = ?", (model, new)
            ).fetchone():
                raise ValueError(f"{model} already has a parameter set named {new!r}")
            cur = conn.execute(
                "UPDATE param_sets SET name = ?, updated_at = ? WHERE model = ? AND name = ?",
                (new, time.time(), model, old),
            )
            if cur.rowcount == 0:
                raise KeyError(f"{model} has no parameter set named {old!r}")

    def delete_params(self, model: str, name: str) -> None:
        with self._tx("deleting a parameter set") as conn:
            cur = conn.execute("DELETE FROM param_sets WHERE model = ? AND name = ?", (model, name))
            if cur.rowcount == 0:
                raise KeyError(f"{model} has no parameter set named {name!r}")

    def set_default(self, model: str, name: str | None) -> None:
        """Make ``name`` the set loaded when the model's screen opens (``None``: no default)."""
        with self._tx("setting the default parameter set") as conn:
            if (
                name is not None
                and not conn.execute(
                    "SELECT 1 FROM param_sets WHERE model = ? AND name = ?", (model, name)
                ).fetchone()
            ):
                raise KeyError(f"{model} has no parameter set named {name!r}")
            conn.execute("UPDATE param_sets SET is_default = 0 WHERE model = ?", (model,))
            if name is not None:
                conn.execute(
                    "UPDATE param_sets SET is_default = 1 WHERE model = ? AND name = ?",
                    (model, name),
                )

    def default_params(self, model: str) -> tuple[str, dict] | None:
        """``(name, params)`` of the model's default set, or ``None``."""
        rows = self._read(
            "SELECT name, params FROM param_sets WHERE model = ? AND is_default = 1", (model,)
        )
        return (rows[0][0], json.loads(rows[0][1])) if rows else None

    # ------------------------------------------------------------ JSON
    def export_run(self, run_id: int) -> dict:
        """A run with its curves as a JSON-ready dict (see :meth:`import_json`)."""
        return {"format": EXPORT_FORMAT, "kind": "synaplast.run", **self.get_run(run_id).to_dict()}

    def export_params(self, model: str, name: str) -> dict:
        return {
            "format": EXPORT_FORMAT,
            "kind": "synaplast.param_set",
            "model": model,
            "name": name,
            "params": self.load_params(model, name),
        }

    def export_json(self, items: Sequence[dict], path=None) -> str:
        """JSON text of exported items (a single one, or a list); written to ``path`` if given."""
        payload = items[0] if isinstance(items, list | tuple) and len(items) == 1 else items
        text = json.dumps(_plain(payload), indent=1, allow_nan=False)
        if path is not None:
            Path(path).write_text(text)
        return text

    def import_json(self, data) -> list[tuple[str, object]]:
        """Import exported runs and parameter sets (a dict, a list, JSON text or a path).

        A run whose UUID is already stored is skipped (importing twice does not
        duplicate); a parameter set replaces the one of the same model and name.
        Everything is imported in one transaction, or nothing.

        Returns
        -------
        list of (kind, key)
            ``("run", id)`` or ``("param_set", (model, name))`` per imported item;
            skipped runs are ``("run", None)``.
        """
        if isinstance(data, Path) or (
            isinstance(data, str) and not data.lstrip().startswith(("{", "["))
        ):
            data = Path(data).read_text()
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not valid JSON: {exc}") from None
        items = data if isinstance(data, list) else [data]
        for i, item in enumerate(items):
            if not isinstance(item, dict) or item.get("kind") not in (
                "synaplast.run",
                "synaplast.param_set",
            ):
                raise ValueError(
                    f"item {i} is not a synaplast export (expected kind 'synaplast.run' or "
                    "'synaplast.param_set')"
                )
            if item.get("format", 0) > EXPORT_FORMAT:
                raise ValueError(
                    f"item {i} has export format {item['format']}, newer than {EXPORT_FORMAT}"
                )
        out = []
        with self._tx("importing") as conn:
            for item in items:
                if item["kind"] == "synaplast.param_set":
                    model, name = self._check_model(item["model"]), self._check_name(item["name"])
                    now = time.time()
                    conn.execute(
                        "INSERT INTO param_sets (model, name, params, created_at, updated_at) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (model, name) DO UPDATE SET "
                        "params = excluded.params, updated_at = excluded.updated_at",
                        (model, name, _dumps(dict(item["params"])), now, now),
                    )
                    out.append(("param_set", (model, name)))
                    continue
                ruuid = str(item.get("uuid") or uuid.uuid4().hex)
                if conn.execute("SELECT 1 FROM runs WHERE uuid = ?", (ruuid,)).fetchone():
                    out.append(("run", None))
                    continue
                status = item.get("status", "finished")
                if status not in STATUSES:
                    raise ValueError(f"run status must be one of {STATUSES}, got {status!r}")
                cur = conn.execute(
                    "INSERT INTO runs (uuid, model, params, seed, version, started_at, "
                    "finished_at, status, metrics, label, environment) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        ruuid,
                        self._check_model(item["model"]),
                        _dumps(dict(item.get("params", {}))),
                        item.get("seed"),
                        str(item.get("version", "unknown")),
                        float(item["started_at"]),
                        item.get("finished_at"),
                        status,
                        _dumps(dict(item.get("metrics", {}))),
                        str(item.get("label", "")),
                        _dumps(dict(item.get("environment", {}))),
                    ),
                )
                rid = int(cur.lastrowid)
                for name, xy in self._check_curves(
                    {k: (v["x"], v["y"]) for k, v in item.get("curves", {}).items()}
                ).items():
                    conn.execute(
                        "INSERT INTO curves (run_id, name, x, y) VALUES (?, ?, ?, ?)",
                        (rid, name, _dumps(list(xy[0])), _dumps(list(xy[1]))),
                    )
                out.append(("run", rid))
        return out
