"""The knowledge base: guideline topics, variants and rated procedures as validated data.

The data lives in YAML files under ``scanwise/knowledge``. Every file is validated
against the models below when loaded; a file that breaks the schema fails loading with
a message naming the file, the entry and the field. ``kb_version`` is a content hash of
all data files, so every output can say exactly which knowledge it came from.

Nothing here decides anything: ratings are carried exactly as the source printed them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scanwise.domain.conditions import Conditions
from scanwise.domain.profile import Indication, PatientProfile, Phase

Category = Literal[
    "Usually Appropriate",
    "May Be Appropriate",
    "May Be Appropriate (Disagreement)",
    "Usually Not Appropriate",
]
#: Best first; used to order procedures within a variant.
CATEGORY_ORDER: dict[str, int] = {
    "Usually Appropriate": 0,
    "May Be Appropriate": 1,
    "May Be Appropriate (Disagreement)": 2,
    "Usually Not Appropriate": 3,
}
TopicStatus = Literal["current", "retired", "superseded"]
Confidence = Literal["verified", "old", "uncertain", "secondary"]

#: Adult relative radiation levels as ACR prints them (symbol count -> effective dose band).
RRL_BANDS: dict[int, str] = {
    0: "0 mSv",
    1: "<0.1 mSv",
    2: "0.1-1 mSv",
    3: "1-10 mSv",
    4: "10-30 mSv",
}  # only the bands seen in the bundled ACR tables


class Strict(BaseModel):
    """Unknown fields are errors: a typo in a data file must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    id: str
    publisher: str
    title: str
    year: int | None = None
    url: str | None = None
    note: str | None = None


class Procedure(Strict):
    name: str  # exactly as the source writes it
    category: Category
    rating: Annotated[int, Field(ge=1, le=9)] | None = None
    median: Annotated[int, Field(ge=1, le=9)] | None = None
    soe: Literal["Strong", "Moderate", "Limited", "Expert Consensus"] | None = None
    rrl: Annotated[int, Field(ge=0, le=5)] | None = None
    rrl_msv: str | None = None  # the dose band as printed, e.g. "1-10 mSv", or "Varies"
    rrl_from: str | None = None  # set when the level was taken from another table
    verification: str
    source: str  # key into sources.yaml

    @property
    def rrl_symbols(self) -> str:
        if self.rrl is None:
            return "?" if self.rrl_msv != "Varies" else "varies"
        return "O" if self.rrl == 0 else "☢" * self.rrl


class Ratings(Strict):
    """What the bundled data knows about a variant's rating table."""

    verified: bool  # a table taken from a primary ACR copy is present
    complete: bool  # the whole table is present (not truncated)
    note: str | None = None


class SecondaryClaim(Strict):
    """A summary statement about a variant, kept for context and never used as a rating."""

    source: str
    text: str
    reviewed: str | None = None
    verification: str | None = None


class Variant(Strict):
    number: int
    label: str | None  # as the source writes it; None where no ACR page showed it
    label_complete: bool = True
    applies_when: Conditions
    ratings: Ratings
    procedures: list[Procedure] = []
    unrated_procedures: list[str] = []  # listed in the source, category not in the bundled data
    notes: list[str] = []
    summary_claims: list[SecondaryClaim] = []

    @model_validator(mode="after")
    def _ratings_match_rows(self) -> Variant:
        if self.ratings.verified and not self.procedures:
            raise ValueError("ratings.verified is true but the variant has no procedures")
        if not self.ratings.verified and self.procedures:
            raise ValueError("procedures are listed but ratings.verified is false")
        return self


class Topic(Strict):
    publisher: Literal["ACR"]
    topic_id: int
    title: str
    status: TopicStatus
    revision: str  # a label for this revision, e.g. "2023" or "2016"
    revision_year: int | None = None
    superseded_by: int | None = None
    publication: str | None = None
    source_urls: list[str] = []
    applies_when: Conditions = Conditions()  # shared by every variant of the topic
    variants: list[Variant] = []
    notes: list[str] = []
    summary_claims: list[SecondaryClaim] = []

    @model_validator(mode="after")
    def _unique_variants(self) -> Topic:
        numbers = [v.number for v in self.variants]
        if len(numbers) != len(set(numbers)):
            raise ValueError(f"duplicate variant numbers in topic {self.topic_id}")
        return self

    @cached_property
    def year(self) -> int | None:
        """The revision year, or else the first year in the publication reference."""
        if self.revision_year:
            return self.revision_year
        found = re.findall(r"\b(?:19|20)\d\d\b", self.publication or "")
        return int(found[0]) if found else None

    @cached_property
    def conditions(self) -> dict[int, Conditions]:
        """Each variant's conditions merged with the topic's, worked out once."""
        return {v.number: self.applies_when.merged(v.applies_when) for v in self.variants}

    def variant(self, number: int) -> Variant:
        for v in self.variants:
            if v.number == number:
                return v
        raise KeyError(f"ACR topic {self.topic_id} has no variant {number}")


class RedFlag(Strict):
    """A symptom, sign or lab result that calls for a targeted study instead of routine advice."""

    id: str
    title: str
    triggers: list[str]  # vocabulary codes; any one present raises the flag
    advice: str  # the project's own words
    studies: list[str] = []  # procedures or modalities the sources point to
    points_to: list[tuple[int, int]] = []  # ACR (topic, variant) that then applies
    phases: list[Phase]  # where it is a warning sign (bone pain before any diagnosis is not)
    sources: list[str]
    confidence: Confidence


def phrase_pieces(phrase: str) -> list[tuple[list[str], bool]]:
    """A vocabulary phrase as its words: each with its alternatives and whether it is optional.

    '[a|b]' lists alternative single words and a trailing '?' makes the word or group optional,
    as in the vocabulary file: 'pain in [the|my]? [hip|back]'.
    """
    pieces = []
    for piece in phrase.split():
        optional = piece.endswith("?")
        word = piece.rstrip("?")
        words = word[1:-1].split("|") if word.startswith("[") and word.endswith("]") else [word]
        pieces.append((words, optional))
    return pieces


def phrase_regex(phrase: str) -> str:
    """A vocabulary phrase as a regular expression for lower-cased text, whole words only:
    'pain in [the|my]? [hip|back]' matches "pain in my back" and "pain in back"."""
    pieces = phrase_pieces(phrase)
    out = ""
    for i, (words, optional) in enumerate(pieces):
        body = "(?:" + "|".join(re.escape(w) for w in words) + ")"
        last = i == len(pieces) - 1
        if optional and last:
            out = out.removesuffix(r"\s+") + rf"(?:\s+{body})?"
        elif optional:
            out += rf"(?:{body}\s+)?"
        else:
            out += body + ("" if last else r"\s+")
    return rf"(?<![a-z0-9])(?:{out})(?![a-z0-9])"


class Term(Strict):
    """A vocabulary entry: one symptom, sign, finding, lab or study, and how people write it."""

    code: str
    kind: Literal["symptom", "finding", "lab", "procedure"]
    label: str
    patterns: list[str]  # lower-case phrases matched as whole words
    # For studies: what asking about them says about the purpose, and which rated
    # procedure names they refer to (case-insensitive substrings).
    purpose: Literal["locoregional", "axilla", "distant"] | None = None
    procedure_names: list[str] = []
    # For labs: a number above this, written with no word such as "normal" or "raised",
    # is read as abnormal. Keyed by the pattern as written (an analyte can have its own).
    abnormal_above: dict[str, float] = {}


class OrderCode(Strict):
    """An imaging order code (CPT, LOINC, SNOMED CT) and the procedures it names."""

    system: str  # the code system URI, as FHIR writes it
    code: str
    display: str
    study: str | None  # vocabulary code of the kind of study; None: no criteria here
    procedures: list[str]  # knowledge-base procedure names, best fit first
    body_part: str
    source: str  # key into sources.yaml


#: Facts the engine checks that are worked out from several fields rather than being one.
DERIVED_FACTS: frozenset[str] = frozenset({"subtype", "invasive", "population", "none_present"})


class FieldWords(Strict):
    """One fact named in words for each audience (``knowledge/fields.yaml``)."""

    field: str
    label: str | None = None  # a form's or a fact table's label
    clinical: str | None = None  # the engine's name for it ("depends on clinical stage")
    question: str | None = None  # the question that settles it
    patient: str | None = None  # what a patient answer asks for ("your stage (for example ...)")


class KnowledgeBase(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: str
    topics: list[Topic]
    sources: dict[str, Source]
    red_flags: list[RedFlag]
    vocabulary: list[Term]
    order_codes: list[OrderCode] = []
    fields: list[FieldWords] = []

    @cached_property
    def _field_words(self) -> dict[str, FieldWords]:
        return {f.field: f for f in self.fields}

    def words(self, field: str) -> FieldWords:
        """How a fact is named in words; an entry with nothing set for a fact the table lacks."""
        return self._field_words.get(field) or FieldWords(field=field)

    def current_topics(self) -> Iterator[Topic]:
        return (t for t in self.topics if t.status == "current")

    def topic(self, topic_id: int, *, status: TopicStatus = "current") -> Topic:
        for t in self.topics:
            if t.topic_id == topic_id and t.status == status:
                return t
        raise KeyError(f"no {status} ACR topic {topic_id} in the knowledge base")

    def source(self, key: str) -> Source:
        return self.sources[key]

    @cached_property
    def terms(self) -> dict[str, Term]:
        return {t.code: t for t in self.vocabulary}

    def label(self, code: str) -> str:
        """A vocabulary code in words ("bone_pain" -> "bone pain"): the term's label, else the
        code itself with spaces. The one place codes become words."""
        term = self.terms.get(code)
        return term.label if term else code.replace("_", " ")

    @cached_property
    def order_code_index(self) -> dict[tuple[str, str], OrderCode]:
        return {(c.system, c.code): c for c in self.order_codes}

    def order_code(self, system: str, code: str) -> OrderCode | None:
        """The mapping entry for an order code, or None when the mapping does not hold it."""
        return self.order_code_index.get((system, code.strip()))


class KnowledgeBaseError(ValueError):
    """A data file is missing, unreadable or breaks the schema."""


DATA_DIR = Path(__file__).resolve().parent.parent / "knowledge"


def _format_loc(loc: tuple[Any, ...], data: Any) -> str:
    """Turn a pydantic error location into 'variants[2] (number 2).procedures[3].rating'."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node):
                node = node[item]
                if isinstance(node, dict) and "number" in node:
                    label += f" (variant {node['number']})"
                elif isinstance(node, dict) and "name" in node:
                    label += f" ({node['name']!r})"
            parts.append(label)
        else:
            parts.append(("." if parts else "") + str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts)


def load_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeBaseError(f"{path.name}: cannot be read as YAML: {exc}") from exc


def validate_entry(model: type[BaseModel], data: Any, path: Path, entry: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _format_loc(first["loc"], data)
        field = f", field {where}" if where else ""
        raise KnowledgeBaseError(
            f"{path.name}: entry {entry}{field}: {first['msg']}"
            + (f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else "")
        ) from exc


def load(data_dir: Path = DATA_DIR) -> KnowledgeBase:
    """Read and validate every data file; raise KnowledgeBaseError naming file, entry, field."""
    files = sorted(p for p in data_dir.rglob("*.yaml"))
    if not files:
        raise KnowledgeBaseError(f"no knowledge-base files found in {data_dir}")
    digest = hashlib.sha256()
    topics: list[Topic] = []
    sources: dict[str, Source] = {}
    red_flags: list[RedFlag] = []
    vocabulary: list[Term] = []
    order_codes: list[OrderCode] = []
    fields: list[FieldWords] = []
    for path in files:
        rel = path.relative_to(data_dir).as_posix()
        raw = path.read_bytes()
        digest.update(rel.encode() + b"\0" + raw + b"\0")
        data = load_yaml(path)
        if rel.startswith("acr/"):
            topic = validate_entry(Topic, data, path, f"topic {_get(data, 'topic_id')}")
            topics.append(topic)
        elif rel.startswith("sources") and "/" not in rel:
            for i, item in enumerate(top_level_list(data, path, "sources")):
                src = validate_entry(Source, item, path, f"sources[{i}] ({_get(item, 'id')})")
                if src.id in sources:
                    raise KnowledgeBaseError(f"{path.name}: duplicate source id {src.id!r}")
                sources[src.id] = src
        elif rel == "red_flags.yaml":
            for i, item in enumerate(top_level_list(data, path, "red_flags")):
                red_flags.append(
                    validate_entry(RedFlag, item, path, f"red_flags[{i}] ({_get(item, 'id')})")
                )
        elif rel == "vocabulary.yaml":
            for i, item in enumerate(top_level_list(data, path, "terms")):
                entry = f"terms[{i}] ({_get(item, 'code')})"
                vocabulary.append(validate_entry(Term, item, path, entry))
        elif rel.startswith("orders/"):
            for i, item in enumerate(top_level_list(data, path, "codes")):
                entry = f"codes[{i}] ({_get(item, 'code')})"
                order_codes.append(validate_entry(OrderCode, item, path, entry))
        elif rel == "fields.yaml":
            for i, item in enumerate(top_level_list(data, path, "fields")):
                fields.append(validate_entry(FieldWords, item, path, f"fields[{i}] ({_get(item, 'field')})"))
        # Other files (patient facts, article fragments) belong to their own loaders.
    kb = KnowledgeBase(
        version=digest.hexdigest()[:12],
        topics=sorted(topics, key=lambda t: (t.status != "current", t.topic_id, t.revision)),
        sources=sources,
        red_flags=red_flags,
        vocabulary=vocabulary,
        order_codes=order_codes,
        fields=fields,
    )
    _check_references(kb)
    return kb


def _get(data: Any, key: str) -> Any:
    return data.get(key, "?") if isinstance(data, dict) else "?"


def top_level_list(data: Any, path: Path, key: str) -> list[Any]:
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise KnowledgeBaseError(f"{path.name}: expected a top-level list named {key!r}")
    return items


def _check_references(kb: KnowledgeBase) -> None:
    """Every source key and vocabulary code used anywhere must exist."""
    codes = set(kb.terms)
    for topic in kb.topics:
        where = f"acr topic {topic.topic_id} ({topic.revision})"
        for variant in topic.variants:
            for proc in variant.procedures:
                for key in proc.source.split("+"):
                    if key.strip() not in kb.sources:
                        raise KnowledgeBaseError(
                            f"{where}: variant {variant.number}, procedure {proc.name!r}: "
                            f"unknown source {key.strip()!r}"
                        )
            for code in variant.applies_when.codes() | topic.applies_when.codes():
                if code not in codes:
                    raise KnowledgeBaseError(
                        f"{where}: variant {variant.number}: unknown vocabulary code {code!r}"
                    )
    rated_names = {p.name for t in kb.topics for v in t.variants for p in v.procedures}
    seen: set[tuple[str, str]] = set()
    for oc in kb.order_codes:
        where = f"orders: {oc.system} {oc.code}"
        if (oc.system, oc.code) in seen:
            raise KnowledgeBaseError(f"{where}: listed twice")
        seen.add((oc.system, oc.code))
        if oc.study is not None and oc.study not in codes:
            raise KnowledgeBaseError(f"{where}: unknown vocabulary code {oc.study!r}")
        if oc.source not in kb.sources:
            raise KnowledgeBaseError(f"{where}: unknown source {oc.source!r}")
        for name in oc.procedures:
            if name not in rated_names:
                raise KnowledgeBaseError(f"{where}: no procedure named {name!r} in any ACR table")
    known = set(PatientProfile.model_fields) | set(Indication.model_fields) | DERIVED_FACTS
    named: set[str] = set()
    for words in kb.fields:
        if words.field not in known:
            raise KnowledgeBaseError(f"fields.yaml: {words.field!r} is not a fact of the profile or "
                                     "indication")
        if words.field in named:
            raise KnowledgeBaseError(f"fields.yaml: {words.field!r} is listed twice")
        named.add(words.field)
    current_ids = {t.topic_id for t in kb.topics if t.status == "current"}
    for flag in kb.red_flags:
        for code in flag.triggers:
            if code not in codes:
                raise KnowledgeBaseError(f"red_flags.yaml: {flag.id}: unknown trigger {code!r}")
        for src in flag.sources:
            if src not in kb.sources:
                raise KnowledgeBaseError(f"red_flags.yaml: {flag.id}: unknown source {src!r}")
        for topic_id, number in flag.points_to:
            if topic_id not in current_ids:
                raise KnowledgeBaseError(f"red_flags.yaml: {flag.id}: no topic {topic_id}")
            kb.topic(topic_id).variant(number)


_cache: dict[Path, KnowledgeBase] = {}


def default_kb() -> KnowledgeBase:
    """The bundled knowledge base, loaded once per process."""
    if DATA_DIR not in _cache:
        _cache[DATA_DIR] = load(DATA_DIR)
    return _cache[DATA_DIR]
