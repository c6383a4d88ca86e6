"""End-to-end tests of ``synaplast explore`` in a real headless browser.

Playwright drives Debian's ``chromium-headless-shell`` (or ``chromium``)
through ``executable_path``; ``make test`` installs it as root. The server is
the real CLI on a free port with a fresh database; every request that does
not go to it is blocked and recorded, so the tests also prove that the page
works offline. Screenshots of the screens go to ``benches/out/``.
"""

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("panel", reason="the explorer needs the extra: pip install synaplast[explore]")
pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright (make test)")
pytest.importorskip("pytest_playwright", reason="the browser tests need pytest-playwright")

from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

from synaplast.explore import RunStore  # noqa: E402


def _find_browser():
    for name in (os.environ.get("SYNAPLAST_BROWSER"), "chromium-headless-shell", "chromium"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


BROWSER = _find_browser()
pytestmark = pytest.mark.skipif(
    BROWSER is None,
    reason="no Chromium: install Debian's chromium-headless-shell (make test does, as root) "
    "or set SYNAPLAST_BROWSER",
)
OUT = Path(__file__).resolve().parents[1] / "benches" / "out"
TIMINGS = {}


@pytest.fixture(scope="session")
def browser_type_launch_args():
    # pytest-playwright's launch arguments: Debian's browser, never a downloaded one.
    return {"executable_path": BROWSER, "args": ["--no-sandbox"]}


@pytest.fixture(scope="session")
def browser_context_args():
    return {"viewport": {"width": 1400, "height": 1350}, "accept_downloads": True}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("explore") / "runs.sqlite"
    env = dict(os.environ, PYTHONUNBUFFERED="1", SYNAPLAST_EXPLORE_DB=str(db))
    proc = subprocess.Popen(
        [sys.executable, "-m", "synaplast.cli", "explore", "--port", "0", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    log = [proc.stdout.readline()]
    threading.Thread(target=lambda: log.extend(proc.stdout), daemon=True).start()
    match = re.search(r"http://localhost:(\d+)/", log[0])
    assert match, f"the server printed no URL: {log}"
    assert str(db) in log[0]  # it says where the runs go
    url = f"http://127.0.0.1:{match.group(1)}/"
    end = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                assert r.status == 200
            break
        except OSError:
            if time.monotonic() > end or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"the server did not start: {''.join(log)}")
            time.sleep(0.2)
    yield SimpleNamespace(url=url, db=db, log=log)
    proc.terminate()
    proc.wait(20)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "explore-timings.json").write_text(json.dumps(TIMINGS, indent=1))


class App:
    """The page, with helpers that see through Panel's shadow DOM."""

    def __init__(self, page, server):
        self.page = page
        self.server = server
        self.external = []
        page.route("**/*", self._route)
        self.open()

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.server.url) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def open(self):
        t0 = time.perf_counter()
        self.page.goto(self.server.url)
        self.page.get_by_text("Output noise").first.wait_for(timeout=60000)
        TIMINGS.setdefault("page_load_s", round(time.perf_counter() - t0, 2))

    def data(self, name):
        """The columns of the named Bokeh data source, as the browser holds them."""
        return self.page.evaluate(
            """(name) => {
                // NaN becomes null, so that Python can compare the columns.
                const plain = (x) => ArrayBuffer.isView(x) || Array.isArray(x)
                    ? Array.from(x, plain) : (typeof x === "number" && isNaN(x) ? null : x);
                const d = Bokeh.documents[0].get_model_by_name(name).data, out = {};
                const entries = d instanceof Map ? d.entries() : Object.entries(d);
                for (const [k, v] of entries) out[k] = plain(v);
                return out;
            }""",
            name,
        )

    def wait_data(self, name, cond, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            d = self.data(name)
            if cond(d):
                return d
            time.sleep(0.05)
        raise AssertionError(f"{name} never met the condition: {str(self.data(name))[:300]}")

    def tab(self, title):
        self.page.get_by_text(title, exact=True).first.click()

    def group(self, label):
        """The widget whose label starts with ``label``."""
        return self.page.locator(
            ".bk-input-group", has=self.page.get_by_text(label, exact=False)
        ).locator("visible=true")

    def slider(self, label):
        return self.group(label).get_by_role("slider").first

    def move(self, label, key, expect=None):
        """Press ``key`` on the slider ``label`` (keyboard, as a user can);
        ``expect``: the value it must then show."""
        slider = self.slider(label)
        slider.focus()
        slider.press(key)
        if expect is not None:
            self.expect_text(f"{label}: {expect}")

    def button(self, name):
        return self.page.get_by_role("button", name=name, exact=True).locator("visible=true").first

    def expect_text(self, text, timeout=30000):
        self.page.get_by_text(text).locator("visible=true").first.wait_for(timeout=timeout)

    def click_until(self, name, text, tries=3, timeout=10000):
        """Click ``name`` until ``text`` shows: a click that reaches the
        server before the last widget change (e.g. a ticked box) is answered
        for the old state, as a user's early click would be."""
        for attempt in range(tries):
            self.button(name).click()
            try:
                return self.expect_text(text, timeout=timeout)
            except PlaywrightTimeout:
                if attempt == tries - 1:
                    raise

    def shot(self, name):
        OUT.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(OUT / f"explore-{name}.png"))


@pytest.fixture
def app(page, server):
    a = App(page, server)
    yield a
    assert a.external == [], f"the page asked the internet for {a.external}"


def test_memory_slider_reruns_the_model(app):
    before = app.wait_data("memory-curve", lambda d: d["M"] and max(d["M"]) == 5000)
    theory = app.data("memory-theory")
    assert len(theory["M"]) == 100 and max(theory["M"]) == 5000
    images = app.data("memory-images")
    assert len(images["image"]) == 1
    app.shot("memory")
    t0 = time.perf_counter()
    app.move("stored pairs M", "ArrowLeft")
    after = app.wait_data("memory-curve", lambda d: d["M"] and max(d["M"]) == 4999, timeout=20)
    TIMINGS["memory_slider_to_plot_s"] = round(time.perf_counter() - t0, 3)
    assert after["eps"] != before["eps"]
    app.expect_text("stored pairs M: 4999")
    app.expect_text("recorded as run")
    runs = RunStore(app.server.db).runs("associative")
    assert runs[0].params["n_patterns"] == 4999 and runs[0].metrics["M"] == 4999
    assert runs[0].curves == {} and RunStore(app.server.db).get_run(runs[0].id).curves["eps"]


def test_parameter_set_save_reload_load_default(app):
    app.move("active units k", "ArrowRight", 11)
    app.group("Name").get_by_role("textbox").fill("k eleven")
    app.button("Save").click()
    app.expect_text("Saved k eleven")
    app.page.reload()
    app.open()
    app.expect_text("active units k: 10")  # a new session starts from the defaults
    app.group("Parameter set").locator("select").select_option(label="k eleven")
    app.button("Load").click()
    app.expect_text("active units k: 11")
    app.expect_text("Loaded k eleven")
    app.button("Default").click()
    app.expect_text("opens with this screen")
    app.page.reload()
    app.open()
    app.expect_text("Loaded the default set")
    app.expect_text("active units k: 11")
    app.button("Delete").click()
    app.expect_text("Deleted k eleven")
    assert RunStore(app.server.db).param_sets("associative") == []


def test_structural_start_pause_reset_and_runs_table(app):
    app.tab("Structural plasticity")
    app.group("Dataset").locator("select").select_option("digits")
    app.move("epochs", "End", 100)
    # 1,000 units: epochs of ~0.07 s, so the run cannot end before Pause
    # (with 100 units on digits all 100 epochs took ~1 s and, under load,
    # could finish first).
    app.move("hidden units (0: default)", "End", 1000)
    app.button("Step").click()  # one epoch, then paused
    app.expect_text(re.compile(r"Paused run \d+ at step 1 of 100"))
    app.button("Start").click()
    app.expect_text("Running run")
    app.button("Pause").click()  # after the current epoch
    app.expect_text("Paused run")
    app.button("Step").click()  # at least 3 epochs now: 1 step, >= 1 running, 1 step
    d = app.wait_data("structural-accuracy", lambda d: len(d["epoch"]) >= 3)
    assert all(0 <= a <= 1 for a in d["accuracy"]) and d["writes"] == sorted(d["writes"])
    # The plots' sources update one after another: wait for this one too.
    app.wait_data("structural-synapses", lambda d: len(d["y"]) >= 3)
    assert app.data("structural-hist")["density"]
    app.expect_text(re.compile(r"Paused run \d+ at step \d+ of 100"))
    app.shot("structural")
    app.button("Reset").click()
    app.expect_text("Ready")
    # The page resets at once; the run's thread records "stopped" just after.
    store, end = RunStore(app.server.db), time.monotonic() + 20
    while store.runs("structural")[0].status != "stopped" and time.monotonic() < end:
        time.sleep(0.05)
    run = store.runs("structural")[0]
    assert run.status == "stopped" and run.params["dataset"] == "digits"
    assert run.metrics["epochs"] >= 3 and len(run.metrics) > 3
    app.tab("Runs")
    app.button("Refresh").click()
    app.page.locator(".tabulator-cell", has_text="structural").first.wait_for(timeout=10000)
    app.page.locator(".tabulator-cell", has_text="stopped").first.wait_for(timeout=10000)


def test_competitive_and_eprop_screens(app):
    app.tab("Competitive plasticity")
    app.group("Dataset").locator("select").select_option("digits")
    app.move("samples per step", "Home", 100)
    app.button("Step").click()
    d = app.wait_data("competitive-history", lambda d: len(d["samples"]) == 1)
    assert d["samples"] == [100]
    assert d["frugal_M0"][0] < d["backprop_M0"][0]  # writing the top 10% writes less
    app.button("Start").click()
    app.wait_data("competitive-history", lambda d: len(d["samples"]) >= 3)
    app.shot("competitive")
    app.button("Reset").click()
    app.tab("e-prop")
    # The longest run: it must still be running when Pause is pressed below
    # (200 iterations could end first at load 6, leaving Pause disabled).
    app.move("Iterations", "End", 5000)
    t0 = time.perf_counter()
    app.button("Start").click()
    d = app.wait_data("eprop-loss", lambda d: len(d["loss"]) >= 20)
    TIMINGS["eprop_20_iterations_s"] = round(time.perf_counter() - t0, 2)
    raster = app.data("eprop-raster")
    assert len(raster["t"]) > 0 and max(raster["neuron"]) < 100
    readout = app.data("eprop-readout")
    assert len(readout["t"]) == 1000
    # The page answers while e-prop trains: the memory screen re-runs meanwhile.
    app.tab("Associative memory")
    before = app.data("memory-images")["image"][0]  # pattern, cue and 3 retrieval steps
    t0 = time.perf_counter()
    app.move("retrieval steps", "ArrowLeft")
    app.wait_data("memory-images", lambda d: d["image"][0] != before, timeout=20)
    TIMINGS["memory_rerun_during_training_s"] = round(time.perf_counter() - t0, 3)
    assert app.data("eprop-loss")["loss"]  # still there, still training
    app.tab("e-prop")
    app.shot("eprop")
    app.button("Pause").click()
    app.expect_text("Paused run")
    app.button("Reset").click()
    models = {r.model for r in RunStore(app.server.db).runs()}
    assert {"competitive", "eprop"} <= models


def test_runs_compare_export_import(app, tmp_path):
    store = RunStore(app.server.db)
    store.record_run(
        "structural",
        {"n_hidden": 10},
        1,
        metrics={"accuracy": 0.5},
        curves={"accuracy": ([1], [0.5])},
    )  # a script's run shows up beside the UI's
    app.tab("Runs")
    app.button("Refresh").click()
    rows = app.page.locator(".tabulator-row").locator("visible=true")
    rows.first.wait_for(timeout=10000)
    boxes = app.page.locator(".tabulator-row input[type=checkbox]").locator("visible=true")
    boxes.nth(0).check()
    boxes.nth(1).check()
    app.click_until("Compare selected", "against run")
    app.shot("runs")
    with app.page.expect_download() as dl:
        app.button("Export selected").click()
    path = tmp_path / "runs.json"
    dl.value.save_as(path)
    exported = json.loads(path.read_text())
    assert len(exported) == 2 and all(e["kind"] == "synaplast.run" for e in exported)
    n = store.count_runs()
    app.group("Import").locator("input[type=file]").set_input_files(str(path))
    app.expect_text("Imported 0 run(s) (2 already here)")
    assert store.count_runs() == n


def test_websocket_accepts_its_own_origin_only(server):
    """Bound to 127.0.0.1, and pages of other sites cannot drive the server; the
    local end of an ``ssh -L`` tunnel (any port) is the page's own origin."""
    port = int(server.url.rstrip("/").rsplit(":", 1)[1])

    def handshake(origin, host):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request(
            "GET",
            "/ws",
            headers={
                "Host": host,
                "Origin": origin,
                "Connection": "Upgrade",
                "Upgrade": "websocket",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "x3JJHMbDL1EzLkh9GBhXDw==",
            },
        )
        status = conn.getresponse().status
        conn.close()
        return status

    assert handshake("http://evil.example", f"localhost:{port}") == 403
    assert handshake(f"http://localhost:{port}", f"localhost:{port}") == 101
    assert handshake("http://localhost:8000", "localhost:8000") == 101  # ssh -L 8000:...
