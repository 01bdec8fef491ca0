"""Build the ACR topic files of the knowledge base from the shared reference compilation.

    python tools/build_acr_kb.py [--reference ../shared/reference/acr_breast.json]

Ratings, radiation levels and labels are copied exactly; nothing is invented. What a
person wrote by hand in an existing topic file (``applies_when`` at topic and variant
level) is kept, so the script can be re-run when the reference data changes.

Rules applied, each recorded in the output:
- A procedure's relative radiation level (RRL) belongs to the procedure, not the variant.
  Where a row lacks it, it is taken from the same procedure name in another table
  (current topics first, then superseded revisions) and ``rrl_from`` says which.
- Superseded revisions are not written: they are not used for current answers.
- Topic 154 (stage I) is kept as ``retired`` (replaced by topic 310), and topic 248
  (pregnancy and lactation, 2018) as ``retired`` (replaced by topic 396).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "scanwise" / "knowledge" / "acr"
DEFAULT_REFERENCE = ROOT.parent / "shared" / "reference" / "acr_breast.json"

RETIRED = {
    154: (310, "Retired ACR topic; its scenarios are now covered by topic 310 "
                "(Imaging of Invasive Breast Cancer)."),
    248: (396, "Retired 2018 ACR topic; pregnancy is now covered by topic 396 and lactation "
                "by a separate topic not in the bundled data."),
}
SOE = {"Strong", "Moderate", "Limited", "Expert Consensus"}


def _msv(text: str | None) -> str | None:
    if text is None:
        return None
    return re.sub(r"(\d)mSv", r"\1 mSv", text.strip())


def _source_key(raw: str) -> str:
    """'scrape2020 + ga205 (SOE/rating/median)' -> 'scrape2020+ga205'."""
    keys = [re.sub(r"\s*\(.*\)$", "", part).strip() for part in raw.split("+")]
    return "+".join(k for k in keys if k)


def _rrl_index(data: dict[str, Any]) -> dict[str, tuple[int, str | None, str]]:
    """Procedure name -> (symbols, mSv text, where), preferring current topics."""
    index: dict[str, tuple[int, str | None, str]] = {}
    for group, label in ((data["topics"], "current"), (data["superseded_versions"], "superseded")):
        for topic in group:
            rev = "" if label == "current" else f" ({topic.get('revision_year') or 'older'} revision)"
            for variant in topic["variants"]:
                for row in variant["procedures"]:
                    sym = row.get("adult_rrl_symbols")
                    if sym is None:
                        continue
                    text = _msv(row.get("adult_rrl_text"))
                    where = (f"ACR topic {topic['topic_id']}{rev} variant {variant['number']} "
                             f"({_source_key(row['source'])})")
                    best = index.get(row["name"])
                    if best is None or (best[1] is None and text is not None):
                        index[row["name"]] = (sym, text, where)
    return index


def _procedure(row: dict[str, Any], rrl_index: dict[str, tuple[int, str | None, str]]) -> dict:
    rrl, msv, rrl_from = row.get("adult_rrl_symbols"), _msv(row.get("adult_rrl_text")), None
    if rrl is None and msv != "Varies" and row["name"] in rrl_index:
        rrl, inherited_msv, rrl_from = rrl_index[row["name"]]
        msv = msv or inherited_msv
    elif rrl is not None and msv is None and row["name"] in rrl_index:
        sym, inherited_msv, where = rrl_index[row["name"]]
        if sym == rrl and inherited_msv:
            msv, rrl_from = inherited_msv, f"dose band from {where}"
    soe = row.get("soe")
    if soe is not None and soe not in SOE:
        raise SystemExit(f"unexpected strength of evidence {soe!r} in {row['name']}")
    out: dict[str, Any] = {
        "name": row["name"],
        "category": row["category"],
        "rating": row.get("rating"),
        "median": row.get("median"),
        "soe": soe,
        "rrl": rrl,
        "rrl_msv": msv,
        "rrl_from": rrl_from,
        "verification": row["verification"],
        "source": _source_key(row["source"]),
    }
    return {k: v for k, v in out.items() if v is not None}


def _notes(item: dict[str, Any]) -> list[str]:
    notes = list(item.get("notes") or [])
    for key in ("version_note", "status_note", "revision_year_basis", "revision_year_basis_v2",
                "publication_v2_note", "variants_expected_basis", "superseded_v2_note"):
        if item.get(key):
            notes.append(f"{key.replace('_', ' ')}: {item[key]}")
    return notes


def _claims(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in c.items() if k in ("source", "text", "reviewed", "verification")
             and v is not None} for c in item.get("summary_claims") or []]


def build_topic(topic: dict[str, Any], rrl_index: dict, existing: dict[str, Any]) -> dict:
    tid = topic["topic_id"]
    kept_variants = {v["number"]: v for v in existing.get("variants", [])}
    status, superseded_by, extra = "current", None, []
    if tid in RETIRED:
        superseded_by, note = RETIRED[tid]
        status, extra = "retired", [note]
    variants = []
    for v in topic["variants"]:
        # A row whose category was cut off in the source is listed by name, never guessed.
        procedures = [_procedure(r, rrl_index) for r in v["procedures"] if r["category"]]
        unrated = [r["name"] for r in v["procedures"] if not r["category"]]
        note = None
        if not procedures:
            note = "No rating table for this variant is in the bundled data; ratings are unknown."
        elif not v["procedures_complete"]:
            note = "The table in the bundled data is incomplete; procedures not listed are unknown."
        variants.append({
            "number": v["number"],
            "label": v["label"],
            "label_complete": v["label_complete"],
            "applies_when": kept_variants.get(v["number"], {}).get("applies_when", {}),
            "ratings": {k: val for k, val in {
                "verified": bool(procedures),
                "complete": bool(procedures) and v["procedures_complete"],
                "note": note,
            }.items() if val is not None},
            "procedures": procedures,
            "unrated_procedures": unrated,
            "notes": _notes(v),
            "summary_claims": _claims(v),
        })
    out = {
        "publisher": "ACR",
        "topic_id": tid,
        "title": topic["title"],
        "status": status,
        "revision": str(topic.get("revision_year") or "current"),
        "revision_year": topic.get("revision_year"),
        "superseded_by": superseded_by,
        "publication": topic.get("publication_v2") or topic.get("publication"),
        "source_urls": topic.get("source_urls", []),
        "applies_when": existing.get("applies_when", {}),
        "notes": extra + _notes(topic),
        "summary_claims": _claims(topic),
        "variants": variants,
    }
    return {k: v for k, v in out.items() if v is not None}


KIND = {
    "ga": "rating appendix (acsearch GetAppendix page)",
    "gt": "topic narrative with rating tables (gravitas TopicNarrative page)",
    "gp": "narrative preview document with rating tables (gravitas)",
    "sc": "copy of the ACR narrative document (scribd)",
    "dl": "copy of the ACR narrative document (docslib)",
    "ngc": "National Guideline Clearinghouse summary (archived copy)",
}


def build_sources(data: dict[str, Any]) -> list[dict[str, Any]]:
    titles = {t["topic_id"]: t["title"] for t in data["topics"]}
    out = []
    for key, where in data["meta"]["source_keys"].items():
        url = where.split(" ")[0] if where.startswith("http") else None
        if key == "scrape2020":
            out.append({"id": key, "publisher": "American College of Radiology",
                        "title": "ACR Appropriateness Criteria, Breast panel: categories and "
                                 "radiation levels as shown on acsearch.acr.org in August 2020",
                        "year": 2020,
                        "url": "https://www.acr.org/Clinical-Resources/Clinical-Tools-and-Reference/Appropriateness-Criteria",
                        "note": "third-party copy: " + where})
            continue
        m = re.match(r"([a-z]+)(\d+)b?$", key)
        if not m:
            raise SystemExit(f"unrecognised source key {key!r}")
        kind, tid = m.group(1), int(m.group(2))
        title = f"ACR Appropriateness Criteria: {titles.get(tid, f'topic {tid}')}"
        out.append({"id": key, "publisher": "American College of Radiology",
                    "title": f"{title} — {KIND[kind]}", "url": url,
                    **({"note": where[len(url):].strip(" ()")} if url and where != url else {})})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    args = parser.parse_args()
    data = json.loads(args.reference.read_text(encoding="utf-8"))
    rrl_index = _rrl_index(data)
    OUT.mkdir(parents=True, exist_ok=True)
    sources_path = OUT.parent / "sources-acr.yaml"
    sources_path.write_text(
        "# Where each ACR rating row came from. Generated by tools/build_acr_kb.py.\n"
        + yaml.safe_dump({"sources": build_sources(data)}, sort_keys=False, allow_unicode=True,
                         width=100), encoding="utf-8")
    for topic in data["topics"]:
        path = OUT / f"topic-{topic['topic_id']}.yaml"
        existing = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
        doc = build_topic(topic, rrl_index, existing or {})
        header = (f"# ACR Appropriateness Criteria topic {topic['topic_id']}: {topic['title']}\n"
                  "# Generated by tools/build_acr_kb.py from shared/reference/acr_breast.json;\n"
                  "# applies_when blocks are written by hand and kept on re-generation.\n")
        path.write_text(header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True,
                                                width=100), encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}: {len(doc['variants'])} variants")


if __name__ == "__main__":
    main()
