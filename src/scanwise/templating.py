"""The one template root: the bundled templates, behind an operator's folder if given.

Web pages and clinician articles load their Jinja templates through :func:`loader`. A
deployment overrides templates one by one by passing a folder (``scanwise serve --templates
DIR``, ``scanwise articles build OUTDIR --templates DIR``): a file there with a bundled
template's name (``patient.html.j2``, ``article.html.j2``, ``static/style.css``, ...) is used
instead of it; every other template still comes from the bundled folder.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader

#: The templates that ship with scanwise (pages, articles, the article site's static files).
BUNDLED = Path(__file__).parent / "templates"


class TemplateFolderError(ValueError):
    """A templates folder that cannot be used (missing, or not a folder)."""


def check_folder(folder: Path | str) -> Path:
    """The folder, resolved, or a TemplateFolderError naming what is wrong with it."""
    path = Path(folder).expanduser()
    if not path.exists():
        raise TemplateFolderError(f"templates folder {folder} does not exist")
    if not path.is_dir():
        raise TemplateFolderError(f"templates folder {folder} is not a folder")
    return path.resolve()


@cache
def loader(override: Path | None = None) -> BaseLoader:
    """The bundled templates, or the override folder first and then the bundled ones."""
    bundled = FileSystemLoader(BUNDLED)
    if override is None:
        return bundled
    return ChoiceLoader([FileSystemLoader(check_folder(override)), bundled])
