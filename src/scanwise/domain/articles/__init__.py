"""Clinician articles: one readable page per guideline variant, composed from the knowledge base.

``compose_article`` builds the typed Article (pure) from the knowledge base and the article
library (fragments, loaded and validated by ``knowledge/loader.py``); turning it into Markdown
or HTML is the renderer's (``scanwise.render.articles``).
"""

from .compose import all_variants, compose_article
from .library import Library
from .model import Article

__all__ = ["Article", "Library", "all_variants", "compose_article"]
