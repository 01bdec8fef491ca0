"""Clinician articles to Markdown and HTML through the one template root (:mod:`scanwise.templating`).

The domain composes each article (``domain/articles``: its content model); this module only
renders. ``site_files`` returns the whole static site for the composed articles as
{relative path: text} and leaves writing it to the caller. The site works from the file system with no server
and no network: the search index ships as a script next to its JSON twin.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, select_autoescape

from scanwise.domain.articles import Article
from scanwise.domain.assess import RatedProcedure
from scanwise.domain.kb import KnowledgeBase
from scanwise.domain.statements import disagreements
from scanwise.templating import loader

STATIC_FILES = ("style.css", "search.js")


def rrl_text(p: RatedProcedure) -> str:
    """The radiation cell as recommend shows it: symbols and band, or 'not in data'."""
    if p.rrl is None and not p.rrl_msv:
        return "not in data"
    return f"{p.rrl_symbols} {p.rrl_msv or ''}".strip()


def _md_cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


@cache
def _env(kind: str, templates: Path | None = None) -> Environment:
    """The environment for one kind of output; ``templates``: an operator's folder first."""
    env = Environment(
        loader=loader(templates),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False)
        if kind == "html" else False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md_cell"] = _md_cell
    env.filters["slug"] = _slug
    env.globals["rrl_text"] = rrl_text
    env.globals["disagreements"] = disagreements
    return env


def _category_class(category: str) -> str:
    return {"Usually Appropriate": "ua", "May Be Appropriate": "mba",
            "May Be Appropriate (Disagreement)": "mba", "Usually Not Appropriate": "una"}[category]


def render_markdown(article: Article, *, templates: Path | None = None) -> str:
    return _env("md", templates).get_template("article.md.j2").render(a=article)


def render_html(article: Article, *, root: str = "../", templates: Path | None = None) -> str:
    return _env("html", templates).get_template("article.html.j2").render(
        a=article, root=root, category_class=_category_class)


def _index_entry(a: Article) -> dict[str, Any]:
    return {"topic_id": a.topic_id, "variant": a.variant, "title": a.title, "path": a.path,
            "topic": a.topic, "label": a.label or "", "status": a.status,
            "rated": bool(a.table), "coverage": a.coverage, "review": a.review.state,
            "text": " ".join([*a.who_fits, *a.situations, *(r.name for r in a.table)])}


def site_files(kb: KnowledgeBase, articles: Iterable[Article], *,
               templates: Path | None = None) -> dict[str, str]:
    """Every file of the static site for ``articles`` (``Scanwise.articles()``: all of them),
    keyed by path relative to its root (``templates``: an operator's folder whose templates
    and static files win over the bundled ones). ``kb`` adds the topics that have no
    variants in the bundled data and the version on the index."""
    arts = list(articles)
    files: dict[str, str] = {a.path: render_html(a, templates=templates) for a in arts}
    topics: dict[tuple[str, int], list[Article]] = {}
    for a in arts:
        topics.setdefault((a.status, a.topic_id), []).append(a)
    groups: list[dict[str, Any]] = [
        {"topic_id": tid, "topic": group[0].topic, "status": status, "year": group[0].year,
         "articles": group, "urls": [], "statements": 0}
        for (status, tid), group in topics.items()]
    # Topics whose variants are not in the bundled data still get an entry that says so.
    groups += [{"topic_id": t.topic_id, "topic": t.title, "status": t.status, "year": t.revision_year,
                "articles": [], "urls": t.source_urls,
                "statements": len(kb.statements_for(t.topic_id)) if t.status == "current" else 0}
               for t in kb.topics if not t.variants and t.status != "superseded"]
    groups.sort(key=lambda g: (g["status"] != "current", g["topic_id"]))
    entries = [_index_entry(a) for a in arts]
    html = _env("html", templates)
    files["index.html"] = html.get_template("index.html.j2").render(
        groups=groups, kb_version=kb.version, count=len(arts), root="")
    files["search-index.json"] = json.dumps(entries, ensure_ascii=False, indent=0) + "\n"
    files["search-index.js"] = ("window.SCANWISE_INDEX = "
                                + json.dumps(entries, ensure_ascii=False) + ";\n")
    files["articles.json"] = json.dumps(
        [{"topic_id": a.topic_id, "variant": a.variant, "title": a.title, "path": a.path}
         for a in arts], ensure_ascii=False, indent=2) + "\n"
    assert html.loader is not None
    for name in STATIC_FILES:
        files[name] = html.loader.get_source(html, f"static/{name}")[0]
    return files
