"""What the templates show, prepared from the core's models (no new facts, only layout)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scanwise.domain.answers import Answer
from scanwise.domain.answers.models import Table
from scanwise.domain.assess import Assessment
from scanwise.domain.facts import Fact
from scanwise.domain.kb import KnowledgeBase
from scanwise.domain.profile import Evidence, PatientProfile
from scanwise.web.facts_form import field_label

CATEGORY_CLASS = {"Usually Appropriate": "ua", "May Be Appropriate": "mba",
                  "May Be Appropriate (Disagreement)": "mba", "Usually Not Appropriate": "una"}


def article_href(topic_id: int, variant: int) -> str:
    return f"/articles/{topic_id}/{variant}"


# --- patient answers --------------------------------------------------------------------------

@dataclass
class Cited:
    text: str
    numbers: list[int]


@dataclass
class SectionView:
    heading: str
    kind: str
    note: str | None
    paragraphs: list[Cited]
    bullets: list[Cited]
    guidelines: list[dict[str, Any]]
    table: Table | None = None
    anchor: str = ""


@dataclass
class AnswerView:
    answer: Answer
    short: Cited | None = None  # the short answer, shown first
    sections: list[SectionView] = field(default_factory=list)

    def source_groups(self) -> list[tuple[str, list[Any]]]:
        """Sources by publisher, each with its title and link, in the answer's numbering."""
        by_number = {s.number: s for s in self.answer.sources}
        return [(g.publisher, [by_number[n] for n in g.numbers]) for g in self.answer.source_groups]


def answer_view(answer: Answer, facts: dict[str, Fact]) -> AnswerView:
    """Sections with each paragraph's source numbers, the numbers the source list uses."""
    def cited(text: str, fact_ids: list[str]) -> Cited:
        return Cited(text, answer.source_numbers(fact_ids, facts))

    view = AnswerView(answer, short=cited(answer.short_answer, answer.short_citations))
    for s in answer.sections:
        if s.kind == "sources":
            continue  # the page lists answer.sources itself, with anchors
        paragraph_cites = s.paragraph_citations or [[] for _ in s.paragraphs]
        bullet_cites = s.bullet_citations or [[] for _ in s.bullets]
        view.sections.append(SectionView(
            heading=s.heading, kind=s.kind, note=s.note,
            paragraphs=[cited(t, c) for t, c in zip(s.paragraphs, paragraph_cites, strict=False)],
            bullets=[cited(t, c) for t, c in zip(s.bullets, bullet_cites, strict=False)],
            guidelines=[{**g.model_dump(), "href": article_href(g.topic_id, g.variant)}
                        for g in s.guideline_refs],
            table=s.table, anchor=f"sec-{len(view.sections) + 1}",
        ))
    return view


# --- clinician assessments --------------------------------------------------------------------

@dataclass
class FactRow:
    label: str
    value: str
    evidence: list[Evidence]


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("_", " ")


def profile_rows(profile: PatientProfile, kb: KnowledgeBase) -> list[FactRow]:
    """Every known fact with the words it came from, in the model's order."""

    term = kb.label
    rows: list[FactRow] = []
    for key in PatientProfile.model_fields:
        value = getattr(profile, key)
        if key == "evidence" or value in (None, [], {}):
            continue
        label = field_label(kb, key)
        if key == "labs":
            for code, state in value.items():
                rows.append(FactRow(term(code), state, profile.evidence.get(f"labs:{code}", [])))
        elif isinstance(value, list):
            for item in value:
                shown = item if key == "family_history" else term(item)
                rows.append(FactRow(label, shown, profile.evidence.get(f"{key}:{item}", [])))
        else:
            rows.append(FactRow(label, _shown(value), profile.evidence.get(key, [])))
    return rows


@dataclass
class AssessmentView:
    a: Assessment
    facts: list[FactRow]


def assessment_view(assessment: Assessment, kb: KnowledgeBase) -> AssessmentView:
    return AssessmentView(assessment, profile_rows(assessment.profile, kb))


# --- API docs ---------------------------------------------------------------------------------

@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    tags: list[str]
    parameters: list[dict[str, Any]]
    body_types: list[str]
    body_schema: str | None
    example: str | None
    responses: list[tuple[str, str]]

    @property
    def anchor(self) -> str:
        return (self.method + self.path).lower().replace("/", "-").replace("{", "").replace("}", "")


def _ref_name(schema: dict[str, Any] | None) -> str | None:
    if not schema:
        return None
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _example(name: str | None, components: dict[str, Any]) -> Any:
    schema = components.get(name or "", {})
    if schema.get("examples"):
        return schema["examples"][0]
    props = {k: v["examples"][0] for k, v in schema.get("properties", {}).items() if v.get("examples")}
    return props or None


def openapi_view(schema: dict[str, Any]) -> list[Operation]:
    import json

    components = schema.get("components", {}).get("schemas", {})
    ops = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            content = op.get("requestBody", {}).get("content", {})
            json_body = content.get("application/json", {}).get("schema")
            name = _ref_name(json_body)
            example = _example(name, components) if content else None
            ops.append(Operation(
                method=method.upper(), path=path, summary=op.get("summary", ""),
                description=op.get("description", ""), tags=op.get("tags", []),
                parameters=[{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                             "description": p.get("description", "")}
                            for p in op.get("parameters", [])],
                body_types=list(content), body_schema=name,
                example=json.dumps(example, indent=2) if example is not None else None,
                responses=[(code, r.get("description", "")) for code, r in op.get("responses", {}).items()],
            ))
    return ops
