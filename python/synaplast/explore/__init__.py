"""``synaplast explore``: an interactive explorer of the models, in the browser.

:class:`RunStore` (the SQLite database of runs and parameter sets) needs
nothing beyond the standard library and is shared by the explorer and
scripts. The web application (:func:`serve`, :func:`build_app`) needs the
optional extra: ``pip install "synaplast[explore]"`` (Panel, Bokeh, param).
See ``docs/explore.md``.
"""

from synaplast.explore.store import Run, RunStore, RunStoreError, default_path

__all__ = ["Run", "RunStore", "RunStoreError", "build_app", "default_path", "serve"]


def __getattr__(name):
    # The web application imports Panel, which is optional: load it on demand.
    if name in ("serve", "build_app"):
        from synaplast.explore import app

        return getattr(app, name)
    raise AttributeError(f"module 'synaplast.explore' has no attribute {name!r}")
