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
from scanwise.domain.answers.tables import acr_place, ratings_table
from scanwise.domain.answers.text import split_sentences
from scanwise.domain.assess import match_for

if TYPE_CHECKING:
    from scanwise.domain.answers.compose import _Composer


def topic_short(c: _Composer, topic: Topic) -> tuple[str, list[str]]:
    """The short answer and the facts it rests on (then not repeated in the sections).

    A short fact that does not fit whole stays unused, so the first section shows it."""
    if topic.scope_note:
        return shorten([topic.scope_note], max_sentences=4), []
    short = shorten(list(topic.plain) + [c.facts[f].text for f in topic.short])
    shown = [f for f in topic.short if split_sentences(" ".join(c.facts[f].text.split()))[0] in short]
    c.used.update(shown)
    return short, shown


def _rest_of_short(c: _Composer, topic: Topic, short: str) -> Para | None:
    """The sentences of short-answer facts that did not fit, so nothing is lost or said twice."""
    rest, cites = [], []
    for fid in topic.short:
        sentences = split_sentences(" ".join(c.facts[fid].text.split()))
        left = [s for s in sentences if s not in short]
        if left and sentences[0] in short:  # begun in the short answer, finished here
            rest += left
            cites.append(fid)
    return Para(" ".join(rest), cites) if rest else None


def topic_blocks(c: _Composer, topic: Topic, topics: Topics, short: str = "") -> list[Block | None]:
    if topic.intent == "out_of_scope":
        block = Block("What scanwise can answer", kind="scope")  # the short answer says why, kindly
        block.bullets = [Para(t, []) for t in topics.can_answer]
        return [block]
    left = [f for f in topic.short if f not in c.used]  # did not fit in the short answer
    sections = list(topic.sections)
    if left and sections:
        first = sections[0]
        sections[0] = first.model_copy(update={"facts": left + [f for f in first.facts if f not in left]})
    elif left:
        sections = [OutlineSection(heading="More on this", facts=left)]
    blocks: list[Block | None] = [b for s in sections for b in _section(c, s)]
    rest = _rest_of_short(c, topic, short)
    if rest is not None:
        blocks.insert(0, Block("More on this", paras=[rest]))
    if c.personalized and _engine_agrees(c, topic):
        blocks.append(c.situation())
    if topic.questions:
        blocks.append(c.questions(topic.questions, limit=3))
    return blocks


def _engine_agrees(c: _Composer, topic: Topic) -> bool:
    """The personal part is shown when the engine branches, or when its best scenario belongs to an
    ACR topic this outline is about; a scenario from another topic would answer another question."""
    a = c.assessment
    if a is None:
        return False
    if a.decision is not None:
        return True
    ours = {ref.topic for s in topic.sections for ref in s.acr}
    return bool(a.matches) and a.matches[0].topic_id in ours


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
            target.bullets.append(Para(f"{acr_place(match)} ({match.label or match.topic}): the ACR's "
                                       "ratings are not in scanwise's data.", []))
            target.bullets += [Para(f"What other guidelines say: {st.publisher} ({st.year or 'undated'}): "
                                    f"{st.text}", []) for st in match.statements[:3]]
        if target is not block:
            blocks.append(target)
    return [b for b in blocks if not b.empty()]
