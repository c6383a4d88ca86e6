"""Take the README's screenshots of ``synaplast explore`` (default settings, MNIST).

    .venv/bin/python docs/explore_screenshots.py [--out docs/images]

Starts the explorer on a free port with a fresh database, drives Debian's
headless Chromium with Playwright, runs each screen for a few seconds and
writes ``explore-<screen>.png``.
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).parent / "images"))
    out = Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    browser = shutil.which("chromium-headless-shell") or shutil.which("chromium")
    db = Path(tempfile.mkdtemp()) / "runs.sqlite"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "synaplast.cli",
            "explore",
            "--port",
            "0",
            "--no-browser",
            "--db",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    port = re.search(r"localhost:(\d+)", proc.stdout.readline()).group(1)
    url = f"http://127.0.0.1:{port}/"
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=browser, args=["--no-sandbox"])
            page = b.new_page(viewport={"width": 1400, "height": 1250})
            for _ in range(100):
                try:
                    page.goto(url)
                    break
                except Exception:
                    time.sleep(0.3)
            page.get_by_text("Output noise").first.wait_for(timeout=60000)

            def button(name):
                return (
                    page.get_by_role("button", name=name, exact=True).locator("visible=true").first
                )

            def tab(name):
                page.get_by_text(name, exact=True).first.click()

            page.wait_for_timeout(2000)
            page.screenshot(path=str(out / "explore-memory.png"))
            # A second memory run (Bayes rule) to compare on the runs screen.
            page.locator(".bk-input-group", has=page.get_by_text("Rule")).locator(
                "select"
            ).first.select_option("bayes")
            page.wait_for_timeout(2000)
            for name, seconds in (
                ("Structural plasticity", 8),
                ("Competitive plasticity", 10),
                ("e-prop", 8),
            ):
                tab(name)
                button("Start").click()
                page.wait_for_timeout(seconds * 1000)
                try:  # freeze the plots if it still runs
                    button("Pause").click(timeout=2000)
                except Exception:
                    pass  # it finished first
                page.wait_for_timeout(800)
                page.screenshot(path=str(out / f"explore-{name.split()[0].lower()}.png"))
            tab("Runs")
            button("Refresh").click()
            page.wait_for_timeout(1000)
            rows = page.locator(".tabulator-row", has_text="associative")
            for i in range(2):
                rows.nth(i).locator("input[type=checkbox]").check()
            button("Compare selected").click()
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "explore-runs.png"))
            b.close()
    finally:
        proc.terminate()
        proc.wait(20)


if __name__ == "__main__":
    main()
