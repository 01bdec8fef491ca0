"""Facts never carry an ACR rating the bundled tables do not have."""

from __future__ import annotations

import re

from scanwise.domain.kb import KnowledgeBase
from scanwise.knowledge.loader import load_facts

RATING_WORDS = re.compile(r"\b(usually appropriate|may be appropriate|usually not appropriate)\b", re.I)


def test_a_rating_in_a_fact_is_verified_and_cites_an_acr_table(kb: KnowledgeBase) -> None:
    acr_table_sources = {key for t in kb.topics for v in t.variants for p in v.procedures
                         for key in p.source.split("+")}
    for fact in load_facts(kb).values():
        if RATING_WORDS.search(fact.text):
            assert fact.confidence == "verified", fact.id
            assert set(fact.sources) & acr_table_sources, f"{fact.id} states a rating without its ACR table"


def test_excluded_third_party_summaries_are_not_sources(kb: KnowledgeBase) -> None:
    # The reference compilation excluded these for contradicting ACR; they must not be cited.
    for source in kb.sources.values():
        assert not re.search(r"gighz|droracle", f"{source.url} {source.title}", re.I), source.id
