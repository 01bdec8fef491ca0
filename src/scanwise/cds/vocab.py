"""The CDS service's data files: breast-cancer reason codes and the override reasons it offers.

Both live in ``knowledge/cds/`` as YAML, are validated on load (schema, and every source named
in the knowledge base's sources), and are read once per process.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from scanwise.domain.kb import KnowledgeBase, KnowledgeBaseError
from scanwise.knowledge.loader import DATA_DIR, load_yaml

CDS_DIR = DATA_DIR / "cds"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReasonCode(_Strict):
    system: Literal[
        "http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10", "http://snomed.info/sct"
    ]
    code: str
    match: Literal["exact", "category"]
    words: str
    source: str


class _ReasonFile(_Strict):
    codes: list[ReasonCode]


class OverrideReason(_Strict):
    code: str
    display: str


class _OverrideFile(_Strict):
    system: str
    source: str
    reasons: list[OverrideReason]


def _read(name: str, model: type[BaseModel]) -> BaseModel:
    path = CDS_DIR / name
    try:
        return model.model_validate(load_yaml(path))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise KnowledgeBaseError(f"{name}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc


class Vocab:
    """Reason-code words and override reasons, checked against the knowledge base's sources."""

    def __init__(self, kb: KnowledgeBase) -> None:
        reasons = _read("breast-reason-codes.yaml", _ReasonFile)
        overrides = _read("override-reasons.yaml", _OverrideFile)
        assert isinstance(reasons, _ReasonFile) and isinstance(overrides, _OverrideFile)
        for rc in reasons.codes:
            if rc.source not in kb.sources:
                raise KnowledgeBaseError(f"breast-reason-codes.yaml: {rc.code}: unknown source {rc.source!r}")
        if overrides.source not in kb.sources:
            raise KnowledgeBaseError(f"override-reasons.yaml: unknown source {overrides.source!r}")
        self.reason_codes = reasons.codes
        self.override_system = overrides.system
        self.override_reasons = overrides.reasons

    def words_for(self, system: str | None, code: str | None) -> str | None:
        """The reader's words for a reason code, or None when the map does not hold it."""
        if not system or not code:
            return None
        code = code.strip().upper() if "icd-10" in system else code.strip()
        for rc in self.reason_codes:
            if rc.system != system:
                continue
            if code == rc.code or (rc.match == "category" and code.startswith(rc.code)):
                return rc.words
        return None
