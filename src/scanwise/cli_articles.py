"""`scanwise articles`: clinician articles, one per guideline variant, and a static site.

    scanwise articles show 310 2 [--json]     one article as Markdown (or the Article as JSON)
    scanwise articles build OUTDIR            the whole site: index, search, one page per variant
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from scanwise.domain.kb import KnowledgeBase, KnowledgeBaseError, default_kb

articles_app = typer.Typer(
    name="articles",
    help="Clinician articles: one readable page per guideline scenario, and a static site.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(message: str, code: int = 2) -> typer.Exit:
    from scanwise.cli import fail

    return fail(message, code)


def _kb() -> KnowledgeBase:
    try:
        return default_kb()
    except KnowledgeBaseError as exc:
        raise _fail(f"the knowledge base failed to load: {exc}", 3) from exc


@articles_app.command("show")
def show(
    topic: Annotated[int, typer.Argument(help="ACR topic id, e.g. 310.")],
    variant: Annotated[int, typer.Argument(help="Variant number within the topic, e.g. 2.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the Article as JSON.")] = False,
) -> None:
    """Print one article as Markdown."""
    from scanwise.domain.articles import compose_article, render_markdown

    kb = _kb()
    try:
        article = compose_article(kb, topic, variant)
    except KeyError as exc:
        raise _fail(str(exc.args[0] if exc.args else exc)) from exc
    except KnowledgeBaseError as exc:
        raise _fail(f"the article fragments failed to load: {exc}", 3) from exc
    if as_json:
        sys.stdout.write(article.model_dump_json(indent=2) + "\n")
    else:
        sys.stdout.write(render_markdown(article))


@articles_app.command("build")
def build(
    outdir: Annotated[Path, typer.Argument(help="Folder to write the site into (created if needed).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print what was written as JSON.")] = False,
) -> None:
    """Write the static site: index with offline search, one HTML page per variant, articles.json."""
    from scanwise.cli import err
    from scanwise.domain.articles import all_variants, compose_article, default_library, site_files

    kb = _kb()
    if outdir.exists() and not outdir.is_dir():
        raise _fail(f"{outdir} exists and is not a folder")
    try:
        library = default_library(kb)
        keys = all_variants(kb)
        articles = []
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("composing articles", total=len(keys))
            for topic_id, number in keys:
                articles.append(compose_article(kb, topic_id, number, library=library))
                progress.advance(task)
        files = site_files(kb, library=library, articles=articles)
    except KnowledgeBaseError as exc:
        raise _fail(f"the article fragments failed to load: {exc}", 3) from exc
    try:
        for rel, text in files.items():
            path = outdir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _fail(f"cannot write the site to {outdir}: {exc}") from exc
    if as_json:
        sys.stdout.write(json.dumps({"outdir": str(outdir), "articles": len(articles),
                                     "files": sorted(files)}, indent=2) + "\n")
    else:
        err.print(f"wrote {len(articles)} articles ({len(files)} files) to {outdir}; "
                  f"open {outdir / 'index.html'}")


def register(app: typer.Typer) -> None:
    app.add_typer(articles_app, name="articles")
