"""``scanwise serve``: the web app and JSON API on this machine.

    scanwise serve [--host 127.0.0.1] [--port 8000] [--db PATH_OR_URL] [--workers N]
                   [--allowed-host NAME ...] [--admin-token-file PATH] [--templates DIR]

Embedded SQLite by default (``$SCANWISE_DB``, else a file in the user data directory); a
``postgresql://`` URL uses PostgreSQL (the ``postgres`` extra). The port is taken before
anything is printed, so a port in use is said plainly (exit 2) instead of after the address.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path
from typing import Annotated

import typer

from scanwise.cli.common import console, fail

HELP = ("Start the web app and JSON API (patient and clinician pages, /docs) on this machine. "
        "Saved profiles and the audit trail go to an embedded SQLite file unless --db says otherwise.")


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
        help="Seconds a request's work may take before it gets 504 (and its work is stopped).",
        min=0.1)] = 30.0,
    workers: Annotated[int | None, typer.Option(
        help="Worker processes reading and assessing, each with its own reader (default: the "
             "number of cores).", min=1, max=64)] = None,
    allowed_host: Annotated[list[str] | None, typer.Option(
        "--allowed-host", help="A host name the server answers to besides the loopback names "
                               "(repeat for more).")] = None,
    admin_token_file: Annotated[Path | None, typer.Option(
        "--admin-token-file", help="A file holding the token for the audit trail and other "
                                   "administrative endpoints (Authorization: Bearer).",
        exists=True, dir_okay=False, readable=True)] = None,
    cds_trust: Annotated[str | None, typer.Option(
        "--cds-trust", help="CDS Hooks trust list (JSON: issuers and their JWK Sets); default "
                            "$SCANWISE_CDS_TRUST. Without one every CDS Hooks call gets 401.")] = None,
    cds_allow_unsigned: Annotated[bool, typer.Option(
        "--cds-allow-unsigned", help="Accept CDS Hooks calls without a signed JWT. Local "
                                     "development only.")] = False,
    cds_cors_origin: Annotated[list[str] | None, typer.Option(
        "--cds-cors-origin", help="A browser origin allowed to call the CDS Hooks endpoints "
                                  "(repeat for more).")] = None,
    templates: Annotated[Path | None, typer.Option(
        "--templates", help="A folder of templates that win, file by file, over the bundled "
                            "ones (e.g. patient.html.j2, article.html.j2, static/style.css).")] = None,
) -> None:
    import logging

    import uvicorn
    from pydantic import SecretStr

    from scanwise.cds import CdsSettings
    from scanwise.cds.auth import TrustError
    from scanwise.storage import StoreError
    from scanwise.templating import TemplateFolderError, check_folder
    from scanwise.web import WebSettings, create_app, settle_heap
    from scanwise.web.settings import is_loopback

    out = console(stderr=True)
    # Only our request lines (ids, sizes, times) at INFO: other libraries log at WARNING, so no
    # reader's debug output can carry record text into the log.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("scanwise.web").setLevel(logging.INFO)
    logging.getLogger("scanwise.cds").setLevel(logging.INFO)
    cds = CdsSettings.from_env()
    cds.trust_file = cds_trust or cds.trust_file
    cds.allow_unsigned, cds.cors_origins = cds_allow_unsigned, list(cds_cors_origin or [])
    try:
        folder = check_folder(templates) if templates is not None else None
    except TemplateFolderError as exc:
        raise fail(f"--templates: {exc}") from exc
    sock = listen(host, port)
    if cds_allow_unsigned:
        out.print("[bold red]WARNING: --cds-allow-unsigned: CDS Hooks calls are NOT authenticated. "
                  "Local development only; never with real patients.[/]")
    token = admin_token_file.read_text(encoding="utf-8").strip() if admin_token_file else None
    if token is not None and len(token) < 16:
        sock.close()
        raise fail("the admin token file must hold a token of at least 16 characters")
    try:
        app = create_app(WebSettings(
            db=db, timeout_s=timeout, processes=workers or os.cpu_count() or 1,
            allowed_hosts=tuple(allowed_host or ()), bind_host=host,
            admin_token=SecretStr(token) if token else None, templates=folder), cds=cds)
    except (StoreError, TrustError) as exc:  # a bad --db or trust list: the user's input
        sock.close()
        raise fail(str(exc)) from exc
    # What start-up built (the knowledge base, the app) stays out of garbage collection in the
    # server process, as in its workers: a full collection would stop every request in flight.
    settle_heap()
    if not is_loopback(host):
        out.print(f"[yellow]warning:[/] listening on {host}, not only this machine. The app has no "
                  "log-in: put it behind an authenticating proxy with TLS before others can reach "
                  "it, and name it with --allowed-host.")
    url_host = f"[{host}]" if ":" in host else host
    out.print(f"scanwise {app.version} · knowledge base {app.state.services.kb.version}")
    out.print(f"database: {app.state.services.store.url} · "
              f"{app.state.services.workers.processes} worker processes")
    out.print(f"open http://{url_host}:{port}/  (API docs: /docs · stop: Ctrl+C)")
    # Our middleware logs each request by id, size and time; uvicorn's access log would add
    # query strings, so it stays off.
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, access_log=False, log_level="info"))
    server.run(sockets=[sock])


def register(app: typer.Typer) -> None:
    app.command("serve", help=HELP)(serve_command)
