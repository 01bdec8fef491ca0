"""``scanwise articles``: clinician articles, one per guideline variant, and a static site.

    scanwise articles show 310 2 [--json]     one article as Markdown (or the Article as JSON)
    scanwise articles build OUTDIR            the whole site: index, search, one page per variant
        [--templates DIR]                     an operator's templates winning over the bundled

Retired topics have articles too, each marked as retired, so there is no --include-retired here.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from scanwise.cli.common import JsonFlag, console, core, core_errors, fail, group, print_json

articles_app = group("articles", "Clinician articles: one readable page per guideline scenario, and a "
                     "static site.")


@articles_app.command("show")
def show(
    topic: Annotated[int, typer.Argument(help="ACR topic id, e.g. 310.")],
    variant: Annotated[int, typer.Argument(help="Variant number within the topic, e.g. 2.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the Article as JSON.")] = False,
) -> None:
    """Print one article as Markdown."""
    app = core()
    with core_errors():
        article = app.article(topic, variant)
    if as_json:
        print_json(article)
    else:
        from scanwise.render.articles import render_markdown

        sys.stdout.write(render_markdown(article))


@articles_app.command("build")
def build(
    outdir: Annotated[Path, typer.Argument(help="Folder to write the site into (created if needed).")],
    as_json: JsonFlag = False,
    templates: Annotated[Path | None, typer.Option(
        "--templates", help="A folder of templates that win, file by file, over the bundled "
                            "ones (e.g. article.html.j2, index.html.j2, static/style.css).")] = None,
) -> None:
    """Write the static site: index with offline search, one HTML page per variant, articles.json."""
    from rich.progress import Progress

    from scanwise.render.articles import site_files
    from scanwise.templating import TemplateFolderError, check_folder

    if outdir.exists() and not outdir.is_dir():
        raise fail(f"{outdir} exists and is not a folder")
    try:
        folder = check_folder(templates) if templates is not None else None
    except TemplateFolderError as exc:
        raise fail(f"--templates: {exc}") from exc
    app = core()
    err = console(stderr=True)
    with core_errors():
        keys = app.article_keys()
        articles = []
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("composing articles", total=len(keys))
            for topic_id, number in keys:
                articles.append(app.article(topic_id, number))
                progress.advance(task)
        files = site_files(app.kb, articles, templates=folder)
    try:
        for rel, text in files.items():
            path = outdir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write the site to {outdir}: {exc}") from exc
    if as_json:
        print_json({"outdir": str(outdir), "articles": len(articles), "files": sorted(files)})
    else:
        err.print(f"wrote {len(articles)} articles ({len(files)} files) to {outdir}; "
                  f"open {outdir / 'index.html'}")


def register(app: typer.Typer) -> None:
    app.add_typer(articles_app, name="articles")
