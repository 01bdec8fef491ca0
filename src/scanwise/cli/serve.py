"""``scanwise serve``: the web app and JSON API on this machine.

    scanwise serve [--host 127.0.0.1] [--port 8000] [--db PATH_OR_URL]

Embedded SQLite by default (``$SCANWISE_DB``, else a file in the user data directory); a
``postgresql://`` URL uses PostgreSQL (the ``postgres`` extra). The port is taken before
anything is printed, so a port in use is said plainly (exit 2) instead of after the address.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from typing import Annotated

import typer

from scanwise.cli.common import console, fail

HELP = ("Start the web app and JSON API (patient and clinician pages, /docs) on this machine. "
        "Saved profiles and the audit trail go to an embedded SQLite file unless --db says otherwise.")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (what uvicorn then serves on); a clear error if it cannot be."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise fail(f"--host {host}: not an address of this machine ({exc.strerror})") from exc
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise fail(f"port {port} on {host} is already in use (another server is running there); "
                       "stop it or choose another port with --port") from exc
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.set_inheritable(True)
    return sock


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    db: Annotated[str | None, typer.Option(
        "--db", help="SQLite file path or database URL (default: $SCANWISE_DB, else the user "
                     "data directory).")] = None,
    timeout: Annotated[float, typer.Option(
        help="Seconds a request's work may take before it gets 504.", min=0.1)] = 30.0,
) -> None:
    import logging

    import uvicorn

    from scanwise.storage import StoreError
    from scanwise.web import WebSettings, create_app

    out = console(stderr=True)
    # Only our request lines (ids, sizes, times) at INFO: other libraries log at WARNING, so no
    # reader's debug output can carry record text into the log.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("scanwise.web").setLevel(logging.INFO)
    sock = listen(host, port)
    try:
        app = create_app(WebSettings(db=db, timeout_s=timeout))
    except StoreError as exc:
        sock.close()
        raise fail(str(exc)) from exc
    if not _loopback(host):
        out.print(f"[yellow]warning:[/] listening on {host}, not only this machine. The app has no "
                  "log-in: put it behind an authenticating proxy before others can reach it.")
    url_host = f"[{host}]" if ":" in host else host
    out.print(f"scanwise {app.version} · knowledge base {app.state.services.kb.version}")
    out.print(f"database: {app.state.services.store.url}")
    out.print(f"open http://{url_host}:{port}/  (API docs: /docs · stop: Ctrl+C)")
    # Our middleware logs each request by id, size and time; uvicorn's access log would add
    # query strings, so it stays off.
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, access_log=False, log_level="info"))
    server.run(sockets=[sock])


def register(app: typer.Typer) -> None:
    app.command("serve", help=HELP)(serve_command)
