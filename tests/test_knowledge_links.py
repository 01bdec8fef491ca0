"""Links in the knowledge base go to authoritative publishers only: the loader refuses a
knowledge file that gains a mirror, a document-sharing copy, an aggregator or a profile page,
naming the file, the entry and the host."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from scanwise.domain.kb import KnowledgeBaseError
from scanwise.knowledge.loader import DATA_DIR, load


def _copy(tmp_path: Path) -> Path:
    data = tmp_path / "knowledge"
    shutil.copytree(DATA_DIR, data, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return data


def test_bundled_knowledge_links_only_to_listed_hosts() -> None:
    load(DATA_DIR)  # raises on any link outside answers/source-hosts.yaml


@pytest.mark.parametrize(("rel", "old", "new", "host"), [
    ("acr/topic-306.yaml", "https://doi.org/10.1016/j.jacr.2022.09.003",
     "https://ouci.dntb.gov.ua/works/7nmP2dQ9", "ouci.dntb.gov.ua"),
    ("acr/topic-179.yaml", "https://pubmed.ncbi.nlm.nih.gov/38823941/",
     "http://47.251.13.51:8081/38823941", "47.251.13.51"),
    ("sources.yaml", "https://doi.org/10.1200/JCO.2012.45.9859",
     "https://cld.bz/ob7J06r/87/", "cld.bz"),
    ("staging/anatomic.yaml", "https://www.facs.org/quality-programs/cancer-programs/american-joint-committee-on-cancer/",
     "https://docslib.org/doc/1/x", "docslib.org"),
    ("sources-patient.yaml", "https://www.imagewisely.org/Patients",
     "https://vivo.weill.cornell.edu/display/pubid1", "vivo.weill.cornell.edu"),
])
def test_a_mirror_link_fails_loading(tmp_path: Path, rel: str, old: str, new: str, host: str) -> None:
    data = _copy(tmp_path)
    path = data / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=re.escape(host)) as err:
        load(data)
    assert Path(rel).name in str(err.value) and "entry " in str(err.value)


def test_a_note_with_a_mirror_link_fails_too(tmp_path: Path) -> None:
    data = _copy(tmp_path)
    path = data / "sources-acr.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("scribd document 726999950", "https://www.scribd.com/document/726999950", 1),
                    encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"sources-acr\.yaml: entry sources\[\d+\] \(sc239\)\.note"):
        load(data)


def test_a_shared_host_admits_only_the_listed_path(tmp_path: Path) -> None:
    data = _copy(tmp_path)
    path = data / "sources.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("https://github.com/argonautproject/cds-hooks-for-pama",
                                 "https://github.com/someone/copy-of-acr", 1), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="github.com"):
        load(data)


def test_provenance_fields_are_never_rendered() -> None:
    """The fields the link check skips (where a topic's abstract or publication was read) are
    read by no renderer, template, page or surface."""
    src = Path(__file__).resolve().parents[1] / "src" / "scanwise"
    for folder in ("render", "web", "templates", "cds", "cli", "domain/answers", "domain/articles"):
        for f in (src / folder).rglob("*"):
            if f.suffix in (".py", ".j2", ".html"):
                text = f.read_text(encoding="utf-8")
                assert "summary_claims" not in text and ".publication" not in text, f
