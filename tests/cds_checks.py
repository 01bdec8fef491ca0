"""A reusable check of CDS Hooks 2.0 responses: the card and response rules of the specification
(https://cds-hooks.hl7.org/2.0/#cds-service-response), plus scanwise's own promises.

``validate_response(data)`` raises AssertionError naming the first rule a response breaks.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

INDICATORS = {"info", "warning", "critical"}
SELECTION = {"at-most-one", "any"}
ACTION_TYPES = {"create", "update", "delete"}
LINK_TYPES = {"absolute", "smart"}


def _absolute(url: Any, where: str) -> None:
    assert isinstance(url, str) and url.strip(), f"{where}: a URL string"
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https") and parts.netloc, f"{where}: absolute URL, got {url!r}"


def _no_empty(value: Any, where: str) -> None:
    """No null, empty string, empty list or empty object (the spec's rule for optional fields)."""
    assert value is not None, f"{where}: null"
    if isinstance(value, str):
        assert value.strip(), f"{where}: empty string"
    elif isinstance(value, list):
        assert value, f"{where}: empty list"
        for i, v in enumerate(value):
            _no_empty(v, f"{where}[{i}]")
    elif isinstance(value, dict):
        assert value, f"{where}: empty object"
        for k, v in value.items():
            _no_empty(v, f"{where}.{k}")


def _coding(c: Any, where: str, *, display: bool) -> None:
    assert isinstance(c, dict), f"{where}: a Coding object"
    assert isinstance(c.get("code"), str), f"{where}.code: a string"
    assert isinstance(c.get("system"), str), f"{where}.system: a string"
    if display:
        assert isinstance(c.get("display"), str) and c["display"].strip(), f"{where}.display: required"


def _action(a: Any, where: str, *, system: bool) -> None:
    assert isinstance(a, dict), f"{where}: an Action object"
    assert a.get("type") in ACTION_TYPES, f"{where}.type: create, update or delete"
    if not system:
        assert isinstance(a.get("description"), str), f"{where}.description: required"
    if a["type"] in ("create", "update"):
        res = a.get("resource")
        assert isinstance(res, dict) and isinstance(res.get("resourceType"), str), (
            f"{where}.resource: a FHIR resource"
        )
    else:
        assert not isinstance(a.get("resource"), str), f"{where}.resource: not an id string for delete"
        assert isinstance(a.get("resourceId"), str), f"{where}.resourceId: should be given for delete"


def validate_card(card: Any, where: str = "card") -> None:
    assert isinstance(card, dict), f"{where}: an object"
    assert isinstance(card.get("uuid"), str) and card["uuid"], f"{where}.uuid: scanwise gives every card one"
    summary = card.get("summary")
    assert isinstance(summary, str) and summary.strip(), f"{where}.summary: required"
    assert len(summary) < 140, f"{where}.summary: under 140 characters, got {len(summary)}"
    assert card.get("indicator") in INDICATORS, f"{where}.indicator: info, warning or critical"
    if "detail" in card:
        assert isinstance(card["detail"], str), f"{where}.detail: Markdown text"
    src = card.get("source")
    assert isinstance(src, dict), f"{where}.source: required object"
    assert isinstance(src.get("label"), str) and src["label"].strip(), f"{where}.source.label: required"
    assert "scanwise" in src["label"], f"{where}.source.label: names scanwise"
    for key in ("url", "icon"):
        if key in src:
            _absolute(src[key], f"{where}.source.{key}")
    if "topic" in src:
        _coding(src["topic"], f"{where}.source.topic", display=False)
    suggestions = card.get("suggestions")
    if suggestions is not None:
        assert isinstance(suggestions, list), f"{where}.suggestions: a list"
        assert card.get("selectionBehavior") in SELECTION, (
            f"{where}.selectionBehavior: required with suggestions"
        )
        for i, s in enumerate(suggestions):
            sw = f"{where}.suggestions[{i}]"
            assert isinstance(s.get("label"), str) and s["label"].strip(), f"{sw}.label: required"
            assert isinstance(s.get("uuid"), str) and s["uuid"], (
                f"{sw}.uuid: scanwise gives every suggestion one"
            )
            if "isRecommended" in s:
                assert isinstance(s["isRecommended"], bool), f"{sw}.isRecommended: boolean"
            for j, a in enumerate(s.get("actions") or []):
                _action(a, f"{sw}.actions[{j}]", system=False)
    elif "selectionBehavior" in card:
        assert card["selectionBehavior"] in SELECTION, f"{where}.selectionBehavior: allowed value"
    for i, r in enumerate(card.get("overrideReasons") or []):
        _coding(r, f"{where}.overrideReasons[{i}]", display=True)
    for i, link in enumerate(card.get("links") or []):
        lw = f"{where}.links[{i}]"
        assert isinstance(link.get("label"), str) and link["label"].strip(), f"{lw}.label: required"
        _absolute(link.get("url"), f"{lw}.url")
        assert link.get("type") in LINK_TYPES, f"{lw}.type: absolute or smart"
        if link["type"] == "absolute":
            assert "appContext" not in link, f"{lw}.appContext: not valid for absolute links"


def validate_response(data: Any) -> None:
    assert isinstance(data, dict), "response: a JSON object"
    assert set(data) <= {"cards", "systemActions", "extension"}, f"response: unknown fields {set(data)}"
    assert isinstance(data.get("cards"), list), "response.cards: required list (may be empty)"
    for key, value in data.items():
        if key != "cards":
            _no_empty(value, f"response.{key}")
    uuids: set[str] = set()
    for i, card in enumerate(data["cards"]):
        _no_empty(card, f"cards[{i}]")
        validate_card(card, f"cards[{i}]")
        assert card["uuid"] not in uuids, f"cards[{i}].uuid: unique"
        uuids.add(card["uuid"])
    for i, a in enumerate(data.get("systemActions") or []):
        _action(a, f"systemActions[{i}]", system=True)
    if "extension" in data:
        assert isinstance(data["extension"], dict), "response.extension: an object"
        if "systemActions" in data["extension"]:
            assert data["extension"]["systemActions"] == data.get("systemActions"), (
                "extension.systemActions: the same as the top-level systemActions"
            )


def validate_outcome(data: Any) -> None:
    """An error body: an OperationOutcome whose issue names the problem."""
    assert isinstance(data, dict) and data.get("resourceType") == "OperationOutcome", "an OperationOutcome"
    issue = data["issue"][0]
    assert issue["severity"] in ("error", "fatal") and isinstance(issue["code"], str)
    assert issue["details"]["text"].strip(), "the issue names the problem"
    _no_empty(data, "OperationOutcome")
