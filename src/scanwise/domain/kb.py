"""The knowledge base: guideline topics, variants and rated procedures as validated data.

This module holds the models only. The data lives in YAML files under ``scanwise/knowledge``
and is read by :mod:`scanwise.knowledge.loader`, which validates every file against these
models (a file that breaks the schema fails loading with a message naming the file, the
entry and the field) and adds any licensed content packs. ``kb_version`` is a content hash
of all data files, followed by the name and version of each pack, so every output can say
exactly which knowledge it came from.

Two kinds of guidance are kept apart: ACR topics with their rated procedures, and other
guideline bodies' statements (:class:`Statement`), which are never ratings.

Nothing here decides anything: ratings are carried exactly as the source printed them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scanwise.domain.answer_data import AnswerData
from scanwise.domain.conditions import Compiled, Conditions, compile_conditions
from scanwise.domain.profile import Phase, Population, Purpose
from scanwise.domain.staging.tables import StageTables

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
    # False where the source's variant list was only partly found (the variants here are some
    # of the topic's): a case the topic covers that none of them fits is covered, its ratings unknown.
    variant_list_complete: bool = True
    notes: list[str] = []
    summary_claims: list[SecondaryClaim] = []
    # Set by the loader, never by a data file: the content pack that supplied this table
    # ("name version"), and the bundled revision it replaces, if any.
    pack: str | None = None
    replaces: str | None = None

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

    @cached_property
    def compiled(self) -> dict[int, Compiled]:
        """Each variant's conditions compiled into checks, once per knowledge base."""
        return {number: compile_conditions(cond) for number, cond in self.conditions.items()}

    @cached_property
    def compiled_applies_when(self) -> Compiled:
        """The topic-wide conditions compiled (for a topic whose variants are not bundled)."""
        return compile_conditions(self.applies_when)

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


def phrase_error(phrase: str) -> str | None:
    """What is wrong with a phrase in the vocabulary's syntax, or None: "[a|b c]" would split
    into two broken pieces and silently never match."""
    for piece in phrase.split():
        word = piece.rstrip("?")
        if ("[" in word or "]" in word) and not (word.startswith("[") and word.endswith("]")
                                                 and word.count("[") == 1 and word.count("]") == 1
                                                 and all(word[1:-1].split("|"))):
            return f"{piece!r} is not a [word|word] group (alternatives are single words with no spaces)"
    return None


def phrase_regex(phrase: str) -> str:
    """A vocabulary phrase as a regular expression for lower-cased text, whole words only:
    'pain in [the|my]? [hip|back]' matches "pain in my back" and "pain in back"."""
    return rf"(?<![a-z0-9])(?:{phrase_body(phrase)})(?![a-z0-9])"


def phrase_body(phrase: str) -> str:
    """A vocabulary phrase as a regular expression with no word boundaries of its own."""
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
    return out


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
    # More specific codes this one is the general word for ("breast pain" for focal or
    # diffuse pain): said generally, which of them holds is unknown, not absent.
    narrower: list[str] = []
    # For studies: lay names patients use in questions ("cat scan", "sugar scan"), read by the
    # question reader beside the patterns (and before them where both name a phrase), not by
    # the clinical reader, where a bare word such as "tomo" could mean something else.
    lay: list[str] = []
    # For findings: the symptom the finding also is when the text says it is felt on
    # examination (reading.yaml ``context.felt``): palpable adenopathy is a lump in the armpit.
    felt_as: str | None = None

    @field_validator("patterns")
    @classmethod
    def _phrases_well_formed(cls, v: list[str]) -> list[str]:
        for phrase in v:
            if error := phrase_error(phrase):
                raise ValueError(f"pattern {phrase!r}: {error}")
        return v

    @field_validator("lay")
    @classmethod
    def _plain_lower(cls, v: list[str]) -> list[str]:
        for w in v:
            if w != w.lower() or not w.strip() or "[" in w:
                raise ValueError(f"lay name {w!r} must be a plain lower-case phrase")
        return v


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


Direction = Literal["recommended", "not recommended", "consider", "insufficient"]


class StatementTarget(Strict):
    """Where a statement applies: a topic, and the variants (none listed: the whole topic)."""

    topic: int
    variants: list[int] = []


class Statement(Strict):
    """What a guideline body other than the ACR says about imaging in a situation.

    Kept beside the ACR tables and never mixed with them: a statement has a direction, not a
    rating. ``text`` is scanwise's own summary; the publisher's words are not stored.
    """

    id: Annotated[str, Field(pattern=r"^GS\d{3}$")]  # the reference compilation's id
    publisher: str
    source: str  # key into the sources files: the document and its address
    section: str | None = None  # where in the document, e.g. "rec. 1.3.1"
    year: int | None  # the year of the statement, None where the page shows none
    currency: Literal["current", "old"]
    currency_note: str | None = None  # e.g. "2017 patient book; current version not seen"
    verification: Literal["primary", "secondary"]  # seen on the publisher's own page, or a copy
    verification_note: str | None = None
    direction: Direction
    procedures: list[str]  # vocabulary study codes or ACR procedure names
    applies_to: Annotated[list[StatementTarget], Field(min_length=1)]
    text: str

    @model_validator(mode="after")
    def _old_says_why(self) -> Statement:
        if self.currency == "old" and not self.currency_note:
            raise ValueError("an old statement needs a currency_note saying why it is old")
        return self


class PackInfo(Strict):
    """A licensed content pack's own description (its ``pack.yaml``)."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")]
    version: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    publisher: str
    license: str
    note: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


T = TypeVar("T")

#: A variant as the engine's index holds it: its topic, itself, its compiled conditions.
IndexedVariant = tuple[Topic, Variant, Compiled]


class KnowledgeBase(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    version: str
    topics: list[Topic]
    sources: dict[str, Source]
    red_flags: list[RedFlag]
    vocabulary: list[Term]
    order_codes: list[OrderCode] = []
    statements: list[Statement] = []
    packs: list[PackInfo] = []
    fields: list[FieldWords] = []
    # The patient answers' topics, glossary and allowed hosts (domain/answer_data.py).
    answers: AnswerData = AnswerData()
    # The AJCC stage tables, validated and indexed (domain/staging/tables.py), read by the
    # loader from knowledge/staging/; staging is given them from here.
    stage_tables: StageTables

    def derived(self, build: Callable[[KnowledgeBase], T]) -> T:
        """What ``build`` makes from this knowledge base, made on first use and kept with it
        for the life of the process (the engine's rated procedures, the statements' references):
        what follows from the data alone is never rebuilt per call. Kept by ``build`` itself,
        so each deriving function has its own entry; not pickled (it may hold what only this
        process's objects mean)."""
        memo = self._derived
        if build not in memo:
            memo[build] = build(self)
        return memo[build]  # type: ignore[no-any-return]

    @cached_property
    def _derived(self) -> dict[Callable[[KnowledgeBase], Any], Any]:
        return {}

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        state["__dict__"] = {k: v for k, v in state["__dict__"].items() if k != "_derived"}
        return state

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

    def variants_for(self, phase: str | None, purpose: str | None, population: str | None = None,
                     *, include_retired: bool = False) -> tuple[IndexedVariant, ...]:
        """The variants that can fit a question of this phase and purpose for a patient of this
        population (None: not known), with their compiled conditions, in knowledge-base order:
        a variant for another phase or population, or for a purpose the question's does not
        fall under, cannot (``Compiled.may_fit``). Superseded topics are never included,
        retired ones on request; a variant that says nothing of its phase fits no question."""
        if phase is None:
            return ()
        found = self._variant_index.get((phase, purpose, population, include_retired))
        if found is None:  # a value the models do not allow (built without validation)
            found = tuple(e for e in self._indexed_variants if e[2].may_fit(phase, purpose, population)
                          and (include_retired or e[0].status != "retired"))
        return found

    @cached_property
    def _indexed_variants(self) -> tuple[IndexedVariant, ...]:
        return tuple((t, v, t.compiled[v.number]) for t in self.topics if t.status != "superseded"
                     for v in t.variants)

    @cached_property
    def _variant_index(self) -> dict[tuple[str, str | None, str | None, bool], tuple[IndexedVariant, ...]]:
        entries = self._indexed_variants
        index: dict[tuple[str, str | None, str | None, bool], tuple[IndexedVariant, ...]] = {}
        for phase in get_args(Phase):
            for purpose in (None, *get_args(Purpose)):
                for population in (None, *get_args(Population)):
                    fit = [e for e in entries if e[2].may_fit(phase, purpose, population)]
                    index[(phase, purpose, population, True)] = tuple(fit)
                    index[(phase, purpose, population, False)] = tuple(
                        e for e in fit if e[0].status != "retired")
        return index

    def uncovered_for(self, phase: str | None) -> tuple[Topic, ...]:
        """Current topics for this phase whose variants are not, or not all, in the bundled data."""
        return self._uncovered_index.get(phase, ()) if phase is not None else ()

    @cached_property
    def _uncovered_index(self) -> dict[str, tuple[Topic, ...]]:
        bare = [t for t in self.current_topics() if (not t.variants or not t.variant_list_complete)
                and t.applies_when.phase is not None]
        return {phase: tuple(t for t in bare if phase in (t.applies_when.phase or ()))
                for phase in get_args(Phase)}

    @cached_property
    def narrower(self) -> dict[str, list[str]]:
        """General codes and the more specific ones they may stand for (vocabulary order)."""
        return {t.code: t.narrower for t in self.vocabulary if t.narrower}

    @cached_property
    def felt_as(self) -> dict[str, str]:
        """Findings and the sign each is when felt on examination (vocabulary ``felt_as``)."""
        return {t.code: t.felt_as for t in self.vocabulary if t.felt_as}

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

    def statements_for(self, topic_id: int, variant: int | None = None) -> list[Statement]:
        """Other guidelines' statements on one variant, or with ``variant=None`` those on the
        topic as a whole (they name no variant: the bundled data lacks the topic's variants,
        and a topic-wide statement is never pinned on a variant it may not fit)."""
        return list(self._statement_index.get((topic_id, variant), ()))

    @cached_property
    def _statement_index(self) -> dict[tuple[int, int | None], list[Statement]]:
        """Statements by (topic, variant) and (topic, None) for the topic-wide ones, each
        statement once per key, in file order."""
        index: dict[tuple[int, int | None], list[Statement]] = {}
        for s in self.statements:
            keys: dict[tuple[int, int | None], None] = {}
            for t in s.applies_to:
                for v in t.variants or (None,):
                    keys[(t.topic, v)] = None
            for key in keys:
                index.setdefault(key, []).append(s)
        return index


class KnowledgeBaseError(ValueError):
    """A data file is missing, unreadable or breaks the schema."""
