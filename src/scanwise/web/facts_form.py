"""The editable facts form: a PatientProfile shown as form fields with their evidence, and read
back from what the user submits.

Fields come from the PatientProfile model itself, so a field added to the core shows up here
without a code change. A value the user changes keeps no evidence from the record: its
evidence says the user entered it. Nothing is dropped without the user unticking it.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from scanwise.domain.kb import KnowledgeBase
from scanwise.domain.profile import Evidence, Indication, PatientProfile


def field_label(kb: KnowledgeBase, key: str) -> str:
    """A fact's label on the pages, from the knowledge base's table of fields in words."""
    return kb.words(key).label or key.replace("_", " ").capitalize()


_VALUE_WORDS: dict[str, str] = {
    "dcis": "DCIS (ductal carcinoma in situ)", "ductal": "ductal (IDC)", "lobular": "lobular (ILC)",
    "new_diagnosis": "just diagnosed", "diagnostic_workup": "a symptom or finding is being checked",
    "neoadjuvant": "treatment before surgery", "surveillance": "follow-up after treatment",
    "suspected_recurrence": "cancer may have come back", "locoregional": "the breast and nearby",
    "axilla": "the armpit lymph nodes", "distant": "spread to other organs",
}
_LIST_FIELDS = ("symptoms", "denied_symptoms", "findings", "family_history")
_INDICATION_FIELDS = ("phase", "purpose")
# Fields shown as single form controls; lists, labs and evidence are handled apart.
_SCALARS = tuple(k for k in PatientProfile.model_fields
                 if k not in (*_LIST_FIELDS, "labs", "evidence"))

#: Present in a form that shows the list items as boxes; without it the lists stay as they were.
LISTS_SHOWN = "lists_shown"

Kind = Literal["select", "number", "text"]


@dataclass
class Choice:
    value: str
    label: str


@dataclass
class FieldView:
    name: str  # the form field name: "profile.age", "indication.phase"
    key: str  # the model field
    label: str
    kind: Kind
    value: str
    options: list[Choice] = field(default_factory=list)
    step: str | None = None
    evidence: list[Evidence] = field(default_factory=list)
    error: str | None = None

    @property
    def known(self) -> bool:
        return self.value != ""


@dataclass
class ListItem:
    name: str  # "keep:symptoms"
    value: str  # the code, or "alp=normal" for labs
    label: str
    evidence: list[Evidence]


@dataclass
class ListView:
    key: str
    label: str
    items: list[ListItem]


@dataclass
class FactsForm:
    fields: list[FieldView]
    lists: list[ListView]
    profile_json: str
    indication_json: str
    assumptions: list[str] = field(default_factory=list)  # what the reading inferred
    errors: list[str] = field(default_factory=list)

    @property
    def known_fields(self) -> list[FieldView]:
        return [f for f in self.fields if f.known or f.error]

    @property
    def unknown_fields(self) -> list[FieldView]:
        return [f for f in self.fields if not f.known and not f.error]


def _words(value: str) -> str:
    return _VALUE_WORDS.get(value, value.replace("_", " "))


def _plain(annotation: Any) -> list[Any]:
    """The non-None parts of an annotation, with unions flattened."""
    if get_origin(annotation) in (Union, types.UnionType):
        return [p for arg in get_args(annotation) if arg is not type(None) for p in _plain(arg)]
    return [annotation]


def _literals(annotation: Any) -> list[str] | None:
    parts = _plain(annotation)
    values: list[str] = []
    for part in parts:
        if get_origin(part) is not Literal:
            return None
        values.extend(str(v) for v in get_args(part))
    return values


def _view(model: type[BaseModel], key: str, value: Any, prefix: str,
          evidence: list[Evidence], kb: KnowledgeBase) -> FieldView | None:
    annotation = model.model_fields[key].annotation
    name = f"{prefix}.{key}"
    label = field_label(kb, key)
    shown = "" if value is None else str(value)
    literals = _literals(annotation)
    if literals is not None:
        options = [Choice(v, _words(v)) for v in literals]
        return FieldView(name, key, label, "select", shown, options, evidence=evidence)
    parts = _plain(annotation)
    if parts == [bool]:
        shown = "" if value is None else ("true" if value else "false")
        return FieldView(name, key, label, "select", shown,
                         [Choice("true", "yes"), Choice("false", "no")], evidence=evidence)
    if parts in ([int], [float]):
        shown = "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
        return FieldView(name, key, label, "number", shown, step="1" if parts == [int] else "any",
                         evidence=evidence)
    if parts == [str]:
        return FieldView(name, key, label, "text", shown, evidence=evidence)
    return None  # lists and mappings are shown as ticked items


def build_form(profile: PatientProfile, indication: Indication | None, kb: KnowledgeBase, *,
               errors: dict[str, str] | None = None) -> FactsForm:
    errors = errors or {}
    fields: list[FieldView] = []
    for key in _SCALARS:
        view = _view(PatientProfile, key, getattr(profile, key), "profile",
                     profile.evidence.get(key, []), kb)
        if view is not None:
            view.error = errors.get(view.name)
            fields.append(view)
    ind = indication or Indication()
    for key in _INDICATION_FIELDS:
        view = _view(Indication, key, getattr(ind, key), "indication", ind.evidence.get(key, []), kb)
        if view is not None:
            view.error = errors.get(view.name)
            fields.append(view)

    term_label = kb.label
    lists: list[ListView] = []
    for key in _LIST_FIELDS:
        values: list[str] = getattr(profile, key)
        items = [ListItem(f"keep:{key}", v, v if key == "family_history" else term_label(v),
                          profile.evidence.get(f"{key}:{v}", [])) for v in values]
        lists.append(ListView(key, field_label(kb, key), items))
    labs = [ListItem("keep:labs", f"{code}={state}", f"{term_label(code)}: {state}",
                     profile.evidence.get(f"labs:{code}", [])) for code, state in profile.labs.items()]
    lists.append(ListView("labs", field_label(kb, "labs"), labs))
    return FactsForm(fields=fields, lists=[v for v in lists if v.items],
                     profile_json=profile.model_dump_json(),
                     indication_json=ind.model_dump_json(),
                     assumptions=list(ind.assumptions),
                     errors=list(errors.values()))


class FormProblem(ValueError):
    """The submitted facts do not validate; ``errors`` maps form field names to messages."""

    def __init__(self, errors: dict[str, str], profile: PatientProfile,
                 indication: Indication) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors
        self.profile = profile
        self.indication = indication


def _originals(form: dict[str, Any]) -> tuple[PatientProfile, Indication]:
    try:
        profile = PatientProfile.model_validate_json(str(form.get("profile_json") or "{}"))
        indication = Indication.model_validate_json(str(form.get("indication_json") or "{}"))
    except ValidationError as exc:
        raise FormProblem({"profile_json": "The facts could not be read back; please start again."},
                          PatientProfile(), Indication()) from exc
    return profile, indication


def _edited(original: Any, submitted: Any, evidence: dict[str, list[Evidence]], key: str,
            shown: str) -> None:
    if submitted == original:
        return
    if submitted is None:
        evidence.pop(key, None)
    else:
        evidence[key] = [Evidence(text=f"entered by you: {shown}", source="you")]


def read_form(form: dict[str, Any], kb: KnowledgeBase) -> tuple[PatientProfile, Indication]:
    """The profile and indication as the user left them. Raises FormProblem naming each field."""
    original, original_ind = _originals(form)
    data = original.model_dump()
    ind_data = original_ind.model_dump()
    for key in _SCALARS:
        name = f"profile.{key}"
        if name in form:
            raw = str(form[name]).strip()
            data[key] = raw or None
    for key in _INDICATION_FIELDS:
        name = f"indication.{key}"
        if name in form:
            ind_data[key] = str(form[name]).strip() or None
    if LISTS_SHOWN in form:  # the form showed the lists as ticked boxes: keep what is ticked
        kept = form.get("__lists__", {})
        for key in _LIST_FIELDS:
            data[key] = [v for v in getattr(original, key) if v in kept.get(key, set())]
        data["labs"] = {code: state for code, state in original.labs.items()
                        if f"{code}={state}" in kept.get("labs", set())}
    errors: dict[str, str] = {}
    profile = _validated(PatientProfile, data, "profile", errors, kb)
    indication = _validated(Indication, ind_data, "indication", errors, kb)
    if errors or profile is None or indication is None:
        raise FormProblem(errors, original, original_ind)
    evidence = {k: list(v) for k, v in original.evidence.items()}
    for key in _SCALARS:
        _edited(getattr(original, key), getattr(profile, key), evidence, key,
                str(form.get(f"profile.{key}", "")).strip())
    for key in _LIST_FIELDS:
        for code in set(getattr(original, key)) - set(getattr(profile, key)):
            evidence.pop(f"{key}:{code}", None)
    for code in set(original.labs) - set(profile.labs):
        evidence.pop(f"labs:{code}", None)
    ind_evidence = {k: list(v) for k, v in original_ind.evidence.items()}
    for key in _INDICATION_FIELDS:
        _edited(getattr(original_ind, key), getattr(indication, key), ind_evidence, key,
                str(form.get(f"indication.{key}", "")).strip())
    return (profile.model_copy(update={"evidence": evidence}),
            indication.model_copy(update={"evidence": ind_evidence}))


def _validated(model: type[BaseModel], data: dict[str, Any], prefix: str,
               errors: dict[str, str], kb: KnowledgeBase) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for e in exc.errors():
            key = str(e["loc"][0]) if e["loc"] else ""
            label = field_label(kb, key)
            errors[f"{prefix}.{key}"] = f"{label}: {e['msg']}"
        return None


def lists_from_multidict(items: list[tuple[str, Any]]) -> dict[str, set[str]]:
    """The ticked list items of a submitted form, by list."""
    kept: dict[str, set[str]] = {}
    for name, value in items:
        if isinstance(name, str) and name.startswith("keep:") and isinstance(value, str):
            kept.setdefault(name[5:], set()).add(value)
    return kept
