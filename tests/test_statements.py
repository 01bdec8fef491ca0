"""Other guidelines' statements: validated data, in scanwise's own words, attached where the
ACR ratings are missing and never presented as ratings."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from test_articles import _grams, _words

from scanwise.core import Scanwise
from scanwise.domain.kb import KnowledgeBase, KnowledgeBaseError
from scanwise.domain.statements import disagreements, statement_refs
from scanwise.knowledge.loader import DATA_DIR, load

REFERENCE = Path("/work/shared/reference/guideline_statements.json")
STATEMENTS = DATA_DIR / "statements" / "guideline-statements.yaml"

#: Guideline bodies, government agencies, societies and journals (or their publishers' own
#: pages, and an archive copy of one), the only hosts a statement's source may live on.
AUTHORITATIVE = {
    "www.nice.org.uk", "nice.org.uk", "www.nccn.org", "jnccn.org", "healthcare-quality.jrc.ec.europa.eu",
    "cancer-screening-and-care.jrc.ec.europa.eu", "pmc.ncbi.nlm.nih.gov", "www.ncbi.nlm.nih.gov",
    "www.breastsurgeons.org", "www.springermedizin.de", "www.springermedicine.com", "www.cancer.net",
    "www.easternhealth.ca", "guidancebreastcancer.gov.au", "www.cancer.org", "cancer.org",
    "lms.ehc.gov.eg", "www.uspreventiveservicestaskforce.org",
    "uspreventiveservicestaskforce.org", "www.acog.org", "journals.lww.com", "www.choosingwisely.org",
    "www.nci.nih.gov", "www.cancerreferral.scot.nhs.uk",
}


@pytest.fixture(scope="module")
def core() -> Scanwise:
    return Scanwise.default()


def test_statements_load_with_their_sources(kb: KnowledgeBase) -> None:
    assert len(kb.statements) == 72
    for s in kb.statements:
        src = kb.sources[s.source]
        assert src.url and urlsplit(src.url).hostname in AUTHORITATIVE, (s.id, src.url)
        if s.currency == "old":
            assert s.currency_note


def test_archive_copies_link_the_publishers_own_page(kb: KnowledgeBase) -> None:
    """A page read in an archive copy links the publisher's page; the copy is named in the note."""
    for s in kb.statements:
        url = kb.sources[s.source].url or ""
        assert "web.archive.org" not in url
    asps = kb.sources["gl-asps-cw-2014"]
    assert asps.url and "choosingwisely.org" in asps.url and "Internet Archive" in (asps.note or "")


@pytest.mark.skipif(not REFERENCE.is_file(), reason="reference material not present")
def test_no_statement_text_is_copied_from_its_source(kb: KnowledgeBase) -> None:
    """The articles' copied-prose check (8-word runs) against the reference's verbatim quotes,
    and against its paraphrases too: each text is written anew, not lifted from either."""
    ref = {r["id"]: r for r in json.loads(REFERENCE.read_text(encoding="utf-8"))["statements"]}
    copied = {}
    for s in kb.statements:
        mine = _grams(_words(s.text))
        for field in ("quote", "statement"):
            theirs = _grams(_words(ref[s.id].get(field) or ""))
            if mine & theirs:
                copied[s.id] = (field, sorted(" ".join(g) for g in mine & theirs))
    assert not copied, copied
    # And no text is a quote at all, in whole or in a long part.
    quotes = {r["quote"].lower() for r in ref.values() if r.get("quote")}
    assert not any(q in s.text.lower() for q in quotes for s in kb.statements)


def test_facts_carried_over_from_the_reference(kb: KnowledgeBase) -> None:
    if not REFERENCE.is_file():
        pytest.skip("reference material not present")
    ref = {r["id"]: r for r in json.loads(REFERENCE.read_text(encoding="utf-8"))["statements"]}
    for s in kb.statements:
        r = ref[s.id]
        assert s.direction == r["direction"] and s.year == r["year"], s.id
        assert {t.topic for t in s.applies_to} == {a["topic_id"] for a in r["applies_to"]}, s.id
        # Never upgraded: a statement the compiler saw only in a copy stays secondary.
        if r["verification"] == "secondary":
            assert s.verification == "secondary", s.id


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(DATA_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s.update(applies_to=[{"topic": 310, "variants": [42]}]),
     "statements: GS012, field applies_to: ACR topic 310 has no variant 42"),
    (lambda s: s.update(procedures=["teleportation"]),
     "statements: GS012, field procedures: 'teleportation'"),
    (lambda s: s.update(source="no-such-source"), "statements: GS012, field source: unknown source"),
    (lambda s: s.update(direction="strongly advised"),
     "guideline-statements.yaml: entry statements[0] (GS012), field direction"),
    (lambda s: s.update(quote="copied words"),
     "guideline-statements.yaml: entry statements[0] (GS012), field quote"),
])
def test_a_broken_statement_names_file_entry_and_field(tmp_path: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    data_dir = _copy(tmp_path)
    path = data_dir / "statements" / "guideline-statements.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["statements"].sort(key=lambda s: s["id"] != "GS012")
    change(data["statements"][0])
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=re.escape(message)):
        load(data_dir)


SCENARIOS = {
    (310, 4): "ER-positive HER2-negative invasive ductal carcinoma, clinical stage IIIA, "
              "staging for distant disease",
    (310, 5): "HER2-positive breast cancer stage IIB, CT or PET for staging?",
    (310, 6): "surveillance after lumpectomy and radiation for breast cancer 3 years ago, no symptoms",
    (310, 8): "history of lumpectomy for breast cancer, new lump in the treated breast, "
              "suspected local recurrence",
    (310, 11): "breast cancer treated 4 years ago, now bone pain and rising tumour markers, "
               "suspected recurrence",
}


@pytest.mark.parametrize(("where", "text"), SCENARIOS.items(), ids=[f"{t}V{v}" for t, v in SCENARIOS])
def test_unrated_variants_carry_statements_and_no_rating(core: Scanwise, where: tuple[int, int],
                                                         text: str) -> None:
    a = core.assess_text(text)
    best = a.matches[0]
    assert (best.topic_id, best.variant) == where
    assert not best.ratings_verified and best.procedures == []
    assert best.statements and all(s.url and s.publisher for s in best.statements)
    assert all(s.direction in ("recommended", "not recommended", "consider", "insufficient")
               for s in best.statements)


def test_dcis_and_screening_questions_get_statements(core: Scanwise) -> None:
    dcis = core.assess_text("newly diagnosed DCIS, what imaging?")
    topic = next(u for u in dcis.uncovered_topics if u.topic_id == 320)
    assert topic.statements and not dcis.matches
    screening = core.assess_text("52-year-old woman, average risk, screening mammogram?")
    assert screening.matches[0].topic_id == 179 and screening.matches[0].statements


def test_publishers_who_disagree_are_both_shown(kb: KnowledgeBase) -> None:
    """The European Commission's guideline leans against PET-CT for stage IIB; NCCN and the
    EANM/SNMMI guideline list it: both sides stay, nothing resolves them."""
    refs = statement_refs(kb, 310, 5)
    pet = next(d for d in disagreements(refs) if d.procedure == "FDG-PET/CT")
    assert any("ECIBC" in p for p in pet.against)
    assert any("NCCN" in p for p in pet.for_) and any("EANM" in p for p in pet.for_)
    assert {"GS013", "GS014", "GS016", "GS019"} <= {r.id for r in refs}


def test_topic_wide_statements_stay_off_specific_variants(kb: KnowledgeBase) -> None:
    """179's high-risk MRI statements name no variant: they are not pinned on V1 (average risk)."""
    assert "GS081" not in {r.id for r in statement_refs(kb, 179, 1)}
    assert "GS081" in {r.id for r in statement_refs(kb, 179)}


def test_old_and_secondary_statements_say_so(kb: KnowledgeBase) -> None:
    from scanwise.domain.statements import statement_line

    refs = {r.id: r for r in statement_refs(kb, 310, 6)}
    assert "older guidance" in statement_line(refs["GS030"])
    assert "secondary source" in statement_line(refs["GS027"])
