"""Which publishers patient answers may cite, and the answer's source list grouped by publisher.

The allowlist is data (``knowledge/answers/source-hosts.yaml``): a source is authoritative when
its URL's host is one of the listed domains or a subdomain of one. Anything else (blogs, news,
vendor and imaging-centre pages, document-sharing copies, aggregators, unknown hosts) is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlparse

from scanwise.domain.answer_data import AllowedHost, HostKind
from scanwise.domain.answers.models import Section, SourceGroup, SourceRef
from scanwise.domain.facts import Fact
from scanwise.domain.kb import KnowledgeBase, Source

__all__ = ["AllowedHost", "HostKind", "allowed_host", "host_of", "is_authoritative", "source_groups",
           "source_line", "source_list", "topic_sources"]


def host_of(url: str | None) -> str | None:
    host = urlparse(url or "").hostname
    return host.rstrip(".").lower() if host else None


def allowed_host(url: str | None, hosts: Sequence[AllowedHost]) -> AllowedHost | None:
    """The allowlist entry (of ``KnowledgeBase.answers.hosts``) a URL falls under, or None
    when its host is not on the list."""
    host = host_of(url)
    if host is None:
        return None
    path = urlparse(url or "").path
    for entry in hosts:
        on_host = host == entry.domain or host.endswith("." + entry.domain)
        if on_host and (entry.path is None or (path + "/").startswith(entry.path)):
            return entry
    return None


def is_authoritative(source: Source, kb: KnowledgeBase) -> bool:
    return allowed_host(source.url, kb.answers.hosts) is not None


# --- an answer's source list ---------------------------------------------------------------

def source_list(cited: list[str], facts: dict[str, Fact], kb: KnowledgeBase,
             sections: list[Section]) -> list[SourceRef]:
    ids: list[str] = []
    for fid in cited:
        for src in facts[fid].sources:
            if src not in ids:
                ids.append(src)
    for section in sections:
        for ref in section.guideline_refs:
            for match_src in topic_sources(kb, ref.topic_id, ref.variant):
                if match_src not in ids:
                    ids.append(match_src)
    return [SourceRef(number=n, id=i, title=kb.sources[i].title, publisher=kb.sources[i].publisher,
                      year=kb.sources[i].year, url=kb.sources[i].url, note=kb.sources[i].note)
            for n, i in enumerate(ids, start=1)]


def source_groups(sources: list[SourceRef]) -> list[SourceGroup]:
    groups: dict[str, list[int]] = {}
    for s in sources:
        groups.setdefault(s.publisher, []).append(s.number)
    return [SourceGroup(publisher=p, numbers=n) for p, n in groups.items()]


def topic_sources(kb: KnowledgeBase, topic_id: int, variant: int) -> list[str]:
    try:
        v = kb.topic(topic_id).variant(variant)
    except KeyError:
        try:
            from scanwise.domain.assess import find_topic

            v = find_topic(kb, topic_id).variant(variant)
        except KeyError:
            return []
    keys = [k.strip() for p in v.procedures for k in p.source.split("+")]
    keys += [f"{prefix}{topic_id}" for prefix in ("gp", "ga", "gt", "dl")]
    keys += sorted(k for k in kb.sources if k.startswith(f"acr-{topic_id}-"))
    # Patients see the ACR's own documents; copies the ratings were read from are not cited here.
    return list(dict.fromkeys(k for k in keys if k in kb.sources and is_authoritative(kb.sources[k], kb)))


def source_line(s: SourceRef) -> str:
    """Publisher and title; the link stays behind (``SourceRef.url``), never printed raw."""
    year = f" ({s.year})" if s.year else ""
    return f"[{s.number}] {s.publisher}: {s.title}{year}"
