"""Text from a text-based PDF (a portal download), page by page, with pypdf.

The costly steps are bounded before they run: the page count the file declares is checked
before its page tree is walked, and the extracted text is counted page by page, so a file
that would exceed the limits is refused without reading the rest.
"""

from __future__ import annotations

import io
import logging

from scanwise.records.model import MAX_PAGES, MAX_TEXT_CHARS, RecordError

SCANNED = "no text found in the PDF (it looks like a scanned image) — paste the text of the report instead"


def _too_many_pages(name: str, count: object) -> RecordError:
    return RecordError(f"{name}: the PDF has {count} pages; the limit is {MAX_PAGES:,} per file")


def pdf_text(name: str, data: bytes) -> tuple[str, list[int]]:
    """The PDF's text and where each page starts in it. Raises RecordError."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError
    from pypdf.generic import DictionaryObject

    # pypdf warns about malformed objects through logging; a warning is not worth the user's attention
    # and may quote the file, so it stays quiet.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    text, starts = "", []
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as exc:  # noqa: BLE001 - any failure means the same to the user
                raise RecordError(f"{name}: the PDF is password-protected; save an unprotected copy") from exc
        root = reader.trailer["/Root"].get_object()
        pages = root.get("/Pages") if isinstance(root, DictionaryObject) else None
        pages = pages.get_object() if pages is not None else None
        declared = pages.get("/Count", 0) if isinstance(pages, DictionaryObject) else None
        if not isinstance(declared, int) or declared > MAX_PAGES:
            shown = f"{declared:,}" if isinstance(declared, int) else "an unreadable number of"
            raise _too_many_pages(name, shown)
        if len(reader.pages) > MAX_PAGES:  # the tree may hold more pages than it declares
            raise _too_many_pages(name, f"{len(reader.pages):,}")
        for page in reader.pages:
            starts.append(len(text))
            text += (page.extract_text() or "").rstrip() + "\n\n"
            if len(text) > MAX_TEXT_CHARS:
                raise RecordError(f"{name}: more than {MAX_TEXT_CHARS:,} characters of text in the first "
                                  f"{len(starts)} pages; the limit is {MAX_TEXT_CHARS:,} per file")
    except RecordError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError,
            MemoryError) as exc:
        raise RecordError(f"{name}: not a readable PDF ({type(exc).__name__})") from exc
    if not text.strip():
        raise RecordError(f"{name}: {SCANNED}")
    return text, starts
