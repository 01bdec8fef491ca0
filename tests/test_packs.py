"""Licensed content packs: a folder of topics in the bundled schema adds or replaces tables,
says so in kb_version and in every output, and fails to load naming file, entry and field."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scanwise.cli import app
from scanwise.core import Scanwise
from scanwise.domain.kb import KnowledgeBaseError
from scanwise.knowledge.loader import PACKS_ENV, load, use_packs
from scanwise.render.articles import render_html


@pytest.fixture(autouse=True)
def _no_packs_after() -> Iterator[None]:
    """--kb-pack sets the process's packs; later tests must see the bundled data again."""
    yield
    use_packs([])


PACK = Path(__file__).parent / "fixtures" / "packs" / "fictional-test"
STAGE_III = ("ER-positive HER2-negative invasive ductal carcinoma, clinical stage IIIA, "
             "staging for distant disease")


def test_pack_replaces_a_table_and_says_so() -> None:
    bundled = load()
    kb = load(packs=[PACK])
    assert kb.version.endswith("+fictional-test@0.1") and kb.version != bundled.version
    topic = kb.topic(310)
    assert topic.pack == "fictional-test 0.1" and topic.replaces and topic.replaces.startswith("bundled")
    assert not bundled.topic(310).variant(4).ratings.verified
    assert [p.rating for p in topic.variant(4).procedures] == [8, 5]
    assert all(t.pack is None for t in kb.topics if t.topic_id != 310)


def test_env_packs_reach_every_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PACKS_ENV, str(PACK))
    core = Scanwise.default()
    assert core.kb_version.endswith("+fictional-test@0.1")
    a = core.assess_text(STAGE_III)
    best = a.matches[0]
    assert (best.topic_id, best.variant, best.pack) == (310, 4, "fictional-test 0.1")
    assert a.kb_version == core.kb_version and best.procedures[0].rating == 8
    article = render_html(core.article(310, 4))
    assert "fictional-test@0.1" in article and "content pack fictional-test 0.1" in article
    coverage = core.coverage()
    assert coverage["packs"][0]["name"] == "fictional-test"
    row = next(t for t in coverage["by_topic"] if t["topic_id"] == 310)
    assert row["pack"] == "fictional-test 0.1" and 4 in row["with_acr_ratings"]


def test_kb_pack_option_on_the_command_line() -> None:
    runner = CliRunner()
    text = runner.invoke(app, ["--kb-pack", str(PACK), "recommend", STAGE_III], env={"COLUMNS": "200"}).output
    assert "knowledge base" in text and "+fictional-test@0.1" in text
    assert "table from content pack fictional-test 0.1" in text
    data = json.loads(runner.invoke(app, ["--kb-pack", str(PACK), "recommend", STAGE_III, "--json"]).output)
    assert data["kb_version"].endswith("+fictional-test@0.1")
    assert data["matches"][0]["pack"] == "fictional-test 0.1"
    kb = json.loads(runner.invoke(app, ["--kb-pack", str(PACK), "kb", "--json"]).output)
    assert kb["kb_version"].endswith("+fictional-test@0.1")
    # Without the option the bundled data is back: nothing lingers between invocations.
    plain = json.loads(runner.invoke(app, ["recommend", STAGE_III, "--json"]).output)
    assert "+" not in plain["kb_version"] and plain["matches"][0]["pack"] is None


def _pack_copy(tmp_path: Path) -> Path:
    target = tmp_path / "fictional-test"
    shutil.copytree(PACK, target)
    return target


def _edit_topic(pack: Path, change) -> None:  # type: ignore[no-untyped-def]
    path = pack / "acr" / "topic-310.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_broken_pack_names_file_entry_and_field(tmp_path: Path) -> None:
    pack = _pack_copy(tmp_path)
    _edit_topic(pack, lambda d: d["variants"][3]["procedures"][0].update(rating=12))
    with pytest.raises(KnowledgeBaseError) as err:
        load(packs=[pack])
    assert str(err.value).startswith(
        "pack fictional-test: acr/topic-310.yaml: entry topic 310, field variants[3] (variant 4)"
        ".procedures[0] ('FDG-PET/CT skull base to mid-thigh').rating:")


@pytest.mark.parametrize(("breakage", "message"), [
    (lambda p: (p / "pack.yaml").unlink(), "no pack.yaml"),
    (lambda p: (p / "pack.yaml").write_text("name: Has Spaces\nversion: '1'\npublisher: x\nlicense: y\n"),
     "fictional-test/pack.yaml: entry pack, field name"),
    (lambda p: (p / "pack.yaml").write_text("name: x\nversion: '1'\npublisher: x\n"),
     "fictional-test/pack.yaml: entry pack, field license"),
    (lambda p: (p / "notes.yaml").write_text("a: 1\n"), "pack fictional-test: notes.yaml: a pack holds"),
    (lambda p: _edit_topic(p, lambda d: d.update(pack="someone else")),
     "pack fictional-test: acr/topic-310.yaml: entry topic 310, field pack: set by the loader"),
    (lambda p: _edit_topic(p, lambda d: d["variants"][3]["procedures"][0].update(source="nowhere")),
     "acr topic 310 (fictional-1) from pack fictional-test 0.1: variant 4, procedure"),
])
def test_broken_packs_fail_clearly(tmp_path: Path, breakage, message: str) -> None:  # type: ignore[no-untyped-def]
    pack = _pack_copy(tmp_path)
    breakage(pack)
    with pytest.raises(KnowledgeBaseError, match=re.escape(message)):
        load(packs=[pack])


def test_two_packs_cannot_both_supply_a_topic(tmp_path: Path) -> None:
    first = _pack_copy(tmp_path / "a")
    second = _pack_copy(tmp_path / "b")
    (second / "pack.yaml").write_text("name: other\nversion: '2'\npublisher: x\nlicense: y\n")
    (second / "sources.yaml").unlink()
    with pytest.raises(KnowledgeBaseError, match="also supplied by pack fictional-test 0.1"):
        load(packs=[first, second])


def test_broken_pack_stops_the_cli_with_its_message(tmp_path: Path) -> None:
    pack = _pack_copy(tmp_path)
    _edit_topic(pack, lambda d: d["variants"][3]["procedures"][0].update(rating=12))
    result = CliRunner().invoke(app, ["--kb-pack", str(pack), "kb"])
    assert result.exit_code == 2 and "acr/topic-310.yaml" in result.output
