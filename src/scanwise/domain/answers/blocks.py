"""Blocks of an answer before they become sections: paragraphs with the facts they cite.

``finish`` turns blocks into sections: it defines medical words once per answer (the first
time one is used), drops a paragraph that repeats one already shown, and collects citations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from scanwise.domain.answer_data import GlossaryEntry
from scanwise.domain.answers.models import GuidelineRef, Section, SectionKind, Table
from scanwise.domain.answers.text import Definer, glossary
from scanwise.domain.facts import Fact


@dataclass
class Para:
    text: str
    cites: list[str]


@dataclass
class Block:
    heading: str
    kind: SectionKind = "content"
    paras: list[Para] = field(default_factory=list)
    bullets: list[Para] = field(default_factory=list)
    refs: list[GuidelineRef] = field(default_factory=list)
    note: str | None = None
    table: Table | None = None

    def empty(self) -> bool:
        return not (self.paras or self.bullets or self.table)


def finish(blocks: list[Block], facts: dict[str, Fact], glossary_entries: Sequence[GlossaryEntry], *,
           already: tuple[str, ...] | list[str] = ()) -> tuple[list[Section], list[str]]:
    """Sections with their citations; ``already`` are facts shown before (the short answer);
    medical words are defined on first use from ``glossary_entries``."""
    definer = Definer(facts, glossary(facts, glossary_entries))
    definer.per_paragraph = 1
    definer.shown.update(already)
    shown_texts: set[str] = set()
    sections = []
    cited: list[str] = list(dict.fromkeys(already))
    for b in blocks:
        paragraphs, p_cites = [], []
        for para in b.paras:
            key = " ".join(para.text.split()).lower()
            if key in shown_texts:
                continue  # the same paragraph is never shown twice in one answer
            shown_texts.add(key)
            text, cites = definer.define(para.text, para.cites) if para.cites else (para.text, para.cites)
            paragraphs.append(text)
            p_cites.append(cites)
        bullets = [p.text for p in b.bullets]
        b_cites = [p.cites for p in b.bullets]
        row_cites = b.table.row_citations if b.table else []
        section_cites = list(dict.fromkeys(f for group in p_cites + b_cites + row_cites for f in group))
        if not (paragraphs or bullets or b.table):
            continue
        cited += [f for f in section_cites if f not in cited]
        sections.append(Section(heading=b.heading, kind=b.kind, paragraphs=paragraphs, bullets=bullets,
                                citations=section_cites, paragraph_citations=p_cites,
                                bullet_citations=b_cites, guideline_refs=b.refs, note=b.note, table=b.table))
    return sections, cited
