"""An answer built from a patient topic's outline (knowledge/answers/topics.yaml).

The outline decides what is said: the short answer's facts first, then its sections in
order. ACR scenarios named by the outline are shown as a ratings table copied from the
knowledge base with their topic and variant; plain lines are scanwise speaking about itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanwise.domain.answers.blocks import Block, Para
from scanwise.domain.answers.outlines import OutlineSection, Topic, Topics
from scanwise.domain.answers.short import shorten
from scanwise.domain.answers.tables import ratings_table
from scanwise.domain.assess import match_for

if TYPE_CHECKING:
    from scanwise.domain.answers.compose import _Composer


def topic_short(c: _Composer, topic: Topic) -> tuple[str, list[str]]:
    """The short answer and the facts it rests on (then not repeated in the sections)."""
    facts = [c.facts[f] for f in topic.short]
    c.used.update(f.id for f in facts)
    texts = list(topic.plain) + [f.text for f in facts]
    if topic.scope_note:
        texts = [topic.scope_note]
    return shorten(texts, max_sentences=4 if topic.scope_note else 3), [f.id for f in facts]


def topic_blocks(c: _Composer, topic: Topic, topics: Topics) -> list[Block | None]:
    if topic.intent == "out_of_scope":
        block = Block("What scanwise can answer", kind="scope")  # the short answer says why, kindly
        block.bullets = [Para(t, []) for t in topics.can_answer]
        return [block]
    blocks: list[Block | None] = [b for s in topic.sections for b in _section(c, s)]
    if c.personalized:
        blocks.append(c.situation())
    if topic.questions:
        blocks.append(c.questions(topic.questions, limit=3))
    return blocks


def _section(c: _Composer, s: OutlineSection) -> list[Block]:
    """The section's facts and plain lines, then one ratings table per ACR scenario it names."""
    block = Block(s.heading, kind="plain" if s.plain and not s.facts else "content")
    p = c.para(c.ids(*s.facts))
    if p:
        block.paras.append(p)
    block.bullets = [Para(t, []) for t in s.plain]
    blocks = [block]
    for i, ref in enumerate(s.acr):
        match = match_for(c.kb, ref.topic, ref.variant)
        heading = s.heading if i == 0 else "Also rated by the ACR"
        target = block if i == 0 and block.empty() else Block(heading)
        target.kind = "ratings"
        target.refs.append(c.ref(match))
        if match.ratings_verified and match.procedures:
            target.table = ratings_table(match, c.plain_name)
        else:
            target.bullets.append(Para(f"ACR topic {match.topic_id}, scenario {match.variant}"
                                       f" ({match.label or match.topic}): the ACR's ratings are not in "
                                       "scanwise's data.", []))
            target.bullets += [Para(f"What other guidelines say: {st.publisher} ({st.year or 'undated'}): "
                                    f"{st.text}", []) for st in match.statements[:3]]
        if target is not block:
            blocks.append(target)
    return [b for b in blocks if not b.empty()]
