"""Clinician articles: one readable page per guideline variant, composed from the knowledge base.

``compose_article`` builds the typed Article (pure); ``render`` turns it into Markdown or
HTML through the one template root (``scanwise.templating``); ``site_files`` lays out a whole
static site as a mapping of paths to contents, which an adapter writes to disk.
"""

from .compose import all_variants, compose_article
from .library import Library, default_library, load_library
from .model import Article
from .render import render_html, render_markdown, site_files

__all__ = ["Article", "Library", "all_variants", "compose_article", "default_library",
           "load_library", "render_html", "render_markdown", "site_files"]
