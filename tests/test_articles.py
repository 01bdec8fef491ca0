"""Clinician articles: one per variant, never disagreeing with recommend, in our own words."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from reference_data import REFERENCE, skip_without
from typer.testing import CliRunner

from scanwise.cli import app
from scanwise.core import Scanwise
from scanwise.domain.articles import Article, Library, all_variants, compose_article
from scanwise.domain.articles.library import SECTIONS
from scanwise.domain.assess import RatedProcedure, assess, match_for
from scanwise.domain.kb import KnowledgeBase, KnowledgeBaseError
from scanwise.eval.runner import load_scenarios
from scanwise.knowledge.loader import ARTICLES_DIR, load_facts, load_library
from scanwise.nlp.scenario import read_scenario
from scanwise.render.articles import render_html, render_markdown, site_files

runner = CliRunner()


@pytest.fixture(scope="module")
def library(kb: KnowledgeBase) -> Library:
    return load_library(kb, load_facts(kb))


@pytest.fixture(scope="module")
def articles(kb: KnowledgeBase, library: Library) -> dict[tuple[int, int], Article]:
    return {key: compose_article(kb, *key, library=library, reviews=[]) for key in all_variants(kb)}


def test_the_core_composes_the_same_articles(kb: KnowledgeBase,
                                             articles: dict[tuple[int, int], Article]) -> None:
    """The core loads the library once and composes each article from it with the stored
    sign-offs (none bundled), as the fixtures here do."""
    core = Scanwise(kb)
    assert core.article(310, 2) == articles[(310, 2)]
    assert [(a.topic_id, a.variant) for a in core.articles()] == list(articles)


@pytest.fixture(scope="module")
def seed(articles: dict[tuple[int, int], Article]) -> Article:
    return articles[(310, 2)]


# --- coverage -------------------------------------------------------------------------------------

def test_an_article_for_every_variant(kb: KnowledgeBase, articles: dict[tuple[int, int], Article]) -> None:
    expected = {(t.topic_id, v.number) for t in kb.topics for v in t.variants}
    assert set(articles) == expected
    assert len(articles) == 98
    assert len({a.path for a in articles.values()}) == 98


def test_retired_and_unrated_variants_say_so(articles: dict[tuple[int, int], Article]) -> None:
    retired = articles[(154, 1)]
    assert retired.status == "retired" and retired.notice and "retired" in retired.notice
    assert any("retired" in r.who for r in retired.not_for)
    assert [(link.topic_id, link.variant) for r in retired.not_for if "retired" in r.who
            for link in r.go_to] == [(310, 2)]
    unrated = articles[(310, 4)]
    assert unrated.table == []
    assert unrated.notice and "not in the bundled data" in unrated.notice
    assert "not in the bundled data" in unrated.verification
    assert any("acsearch.acr.org" in u for u in unrated.source_urls)
    assert any(q.question.startswith("Why does this page show no ratings") for q in unrated.faq)
    assert unrated.situations == ["Looking for distant spread at diagnosis, late stage (IIB–III)"]


@pytest.mark.parametrize(("key", "expected"), [
    ((310, 2), "ratings: ACR primary table, complete; categories only, no numeric ratings"),
    ((153, 4), "ratings: ACR primary table, partial; categories only, no numeric ratings"),
    ((154, 1), "ratings: ACR table via a 2020 copy of the ACR site, complete; with numeric ratings"),
    ((310, 5), "ratings: not in the bundled data (unknown); see the ACR document"),
])
def test_verification_status(articles: dict[tuple[int, int], Article], key: tuple[int, int],
                             expected: str) -> None:
    assert articles[key].verification == expected


# --- the seed: ACR 310 variant 2 has every part --------------------------------------------------------

def test_seed_has_every_part(seed: Article) -> None:
    assert seed.case.text and seed.case.fragment == "distant-early.case.seed"
    assert seed.who_fits == ["newly diagnosed", "imaging for distant spread (metastases)",
                             "clinical stage IA–IIA", "invasive cancer"]
    for part in ("not_for", "looking_for", "pretest", "table", "why", "workflow", "pitfalls",
                 "faq", "related", "sources", "source_urls"):
        assert getattr(seed, part), f"{part} is empty"
    assert seed.bottom_line.startswith("Every study rated for this scenario is Usually Not Appropriate")
    assert seed.year == 2024 and seed.status == "current"
    assert seed.verification.startswith("ratings: ACR primary table, complete")


def test_seed_redirects_follow_the_sibling_conditions(seed: Article) -> None:
    where = {r.who: [(link.topic_id, link.variant, link.note) for link in r.go_to] for r in seed.not_for}
    assert where["clinical stage IIB–IIIC"] == [(310, 4, "ER+/HER2−"), (310, 5, "HER2+ or triple negative")]
    assert where["imaging for extent in the breast and regional nodes (locoregional)"] == [(310, 1, None)]
    spread = next(r for r in seed.not_for if r.who.startswith("with warning signs of spread"))
    assert {(link.topic_id, link.variant) for link in spread.go_to} == {(235, 6), (310, 11)}
    assert spread.see_also and "red-flag" in spread.see_also


def test_seed_why_covers_yield_false_positives_radiation_and_outcome(seed: Article) -> None:
    leads = [p.lead for p in seed.why]
    for lead in ("Low yield.", "False positives and their cascade.", "Radiation.", "Guidelines agree.",
                 "No outcome gain on record."):
        assert lead in leads
    assert any("NCCN" in (p.caution or "") for p in seed.why), "the 2015 NCCN view is labelled as older"


def test_seed_workflow_says_when_to_reconsider(seed: Article) -> None:
    leads = {p.lead for p in seed.workflow}
    assert {"New symptoms or abnormal labs.", "Upstaging."} <= leads


def test_seed_pretest_probabilities_come_from_the_fact_base(seed: Article) -> None:
    cited = {s.id for s in seed.sources}
    # The pooled bone-scan yields (1.3%...) were dropped with their news-site source (issue 13).
    assert "fact:probability.pet_early" in cited


def test_seed_table_rows_carry_study_notes(seed: Article) -> None:
    pet = next(r for r in seed.table if r.name.startswith("FDG-PET/CT"))
    assert pet.note and pet.rrl is None  # the level is unknown in the data, and stays unknown
    assert "not in data" in render_markdown(seed)


# --- never disagree with recommend ----------------------------------------------------------------------

def _row(p: RatedProcedure) -> tuple[str, str, int | None, str, str | None, int | None]:
    return (p.name, p.category, p.rrl, p.rrl_symbols, p.rrl_msv, p.rating)


def test_every_table_matches_match_for(kb: KnowledgeBase, articles: dict[tuple[int, int], Article]) -> None:
    for (topic, variant), article in articles.items():
        expected = [_row(p) for p in match_for(kb, topic, variant).procedures]
        assert [_row(r) for r in article.table] == expected, f"{topic} V{variant}"


def test_tables_match_what_recommend_returns(kb: KnowledgeBase,
                                             articles: dict[tuple[int, int], Article]) -> None:
    """Every variant recommend shows for the regression scenarios, row for row."""
    seen = 0
    for case in load_scenarios(None):
        profile, indication = read_scenario(case.text, kb)
        for m in assess(profile, indication, kb).matches:
            article = articles[(m.topic_id, m.variant)]
            assert [_row(r) for r in article.table] == [_row(p) for p in m.procedures]
            seen += 1
    assert seen > 100


def test_cli_show_json_agrees_with_recommend_json() -> None:
    text = ("58-year-old woman, 1.8 cm grade 2 IDC, no palpable nodes, normal LFTs and ALP, "
            "clinical stage I. Is PET/CT needed for distant staging?")
    rec = json.loads(runner.invoke(app, ["recommend", text, "--json"]).stdout)
    art = json.loads(runner.invoke(app, ["articles", "show", "310", "2", "--json"]).stdout)
    best = rec["matches"][0]
    assert (best["topic_id"], best["variant"]) == (art["topic_id"], art["variant"]) == (310, 2)
    keys = ("name", "category", "rrl", "rrl_symbols", "rrl_msv", "rating")
    assert [[p[k] for k in keys] for p in best["procedures"]] == [[r[k] for k in keys] for r in art["table"]]


def test_fragments_never_state_a_rating(library: Library) -> None:
    """Ratings come only from the table; prose that named a category could drift from it."""
    pattern = re.compile(r"usually (not )?appropriate|may be appropriate", re.IGNORECASE)
    offenders = [f.id for f in library.fragments if pattern.search(f.text + (f.question or ""))]
    assert not offenders


# --- the case fits the scenario ----------------------------------------------------------------------------

def test_each_case_reads_back_to_its_own_variant(kb: KnowledgeBase,
                                                 articles: dict[tuple[int, int], Article]) -> None:
    """The project's own reader, given the case, picks the variant the article is about."""
    misses = []
    for (topic, variant), article in articles.items():
        if article.label is None and not article.who_fits[2:]:
            continue  # 396 V5: nothing is known about who it is for, and the case says so
        profile, indication = read_scenario(article.case.text, kb)
        current = article.status == "current"
        found = [(m.topic_id, m.variant)
                 for m in assess(profile, indication, kb, include_retired=not current).matches]
        fits = found[:1] == [(topic, variant)] if current else (topic, variant) in found
        if not fits:
            misses.append(f"{topic} V{variant}: {found[:3]}")
    assert not misses


# --- fragments: sources, confidence, own words -------------------------------------------------------

def test_every_fragment_is_used_and_cites_real_sources(kb: KnowledgeBase, library: Library,
                                                       articles: dict[tuple[int, int], Article]) -> None:
    used = {p.fragment for a in articles.values()
            for p in [a.case, *a.looking_for, *a.pretest, *a.why, *a.workflow, *a.pitfalls,
                      *(q.answer for q in a.faq), *(r.note for r in a.table if r.note)]}
    unused = [f.id for f in library.fragments if f.id not in used and not f.fallback]
    assert not unused, f"fragments no article selects: {unused}"
    for frag in library.fragments:
        assert all(s in kb.sources for s in frag.source_ids)
        assert all(f in library.facts for f in frag.fact_ids)


def test_nccn_2015_statements_are_labelled_as_older_guidance(kb: KnowledgeBase, library: Library) -> None:
    for frag in library.fragments:
        dated = [kb.sources[s] for s in frag.source_ids]
        dated += [kb.sources[s] for f in frag.fact_ids for s in library.facts[f].sources]
        if any("NCCN" in s.publisher and (s.year or 0) <= 2017 for s in dated) \
                and frag.section != "case":
            assert frag.confidence in ("old", "uncertain"), frag.id


def test_older_guidance_is_shown_with_its_year(seed: Article) -> None:
    old = [p for p in seed.why if p.confidence == "old"]
    assert old and all("older guidance (NCCN 2015" in (p.caution or "") for p in old)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:['’][a-z]+)?", text.lower())


def _grams(words: list[str], n: int = 8) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


@skip_without("examples")
def test_no_sentence_is_copied_from_the_reference_material(
        kb: KnowledgeBase, articles: dict[tuple[int, int], Article]) -> None:
    """No run of 8 words in any article appears in the examples or the fact sheet. ACR labels,
    procedure and topic names, source titles and addresses are quoted on purpose and left out."""
    reference = [p.read_text(encoding="utf-8") for p in sorted((REFERENCE / "examples").glob("*.txt"))]
    reference.append((REFERENCE / "patient_facts.md").read_text(encoding="utf-8"))
    theirs = _grams(_words(re.sub(r"\S+://\S+", " ", "\n".join(reference))))
    quoted = {v.label for t in kb.topics for v in t.variants if v.label} | {t.title for t in kb.topics}
    copied: dict[str, str] = {}
    for (topic, variant), article in articles.items():
        text = render_markdown(article)
        names = quoted | {r.name for r in article.table} | set(article.unrated_procedures) \
            | {s.label for s in article.sources} | {article.citation}
        for name in sorted(names, key=len, reverse=True):
            text = text.replace(name, " | ")
        text = re.sub(r"<?\S+://\S+", " | ", text)
        for segment in text.split("|"):
            for gram in _grams(_words(segment)) & theirs:
                copied.setdefault(" ".join(gram), f"{topic} V{variant}")
    assert not copied, f"copied word runs: {copied}"


def test_the_copy_check_can_fail() -> None:
    sentence = "the quick brown fox jumps over the lazy dog"
    assert _grams(_words(sentence)) & _grams(_words(f"xx {sentence} yy"))


# --- loading: errors name file, fragment and field -----------------------------------------------------

def _write(tmp: Path, data: dict[str, object]) -> Path:
    folder = tmp / "articles"
    folder.mkdir(exist_ok=True)
    (folder / "bad.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return folder


_GOOD = {"id": "x.one", "section": "why", "for": ["all"], "text": "Some words.",
         "cites": ["gp310"], "confidence": "verified"}


@pytest.mark.parametrize(("change", "message"), [
    ({"cites": ["no-such-source"]}, "fragment x.one: unknown source 'no-such-source'"),
    ({"cites": ["fact:no.such.fact"]}, "fragment x.one: unknown fact 'no.such.fact'"),
    ({"for": ["nowhere"]}, "fragment x.one: unknown target 'nowhere'"),
    ({"for": ["variant:310/99"]}, "ACR topic 310 has no variant 99"),
    ({"section": "faq"}, "faq fragment needs a question"),
    ({"section": "essay"}, "field section"),
    ({"cites": []}, "field cites"),
])
def test_a_bad_fragment_is_named(kb: KnowledgeBase, library: Library, tmp_path: Path,
                                 change: dict[str, object], message: str) -> None:
    folder = _write(tmp_path, {"fragments": [{**_GOOD, **change}]})
    with pytest.raises(KnowledgeBaseError) as info:
        load_library(kb, library.facts, folder)
    assert "bad.yaml" in str(info.value) and message in str(info.value)


def test_a_verified_fragment_cannot_rest_on_a_weaker_fact(kb: KnowledgeBase, library: Library,
                                                           tmp_path: Path) -> None:
    weak = next(f for f in library.facts.values() if f.confidence == "old")
    folder = _write(tmp_path, {"fragments": [{**_GOOD, "cites": [f"fact:{weak.id}"]}]})
    with pytest.raises(KnowledgeBaseError, match="claims to be verified"):
        load_library(kb, library.facts, folder)


def test_a_template_that_needs_a_missing_value_is_reported(kb: KnowledgeBase, library: Library,
                                                           tmp_path: Path) -> None:
    folder = _write(tmp_path, {"fragments": [{**_GOOD, "section": "case", "for": ["variant:310/2"],
                                              "text": "A {{ no_such_value }} patient."}]})
    lib = load_library(kb, library.facts, folder)
    with pytest.raises(KnowledgeBaseError, match="x.one"):
        compose_article(kb, 310, 2, library=lib, reviews=[])


def test_the_bundled_files_load_and_every_section_has_fragments(library: Library) -> None:
    assert sorted(p.name for p in ARTICLES_DIR.glob("*.yaml"))
    assert {f.section for f in library.fragments} == set(SECTIONS)


# --- rendering and the CLI ----------------------------------------------------------------------------------

def test_markdown_has_every_section_and_the_table(seed: Article) -> None:
    md = render_markdown(seed)
    for heading in ("## A case", "## Who this scenario is for", "## Who it is not for",
                    "## What the imaging is looking for", "## Rated studies", "## Why",
                    "## What happens next", "## Pitfalls", "## Questions", "## Related scenarios",
                    "## Sources"):
        assert heading in md
    assert "| Usually Not Appropriate | Bone scan whole body | ☢☢☢ 1-10 mSv |" in md


def test_html_page_is_accessible_by_construction(seed: Article) -> None:
    html = render_html(seed)
    assert '<html lang="en">' in html and '<main id="main"' in html
    assert 'role="banner"' in html and 'role="contentinfo"' in html and "<nav" in html
    assert html.count("<h1>") == 1 and "<caption>" in html and 'scope="col"' in html
    assert "<script" not in html  # article pages need no script


def test_site_files(kb: KnowledgeBase, articles: dict[tuple[int, int], Article]) -> None:
    files = site_files(kb, articles.values())
    listed = json.loads(files["articles.json"])
    assert len(listed) == 98
    assert all(set(item) == {"topic_id", "variant", "title", "path"} for item in listed)
    assert all(item["path"] in files for item in listed)
    assert {"index.html", "style.css", "search.js", "search-index.js", "search-index.json"} <= set(files)
    assert "cdn" not in files["index.html"].lower() and "http" not in files["search.js"]
    assert json.loads(files["search-index.json"])[0]["path"].startswith("articles/")


def test_cli_show_prints_markdown() -> None:
    result = runner.invoke(app, ["articles", "show", "310", "2"])
    assert result.exit_code == 0
    assert result.stdout.startswith("# Imaging of Invasive Breast Cancer, variant 2")


@pytest.mark.parametrize(("args", "message"), [
    (["articles", "show", "999", "1"], "no ACR topic 999"),
    (["articles", "show", "310", "99"], "ACR topic 310 has no variant 99"),
])
def test_cli_show_names_what_is_missing(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_cli_build_writes_the_site(tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = runner.invoke(app, ["articles", "build", str(out)])
    assert result.exit_code == 0, result.stderr
    listed = json.loads((out / "articles.json").read_text(encoding="utf-8"))
    assert len(listed) == 98 and (out / listed[0]["path"]).is_file()
    assert (out / "index.html").is_file() and (out / "search-index.js").is_file()
    again = runner.invoke(app, ["articles", "build", str(out), "--json"])
    summary = json.loads(again.stdout)
    assert summary["articles"] == 98 and "articles.json" in summary["files"]


def test_cli_build_refuses_a_file_as_outdir(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["articles", "build", str(target)])
    assert result.exit_code == 2 and "is not a folder" in result.stderr
