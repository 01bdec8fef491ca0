"""``scanwise cds``: try the CDS Hooks services without an EHR.

    scanwise cds call REQUEST.json [--json] [--service ID] [--base-url URL]
    scanwise cds example order-select|order-sign

``call`` runs a hook request through the same service ``scanwise serve`` answers, in this
process (no network, no token, an in-memory audit), and prints the cards readably or, with
``--json``, the CDS Hooks response. ``example`` prints a complete request for a breast case.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scanwise.cli.common import core, fail

if TYPE_CHECKING:
    from rich.console import Console

EXAMPLES = Path(__file__).parent / "cds" / "examples"
HOOK_SERVICE = {"order-select": "imaging-order-select", "order-sign": "imaging-order-sign"}

cds_app = typer.Typer(
    help="CDS Hooks services for EHRs: try a hook request here, or print an example.", no_args_is_help=True
)


@cache
def out() -> Console:
    """Standard output's console, made on first use: rich is not imported for other commands."""
    from rich.console import Console

    return Console(highlight=False)


@cds_app.command("call")
def call_command(
    request: Annotated[Path, typer.Argument(help='A CDS Hooks request (JSON file), or "-" for stdin.')],
    as_json: Annotated[bool, typer.Option("--json", help="Print the CDS Hooks response as JSON.")] = False,
    service: Annotated[
        str | None, typer.Option(help="Service id (default: the one for the request's hook).")
    ] = None,
    base_url: Annotated[
        str, typer.Option(help="Where the article links in cards point.")
    ] = "http://127.0.0.1:8000",
) -> None:
    """Run a hook request through the service in this process and show the cards."""
    from scanwise.cds.service import CdsService, HookError
    from scanwise.storage import Store

    try:
        body = sys.stdin.buffer.read() if str(request) == "-" else request.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {request}: {exc.strerror}") from exc
    service_id = service
    if service_id is None:
        try:
            hook = json.loads(body).get("hook")
        except (ValueError, AttributeError) as exc:
            raise fail(f"{request}: not a JSON object") from exc
        service_id = HOOK_SERVICE.get(str(hook))
        if service_id is None:
            raise fail(
                f"{request}: hook {hook!r} is not one scanwise answers "
                f"({', '.join(HOOK_SERVICE)}); or give --service"
            )
    svc = CdsService(core(), Store("sqlite://"))
    try:
        response = svc.call(service_id, body, base_url)
    except HookError as exc:
        if as_json:
            sys.stdout.write(json.dumps(exc.outcome(), indent=2) + "\n")
        raise fail(f"HTTP {exc.status}: {exc.message}") from exc
    if as_json:
        sys.stdout.write(json.dumps(response, indent=2, ensure_ascii=False) + "\n")
        return
    print_response(response)


def print_response(response: dict) -> None:  # type: ignore[type-arg]
    from rich.markdown import Markdown  # a Markdown parser: loaded only to print cards
    from rich.panel import Panel

    styles = {"warning": "yellow", "critical": "red", "info": "cyan"}
    if not response["cards"]:
        out().print("No cards.")
    for card in response["cards"]:
        colour = styles.get(card["indicator"], "white")
        out().print(f"[bold {colour}]{card['indicator'].upper()}[/] [bold]{card['summary']}[/]")
        out().print(Panel(Markdown(card.get("detail", "")), subtitle=card["source"]["label"]))
        for s in card.get("suggestions", []):
            out().print(f"  suggestion: {s['label']}")
        for link in card.get("links", []):
            out().print(f"  link: {link['label']} <{link['url']}>")
    for action in response.get("systemActions", []):
        res = action["resource"]
        rating = next(
            (
                c["code"]
                for e in res.get("extension", [])
                if e["url"].endswith("/pama-rating")
                for c in e["valueCodeableConcept"]["coding"]
            ),
            "?",
        )
        out().print(f"rating recorded on {res['resourceType']}/{res.get('id', '?')}: [bold]{rating}[/]")


@cds_app.command("example")
def example_command(
    hook: Annotated[str, typer.Argument(help="order-select or order-sign")],
) -> None:
    """Print a complete example request (a breast case: staging PET/CT for early-stage cancer)."""
    path = EXAMPLES / f"{hook}.json"
    if hook not in HOOK_SERVICE or not path.exists():
        raise fail(f"no example for {hook!r}; choose one of: {', '.join(HOOK_SERVICE)}")
    sys.stdout.write(path.read_text(encoding="utf-8"))
    if not path.read_text(encoding="utf-8").endswith("\n"):
        sys.stdout.write("\n")


def register(app: typer.Typer) -> None:
    app.add_typer(cds_app, name="cds")
