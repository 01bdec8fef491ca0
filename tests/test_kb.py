"""The knowledge base loads, validates, hashes, and carries the reference facts unchanged."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from reference_data import REFERENCE, skip_without

from scanwise.domain.kb import KnowledgeBase, KnowledgeBaseError
from scanwise.knowledge.loader import DATA_DIR, load

ACR_REFERENCE = REFERENCE / "acr_breast.json"


def _copy_kb(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(DATA_DIR, target)
    return target


def test_loads_every_topic_and_variant(kb: KnowledgeBase) -> None:
    assert len(kb.topics) == 17
    assert sum(len(t.variants) for t in kb.topics) == 98
    assert re.fullmatch(r"[0-9a-f]{12}", kb.version)
    assert {t.topic_id for t in kb.topics if t.status == "retired"} == {154, 248}


def test_version_changes_with_content(tmp_path: Path) -> None:
    data_dir = _copy_kb(tmp_path)
    before = load(data_dir).version
    path = data_dir / "red_flags.yaml"
    path.write_text(path.read_text() + "\n# a comment changes the bytes\n")
    assert load(data_dir).version != before


def test_schema_error_names_file_entry_and_field(tmp_path: Path) -> None:
    data_dir = _copy_kb(tmp_path)
    path = data_dir / "acr" / "topic-310.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["variants"][1]["procedures"][0]["category"] = "Sometimes Appropriate"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(KnowledgeBaseError) as err:
        load(data_dir)
    message = str(err.value)
    assert "topic-310.yaml" in message
    assert "topic 310" in message
    assert "variants[1] (variant 2).procedures[0] ('US axilla').category" in message


def test_unknown_field_is_an_error_not_ignored(tmp_path: Path) -> None:
    data_dir = _copy_kb(tmp_path)
    path = data_dir / "acr" / "topic-205.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["variants"][0]["applies_when"]["favourite_colour"] = "blue"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(KnowledgeBaseError, match="favourite_colour"):
        load(data_dir)


def test_unknown_vocabulary_code_is_an_error(tmp_path: Path) -> None:
    data_dir = _copy_kb(tmp_path)
    path = data_dir / "red_flags.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["red_flags"][0]["triggers"].append("toe_pain")
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(KnowledgeBaseError, match="toe_pain"):
        load(data_dir)


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    data_dir = _copy_kb(tmp_path)
    (data_dir / "acr" / "topic-204.yaml").write_text("topic_id: [unclosed\n")
    with pytest.raises(KnowledgeBaseError, match="topic-204.yaml"):
        load(data_dir)


def test_variants_without_tables_are_kept_and_marked_unknown(kb: KnowledgeBase) -> None:
    v = kb.topic(310).variant(4)
    assert v.label and "ER+/HER2-" in v.label
    assert v.ratings.verified is False and v.procedures == []
    assert kb.topic(310).variant(2).ratings.verified is True


def test_every_procedure_source_is_registered(kb: KnowledgeBase) -> None:
    for t in kb.topics:
        for v in t.variants:
            for p in v.procedures:
                for key in p.source.split("+"):
                    assert key in kb.sources, (t.topic_id, v.number, p.name)


@skip_without("acr_breast.json")
def test_ratings_match_the_reference_exactly(kb: KnowledgeBase) -> None:
    """Every category, rating and radiation level is the reference's, row for row."""
    ref = json.loads(ACR_REFERENCE.read_text())
    checked = 0
    for topic in ref["topics"]:
        ours = next(t for t in kb.topics if t.topic_id == topic["topic_id"])
        assert [v.number for v in ours.variants] == [v["number"] for v in topic["variants"]]
        for rv in topic["variants"]:
            ov = ours.variant(rv["number"])
            assert ov.label == rv["label"]
            rated = [r for r in rv["procedures"] if r["category"]]
            assert [p.name for p in ov.procedures] == [r["name"] for r in rated]
            assert ov.unrated_procedures == [r["name"] for r in rv["procedures"] if not r["category"]]
            for p, r in zip(ov.procedures, rated, strict=True):
                assert p.category == r["category"]
                assert p.rating == r["rating"]
                assert p.soe == r["soe"]
                if r["adult_rrl_symbols"] is not None:
                    assert p.rrl == r["adult_rrl_symbols"] and p.rrl_from is None or \
                        p.rrl_from.startswith("dose band")
                elif p.rrl is not None:
                    assert p.rrl_from, f"{p.name}: radiation level filled without saying where from"
                checked += 1
    assert checked > 300


def test_superseded_revisions_are_not_in_the_answers(kb: KnowledgeBase) -> None:
    # Topic 153 has a 2016 revision in the reference data; only the current wording is kept.
    assert all(t.status != "superseded" for t in kb.topics)
    current = "Adult female, 40 years of age or older. Palpable breast mass. Initial imaging."
    assert kb.topic(153).variant(1).label == current


@pytest.mark.parametrize(("phrase", "text", "hit"), [
    ("pain in [the|her|my|his]? [hip|back]", "pain in my back", True),
    ("pain in [the|her|my|his]? [hip|back]", "pain in back", True),
    ("pain in [the|her|my|his]? [hip|back]", "pain in the knee", False),
    ("[dry|new]? cough", "a new cough", True),
    ("cough", "coughing", False),  # whole words only
    ("[left|right] breast [mass|lump]?", "left breast", True),
    ("pet/ct", "a pet/ct scan", True),
])
def test_phrase_regex_reads_the_vocabulary_syntax(phrase: str, text: str, hit: bool) -> None:
    from scanwise.domain.kb import phrase_regex

    assert bool(re.search(phrase_regex(phrase), text)) is hit


def test_fields_in_words_are_validated_data(kb: KnowledgeBase, tmp_path: Path) -> None:
    """One table names every fact for each audience; a field that is no fact stops loading."""
    assert kb.words("stage").question and kb.words("stage").patient and kb.words("stage").label
    assert kb.words("not_in_the_table").label is None
    data_dir = _copy_kb(tmp_path)
    path = data_dir / "fields.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["fields"].append({"field": "shoe_size", "label": "Shoe size"})
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(KnowledgeBaseError, match="shoe_size"):
        load(data_dir)
    doc["fields"][-1] = {"field": "age", "labell": "typo"}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(KnowledgeBaseError, match="fields.yaml"):
        load(data_dir)
