"""Patient topics: which one a question is about, and checking their outlines.

``knowledge/answers/topics.yaml`` lists topics in order (models in ``domain/answer_data.py``,
loaded into ``KnowledgeBase.answers`` by ``knowledge/loader.py``); the first whose rule
matches the question wins. Patterns are checked when loaded; ``check_outlines`` confirms every
fact id and ACR scenario an outline names exists.
"""

from __future__ import annotations

from scanwise.domain.answer_data import AcrRef, OutlineSection, Rule, Topic, TopicIntent, Topics
from scanwise.domain.assess import match_for
from scanwise.domain.facts import Fact
from scanwise.domain.kb import KnowledgeBase, KnowledgeBaseError

__all__ = ["AcrRef", "OutlineSection", "Rule", "Topic", "TopicIntent", "Topics", "check_outlines",
           "topics_of"]

TOPICS_FILE_NAME = "answers/topics.yaml"


def topics_of(kb: KnowledgeBase) -> Topics:
    """The patient topics the knowledge base was loaded with."""
    if kb.answers.topics is None:
        raise KnowledgeBaseError(f"the knowledge base has no patient topics ({TOPICS_FILE_NAME})")
    return kb.answers.topics


_checked: set[tuple[str, int]] = set()


def check_outlines(facts: dict[str, Fact], kb: KnowledgeBase) -> Topics:
    """The topics, after confirming every fact id and ACR scenario they name exists."""
    topics = topics_of(kb)
    key = (kb.version, len(facts))
    if key in _checked:
        return topics
    name = TOPICS_FILE_NAME.rpartition("/")[2]
    for t in topics.topics:
        named = t.short + t.questions + [f for s in t.sections for f in s.facts]
        for fid in named:
            if fid not in facts:
                raise KnowledgeBaseError(f"{name}: topic {t.id}: unknown fact id {fid!r}")
        for s in t.sections:
            for ref in s.acr:
                try:
                    match_for(kb, ref.topic, ref.variant)
                except KeyError as exc:
                    raise KnowledgeBaseError(f"{name}: topic {t.id}: {exc}") from exc
    _checked.add(key)
    return topics
