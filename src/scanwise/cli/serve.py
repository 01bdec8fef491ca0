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
    cds_trust: Annotated[str | None, typer.Option(
        "--cds-trust", help="CDS Hooks trust list (JSON: issuers and their JWK Sets); default "
                            "$SCANWISE_CDS_TRUST. Without one every CDS Hooks call gets 401.")] = None,
    cds_allow_unsigned: Annotated[bool, typer.Option(
        "--cds-allow-unsigned", help="Accept CDS Hooks calls without a signed JWT. Local "
                                     "development only.")] = False,
    cds_cors_origin: Annotated[list[str] | None, typer.Option(
        "--cds-cors-origin", help="A browser origin allowed to call the CDS Hooks endpoints "
                                  "(repeat for more).")] = None,
) -> None:
    import logging

    import uvicorn

    from scanwise.cds import CdsSettings
    from scanwise.cds.auth import TrustError
    from scanwise.storage import StoreError
    from scanwise.web import WebSettings, create_app

    out = console(stderr=True)
    # Only our request lines (ids, sizes, times) at INFO: other libraries log at WARNING, so no
    # reader's debug output can carry record text into the log.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("scanwise.web").setLevel(logging.INFO)
    logging.getLogger("scanwise.cds").setLevel(logging.INFO)
    cds = CdsSettings.from_env()
    cds.trust_file = cds_trust or cds.trust_file
    cds.allow_unsigned, cds.cors_origins = cds_allow_unsigned, list(cds_cors_origin or [])
    sock = listen(host, port)
    if cds_allow_unsigned:
        out.print("[bold red]WARNING: --cds-allow-unsigned: CDS Hooks calls are NOT authenticated. "
                  "Local development only; never with real patients.[/]")
    try:
        app = create_app(WebSettings(db=db, timeout_s=timeout), cds=cds)
    except (StoreError, TrustError) as exc:  # a bad --db or trust list: the user's input
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
