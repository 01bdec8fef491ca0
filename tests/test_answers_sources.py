"""Patient answers cite authoritative publishers only (issue 13): the allowlist is data in
knowledge/answers/source-hosts.yaml, and every source a fact rests on must be on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanwise.domain.answers.sources import allowed_host, host_of
from scanwise.domain.facts import Fact
from scanwise.domain.kb import KnowledgeBase
from scanwise.knowledge.loader import DATA_DIR, default_kb, load_facts, load_yaml, top_level_list

HOSTS = default_kb().answers.hosts


@pytest.fixture(scope="module")
def facts(kb: KnowledgeBase) -> dict[str, Fact]:
    return load_facts(kb)


def test_every_fact_cites_only_allowlisted_hosts(facts: dict[str, Fact], kb: KnowledgeBase) -> None:
    bad = sorted({(fid, src, host_of(kb.sources[src].url)) for fid, f in facts.items() for src in f.sources
                  if kb.sources[src].url is not None and allowed_host(kb.sources[src].url, HOSTS) is None})
    assert not bad, f"facts citing hosts outside source-hosts.yaml: {bad}"


def test_every_patient_source_entry_is_allowlisted() -> None:
    path = DATA_DIR / "sources-patient.yaml"
    bad = [(s["id"], s.get("url")) for s in top_level_list(load_yaml(path), path, "sources")
           if s.get("url") is not None and allowed_host(s.get("url"), HOSTS) is None]
    assert not bad, f"sources-patient.yaml entries outside the allowlist: {bad}"


@pytest.mark.parametrize("url", [
    "https://www.scribd.com/document/1/Dose-Reference-Card-pdf",  # document sharing
    "https://cld.bz/ob7J06r/87/",  # a copy of a guideline PDF
    "https://www.empr.com/news/x",  # news
    "https://radiologyresource.org/en/info.cfm",  # a mirror of RadiologyInfo
    "https://notacr.org/page",  # a look-alike host, not a subdomain of acr.org
    None,
])
def test_non_authoritative_hosts_are_refused(url: str | None) -> None:
    assert allowed_host(url, HOSTS) is None


def test_subdomains_of_listed_publishers_are_accepted() -> None:
    assert allowed_host("https://pmc.ncbi.nlm.nih.gov/articles/PMC1", HOSTS)
    assert allowed_host("https://acsearch.acr.org/list", HOSTS)
    assert allowed_host("http://www.springermedizin.de./x", HOSTS)  # a trailing dot is the same host


def test_allowlist_has_no_blog_or_sharing_hosts() -> None:
    domains = {h.domain for h in HOSTS}
    assert not domains & {"scribd.com", "cld.bz", "empr.com", "drugs.com", "auntminnie.com", "primidi.com",
                          "docslib.org", "ouci.dntb.gov.ua", "litmetric.com", "jesse.tg", "obgyn.net",
                          "web.archive.org", "questionsmedicales.fr", "research.rug.nl"}


def test_a_source_without_a_link_says_where_it_was_read(kb: KnowledgeBase) -> None:
    """A link dropped because only a copy was seen leaves the citation and a note saying so."""
    for sid in ("fes-liver-2021", "dl282", "ngc204", "zhang-duke"):
        src = kb.sources[sid]
        assert src.url is None and src.note and "no " in src.note
    assert Path(DATA_DIR / "answers" / "source-hosts.yaml").is_file()
