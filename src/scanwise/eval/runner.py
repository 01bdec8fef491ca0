"""`scanwise eval`: run the regression scenarios through reader and engine, report accuracy."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

if TYPE_CHECKING:
    from scanwise.core import Scanwise
    from scanwise.domain.assess import Assessment

BUNDLED = Path(__file__).with_name("scenarios.yaml")


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phase: str | None = None
    purpose: str | None = None
    stage: str | None = None
    subtype: str | None = None
    red_flags: list[str] = []
    denied: list[str] = []
    out_of_scope: bool | None = None


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    style: str | None = None  # terse | patient | oneliner | tricky (the blind sets say)
    text: str
    top: tuple[int, int] | None
    also_ok: list[tuple[int, int]] = []
    # Where the text does not decide: the variants a "depends on" answer must offer.
    branch: list[tuple[int, int]] = []
    covered_by_topic: int | None = None
    expect: Expect = Expect()
    note: str | None = None


class ScenarioFileError(ValueError):
    """A scenarios file that cannot be used; the message names the file and the problem."""


def load_scenarios(path: Path | None = None) -> list[Scenario]:
    path = path or BUNDLED
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ScenarioFileError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioFileError(f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ScenarioFileError(f"{path}: not valid YAML{where} ({problem})") from exc
    items = data.get("scenarios") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ScenarioFileError(f"{path}: expected a top-level list named 'scenarios'")
    out = []
    for i, item in enumerate(items):
        try:
            out.append(Scenario.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            raise ScenarioFileError(f"{path.name}: scenarios[{i}] field {where}: {first['msg']}") from exc
    return out


def _branches(a: Assessment) -> list[tuple[int, int]]:
    """The variants the result offers as a "depends on" branch (none when it picked one)."""
    decision = getattr(a, "decision", None)
    if decision is None:
        return []
    return [(b.topic_id, b.variant) for b in decision.branches]


def shows_doubt(a: Assessment) -> bool:
    """Whether the result tells the reader it is unsure: a branch or a stated ambiguity."""
    return bool(_branches(a)) or a.ambiguity is not None


def abstains_plainly(a: Assessment) -> bool:
    """No variant chosen, and the result says why: what is missing ("no scenario fits: here is
    what is missing", in its statement and its ``abstention`` field), or that the topic covering
    the situation has no variants in the bundled data (``uncovered_topics``, named in the
    statement): an answer that says its rating is unknown is not a confident one."""
    if a.matches or not a.indication.in_scope:
        return False
    ab = getattr(a, "abstention", None)
    missing = ab is not None and bool(ab.missing) and "What is missing" in a.statement
    return missing or any(f"ACR topic {u.topic_id} " in a.statement for u in a.uncovered_topics)


def top_correct(case: Scenario, a: Assessment) -> bool:
    """The expected variant was chosen, or offered in a branch that the text leaves open."""
    # With no variant expected, ``also_ok`` lists variants that may be shown instead.
    wanted = [*([tuple(case.top)] if case.top is not None else []), *map(tuple, case.also_ok)]
    branches = _branches(a)
    if branches:
        return bool(wanted) and any(w in branches for w in wanted)
    got = (a.matches[0].topic_id, a.matches[0].variant) if a.matches else None
    return (got is None or got in wanted) if case.top is None else got in wanted


def check(case: Scenario, a: Assessment) -> dict[str, bool]:
    """Each expectation of the scenario, true where the result meets it."""
    results: dict[str, bool] = {"top": top_correct(case, a)}
    if case.covered_by_topic is not None:
        results["covered_by_topic"] = any(u.topic_id == case.covered_by_topic
                                          for u in a.uncovered_topics)
    e = case.expect
    if e.phase is not None:
        results["phase"] = a.indication.phase == e.phase
    if e.purpose is not None:
        results["purpose"] = a.indication.purpose == e.purpose
    if e.stage is not None:
        results["stage"] = e.stage in a.stage.groups or a.profile.stage == e.stage
    if e.subtype is not None:
        results["subtype"] = a.profile.subtype == e.subtype
    if e.red_flags:
        raised = {t.code for f in a.red_flags for t in f.triggered_by}
        results["red_flags"] = set(e.red_flags) <= raised
    if e.denied:
        results["denied"] = all(a.profile.denied(code) for code in e.denied)
    if e.out_of_scope is not None:
        results["out_of_scope"] = (not a.indication.in_scope) == e.out_of_scope
    return results


def run(cases: list[Scenario], app: Scanwise) -> dict[str, Any]:
    """Every case through the core's reader and engine; counts per check, and the failures."""
    rows = []
    totals: dict[str, list[int]] = {}
    started = time.perf_counter()
    for case in cases:
        profile, indication = app.read_text(case.text)
        a = app.assess(profile, indication)
        results = check(case, a)
        for key, ok in results.items():
            totals.setdefault(key, [0, 0])
            totals[key][0] += ok
            totals[key][1] += 1
        rows.append({
            "id": case.id,
            "style": case.style,
            "ok": all(results.values()),
            # Wrong with nothing on screen to say so. A plain abstention ("no scenario fits:
            # here is what is missing") is a miss, counted in "declined", not a silent one.
            "confidently_wrong": not results["top"] and not shows_doubt(a) and not abstains_plainly(a),
            # No variant chosen (nor a branch) where the set expects one.
            "declined": case.top is not None and not a.matches and not _branches(a),
            "branch_shown": bool(_branches(a)),
            # A branch where the set's author says the text decides: right only if it holds the
            # expected variant, and still a hedge worth counting.
            "unasked_branch": bool(_branches(a)) and not case.branch,
            "failed": [k for k, ok in results.items() if not ok],
            "expected_top": list(case.top) if case.top else None,
            "got_top": [a.matches[0].topic_id, a.matches[0].variant] if a.matches else None,
            "phase": a.indication.phase,
            "purpose": a.indication.purpose,
        })
    elapsed = time.perf_counter() - started
    top = totals.get("top", [0, 0])
    return {
        "kb_version": app.kb_version,
        "scenarios": len(cases),
        "top1_accuracy": round(top[0] / top[1], 4) if top[1] else None,
        "all_checks_passed": sum(r["ok"] for r in rows),
        # Wrong with nothing on screen to say so: the failure a clinician cannot see.
        "confidently_wrong": sum(r["confidently_wrong"] for r in rows),
        "declined": sum(r["declined"] for r in rows),
        "branches_shown": sum(r["branch_shown"] for r in rows),
        "branches_where_text_decides": sum(r["unasked_branch"] for r in rows),
        "by_style": _by_style(rows),
        "by_check": {k: {"correct": v[0], "total": v[1], "accuracy": round(v[0] / v[1], 4)}
                     for k, v in totals.items()},
        "seconds": round(elapsed, 3),
        "failures": [r for r in rows if not r["ok"]],
    }


def _by_style(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        if r["style"] is None:
            continue
        s = out.setdefault(r["style"], {"scenarios": 0, "top_correct": 0, "confidently_wrong": 0,
                                        "declined": 0})
        s["scenarios"] += 1
        s["top_correct"] += "top" not in r["failed"]
        s["confidently_wrong"] += r["confidently_wrong"]
        s["declined"] += r["declined"]
    return out
