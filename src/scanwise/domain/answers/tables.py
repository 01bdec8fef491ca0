"""Side-by-side tables: ACR ratings for a scenario, and two or more tests compared."""

from __future__ import annotations

from collections.abc import Callable

from scanwise.domain.answers.models import Table
from scanwise.domain.answers.text import split_sentences
from scanwise.domain.assess import Match, RatedProcedure
from scanwise.domain.facts import Fact

#: How many rated tests a ratings table shows; the rest are named in its caption.
MAX_RATED_ROWS = 6

_PLAIN_CATEGORY = {"Usually Appropriate": "usually appropriate", "May Be Appropriate": "may be appropriate",
                   "Usually Not Appropriate": "usually not appropriate"}


def acr_place(match: Match) -> str:
    """Where a rating comes from, in words; an ACR topic no longer current says so."""
    place = f"ACR topic {match.topic_id}, scenario {match.variant}"
    if match.status != "current":
        year = f"{match.year} " if match.year else ""
        place += f" (an older {year}ACR topic, since replaced; the newer one does not cover this)"
    return place


def radiation_words(proc: RatedProcedure) -> str:
    if proc.rrl == 0:
        return "none"
    if proc.rrl_symbols:
        return proc.rrl_symbols + (f" ({proc.rrl_msv})" if proc.rrl_msv else "")
    return "not in data"


def ratings_table(match: Match, plain: Callable[[RatedProcedure], str], *,
                  asked: set[str] | None = None) -> Table:
    """The scenario's rated tests, asked ones and the better-rated first, as the KB has them."""
    order = list(_PLAIN_CATEGORY)
    procs = sorted(match.procedures, key=lambda p: (p.name not in (asked or set()),
                                                    order.index(p.category) if p.category in order else 9))
    rows: list[list[str]] = []
    for proc in procs:
        name = plain(proc)
        if any(r[0] == name for r in rows):
            continue
        rows.append([name, _PLAIN_CATEGORY.get(proc.category, proc.category.lower()), radiation_words(proc)])
    more = len(rows) - MAX_RATED_ROWS
    caption = (f"{acr_place(match)}: {match.label or match.topic}"
               + (f" ({more} more tests are rated in the source)" if more > 0 else ""))
    return Table(columns=["Test", "ACR rating", "Radiation"], rows=rows[:MAX_RATED_ROWS], caption=caption)


def first_sentence(fact: Fact, n: int = 1) -> str:
    return " ".join(split_sentences(" ".join(fact.text.split()))[:n])


def comparison_table(labels: list[str], rows: list[tuple[str, list[list[Fact]]]]) -> Table:
    """One column per test; each row a theme, each cell the first sentences of that test's facts."""
    out, cites = [], []
    for theme, cells in rows:
        if not any(cells):
            continue
        n = 2 if theme in ("How it works", "Limits") else 1
        out.append([theme] + [" ".join(first_sentence(f, n) for f in group) if group
                              else "Not in scanwise's facts." for group in cells])
        cites.append(list(dict.fromkeys(f.id for group in cells for f in group)))
    return Table(columns=[""] + labels, rows=out, row_citations=cites)
