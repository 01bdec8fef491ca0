"""What a clinician article is made of: a typed record that templates render.

Every passage carries its citations and a confidence; the table rows are the rated
procedures ``assess`` reports for the same variant, with an optional note per row.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from scanwise.domain.assess import RatedProcedure, StatementRef
from scanwise.domain.review import ReviewState


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Citation(_Model):
    id: str  # a source id, or "fact:<id>"
    number: int  # its number in the article's source list
    label: str  # publisher, title, year
    url: str | None
    year: int | None
    confidence: str | None  # for facts: their confidence


class Passage(_Model):
    """A paragraph (or list item) in the project's own words, with what it rests on."""

    text: str
    lead: str | None = None
    cites: list[int] = []  # numbers into Article.sources
    confidence: str = "verified"
    caution: str | None = None  # "older guidance (NCCN 2015)", "uncertain: ..."
    fragment: str | None = None  # the knowledge-base fragment it came from


class FaqItem(_Model):
    question: str
    answer: Passage


class VariantLink(_Model):
    topic_id: int
    variant: int
    label: str | None
    path: str  # the article's page, relative to the site root
    note: str | None = None  # what sets it apart, e.g. "ER+/HER2−"


class Redirect(_Model):
    """Patients this article does not cover, and the scenarios that do."""

    who: str
    go_to: list[VariantLink] = []
    see_also: str | None = None  # a non-variant destination, e.g. "red flags"


class TableRow(RatedProcedure):
    note: Passage | None = None


class Article(_Model):
    kb_version: str
    topic_id: int
    topic: str
    variant: int
    status: str  # current or retired
    year: int | None  # guideline revision year
    label: str | None  # the ACR variant label, as the source writes it
    label_complete: bool
    title: str
    path: str
    situations: list[str]  # titles of the recurring situations it belongs to
    case: Passage
    who_fits: list[str]
    not_for: list[Redirect]
    looking_for: list[Passage]
    pretest: list[Passage]
    bottom_line: str
    table: list[TableRow]
    unrated_procedures: list[str]
    ratings_note: str | None
    why: list[Passage]
    workflow: list[Passage]
    pitfalls: list[Passage]
    faq: list[FaqItem]
    related: list[VariantLink]
    sources: list[Citation]
    source_urls: list[str]  # the ACR topic documents
    citation: str  # how to cite the ACR variant
    verification: str
    notice: str | None  # retired topic, or ratings not in the bundled data
    # Other guidelines' statements on this variant: shown apart from the table, never ratings.
    statements: list[StatementRef] = []
    coverage: str = "none"  # "acr" (ACR ratings), "statements" (other guidelines only), "none"
    pack: str | None = None  # the content pack that supplied the table; None: bundled data
    review: ReviewState = ReviewState(state="unreviewed")
