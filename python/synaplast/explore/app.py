"""The explorer's web application: one page, one tab per screen, served by Panel.

Panel (with Bokeh and param) serves its JavaScript and CSS from the
installed packages, so the page works without internet. The ``Fast*``
templates are avoided: they load web fonts from the internet.
"""

from __future__ import annotations

import os
import socket
import sys

import panel as pn

from synaplast.explore.jobs import stop_all
from synaplast.explore.screens import SCREENS
from synaplast.explore.store import RunStore

__all__ = ["build_app", "serve"]

POLL_MS = 300


def build_app(store: RunStore):
    """The page of one browser session: the screens in tabs, polled for live data."""
    import synaplast

    screens = [(title, cls(store)) for title, cls in SCREENS]
    # Not dynamic: Panel 1.9 gives the models it renders when a tab is shown
    # again stylesheet URLs on its CDN, which breaks the page offline.
    tabs = pn.Tabs(*[(title, screen.panel) for title, screen in screens], dynamic=False)

    def poll():
        for _, screen in screens:
            screen.poll()

    # Only the visible screen is polled often; the others catch up when shown.
    def poll_visible():
        screens[tabs.active][1].poll()

    pn.state.add_periodic_callback(poll_visible, period=POLL_MS)
    pn.state.add_periodic_callback(poll, period=5 * POLL_MS)
    tabs.param.watch(lambda _e: poll_visible(), "active")

    def closed(_ctx):
        for _, screen in screens:
            screen.close()

    pn.state.on_session_destroyed(closed)
    header = pn.pane.Markdown(
        f"synaplast {synaplast.__version__} · runs in `{store.path}`",
        styles={"color": "white"},
    )
    return pn.template.BootstrapTemplate(
        title="synaplast explore",
        header=[header],
        main=[tabs],
        collapsed_sidebar=True,
        busy_indicator=None,  # the polling would keep it spinning; runs show their own state
    )


def _free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def _can_open_browser() -> bool:
    # Without a display (an SSH session) webbrowser would start a text browser
    # in the terminal; there the URL is printed for `ssh -L` instead.
    return sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


def serve(
    *,
    port: int = 5006,
    address: str = "127.0.0.1",
    db=None,
    open_browser: bool = True,
    allow_origin=(),
) -> None:
    """Serve the explorer until Ctrl-C.

    Parameters
    ----------
    port : int
        0 picks a free port.
    address : str
        Interface to bind; the default, 127.0.0.1, is reachable only from this
        machine (use ``ssh -L`` from elsewhere).
    db : path, optional
        The run database (default: :func:`synaplast.explore.default_path`).
    open_browser : bool
        Open a browser tab (only where there is a display).
    allow_origin : sequence of str
        Extra ``host:port`` origins whose pages may connect. Not needed for
        ``ssh -L`` on any port (the page's own origin is always accepted);
        for a reverse proxy that rewrites the ``Host`` header.
    """
    store = RunStore(db)
    if port == 0:
        port = _free_port(address)
    host = "localhost" if address in ("127.0.0.1", "localhost", "::1") else address
    url = f"http://{host}:{port}/"
    origins = [f"localhost:{port}", f"127.0.0.1:{port}", *allow_origin]
    if address not in ("127.0.0.1", "localhost", "::1", "0.0.0.0"):
        origins.append(f"{address}:{port}")
    print(f"synaplast explore: {url}  (runs: {store.path})", flush=True)
    if not _can_open_browser() and open_browser:
        print(
            "  no display here: from your machine run "
            f"`ssh -L {port}:localhost:{port} THIS_HOST` and open {url}",
            flush=True,
        )
    pn.extension("tabulator", notifications=False)
    try:
        pn.serve(
            {"/": lambda: build_app(store)},
            port=port,
            address=address,
            show=open_browser and _can_open_browser(),
            websocket_origin=origins,
            title="synaplast explore",
            verbose=False,
        )
    finally:  # Ctrl-C: open runs end as "stopped", not left "running"
        stop_all()
