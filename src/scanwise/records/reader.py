"""Turn a file's bytes into documents: decide what it is, enforce the limits, read it."""

from __future__ import annotations

from scanwise.domain.kb import KnowledgeBase
from scanwise.records.model import MAX_BYTES, MAX_TEXT_CHARS, DocumentFacts, RecordError, SourceSummary
from scanwise.records.text import read_text_document


def _decode_text(name: str, data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise RecordError(f"{name}: binary data, not text, PDF or FHIR JSON")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")  # portal exports from older systems
        except UnicodeDecodeError as exc:
            raise RecordError(f"{name}: not readable text (neither UTF-8 nor Windows-1252)") from exc
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(8, len(text) // 50):
        raise RecordError(f"{name}: binary data, not text, PDF or FHIR JSON")
    return text


def _check_text(name: str, text: str) -> None:
    if not text.strip():
        raise RecordError(f"{name}: the file is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise RecordError(f"{name}: {len(text):,} characters of text; the limit is "
                          f"{MAX_TEXT_CHARS:,} per file")


def read_document(name: str, data: bytes, kb: KnowledgeBase) -> tuple[list[DocumentFacts], SourceSummary]:
    """Read one file (text, PDF or FHIR JSON) into documents. Raises RecordError."""
    if len(data) > MAX_BYTES:
        # Only the size matters here: a caller may pass just the first bytes past the limit.
        raise RecordError(f"{name}: too large; the limit is {MAX_BYTES // 1024 // 1024} MB per file")
    if not data.strip():
        raise RecordError(f"{name}: the file is empty")
    head = data.lstrip()[:16]
    if head.startswith(b"%PDF"):
        from scanwise.records.pdf import pdf_text

        text, page_starts = pdf_text(name, data)
        _check_text(name, text)
        doc = read_text_document(text, name, kb, kind="pdf", page_starts=page_starts)
        return [doc], SourceSummary(name=name, kind="pdf", date=_iso(doc), chars=len(text),
                                    pages=len(page_starts))
    if name.lower().endswith(".pdf"):
        raise RecordError(f"{name}: named .pdf but is not a PDF file")
    if head[:1] in (b"{", b"[") or name.lower().endswith(".json"):
        from scanwise.records.fhir import read_fhir

        docs, count = read_fhir(data, name, lambda inner, raw: read_document(inner, raw, kb)[0])
        dates = sorted(d.date for d in docs if d.date)
        return docs, SourceSummary(name=name, kind="fhir", date=dates[-1].isoformat() if dates else None,
                                   resources=count)
    text = _decode_text(name, data)
    _check_text(name, text)
    doc = read_text_document(text, name, kb)
    return [doc], SourceSummary(name=name, kind="text", date=_iso(doc), chars=len(text))


def _iso(doc: DocumentFacts) -> str | None:
    return doc.date.isoformat() if doc.date else None
