"""Text from a text-based PDF (a portal download), page by page, with pypdf."""

from __future__ import annotations

import io
import logging

from scanwise.records.model import RecordError

SCANNED = "no text found in the PDF (it looks like a scanned image) — paste the text of the report instead"


def pdf_text(name: str, data: bytes) -> tuple[str, list[int]]:
    """The PDF's text and where each page starts in it. Raises RecordError."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf warns about malformed objects through logging; a warning is not worth the user's attention
    # and may quote the file, so it stays quiet.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as exc:  # noqa: BLE001 - any failure means the same to the user
                raise RecordError(f"{name}: the PDF is password-protected; save an unprotected copy") from exc
        pages = [page.extract_text() or "" for page in reader.pages]
    except RecordError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise RecordError(f"{name}: not a readable PDF ({type(exc).__name__})") from exc
    text, starts = "", []
    for page in pages:
        starts.append(len(text))
        text += page.rstrip() + "\n\n"
    if not text.strip():
        raise RecordError(f"{name}: {SCANNED}")
    return text, starts
