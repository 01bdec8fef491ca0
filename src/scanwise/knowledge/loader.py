"""Read and validate the knowledge base: the bundled YAML files and any licensed content packs.

Every file is validated against the models in :mod:`scanwise.domain.kb`; a file that breaks
the schema fails loading with a message naming the file, the entry and the field, and every
reference between files (sources, vocabulary codes, topics, variants, procedures) is checked.

A content pack is a folder an institution supplies with its own licensed tables::

    pack.yaml            name, version, publisher, license
    sources.yaml         optional: sources its tables cite (same schema as the bundled ones)
    acr/topic-<id>.yaml  topics in the bundled schema; each adds a topic or replaces a bundled one

Packs come from ``$SCANWISE_KB_PACKS`` (folders separated by ``:``) and from :func:`use_packs`
(the ``--kb-pack`` option). A pack's topics say which pack supplied them (``Topic.pack``) and
which bundled revision they replace, and the pack's name and version end ``kb_version``, so no
pack shadows a bundled table silently. Two packs supplying the same topic is an error.

The patient fact base (``facts/``) and the article library (``articles/``) are read here too
(:func:`load_facts`, :func:`load_library`), into the domain's models, and so are the AJCC
stage tables (``staging/``, :func:`load_stage_tables`, into ``KnowledgeBase.stage_tables``;
a broken table is a ``TableError`` naming its file).

Clinical review records (``reviews/``) are read by :mod:`scanwise.knowledge.reviews`, not here, and are
not part of ``kb_version``: a sign-off records the version it reviewed and must not change it.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ValidationError

from scanwise.domain.answer_data import AllowedHost, AnswerData, GlossaryEntry, Topics
from scanwise.domain.kb import (
    DERIVED_FACTS,
    FieldWords,
    KnowledgeBase,
    KnowledgeBaseError,
    OrderCode,
    PackInfo,
    RedFlag,
    Source,
    Statement,
    Term,
    Topic,
)
from scanwise.domain.staging.tables import TABLE_FILES, StageTables, TableError, build_tables
from scanwise.knowledge.files import DATA_DIR, configured_packs, hash_file, versioned_files

# Re-exported: which knowledge, and its version, without loading it (see knowledge.files).
from scanwise.knowledge.files import NOT_VERSIONED as NOT_VERSIONED
from scanwise.knowledge.files import PACKS_ENV as PACKS_ENV
from scanwise.knowledge.files import bundled_version as bundled_version
from scanwise.knowledge.files import env_packs as env_packs
from scanwise.knowledge.files import use_packs as use_packs

if TYPE_CHECKING:
    from scanwise.domain.articles.library import ArticleFile, Library
    from scanwise.domain.facts import Fact


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


def load_yaml(path: Path, shown: str | None = None) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeBaseError(f"{shown or path.name}: cannot be read as YAML: {exc}") from exc


def validate_entry(model: type[BaseModel], data: Any, path: Path, entry: str, *,
                   shown: str | None = None) -> Any:
    """``model`` from ``data``, or KnowledgeBaseError naming the file (``shown``, else the
    file's name), the entry and the first field at fault."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _format_loc(first["loc"], data)
        field = f", field {where}" if where else ""
        raise KnowledgeBaseError(
            f"{shown or path.name}: entry {entry}{field}: {first['msg']}"
            + (f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else "")
        ) from exc


def _get(data: Any, key: str) -> Any:
    return data.get(key, "?") if isinstance(data, dict) else "?"


def top_level_list(data: Any, path: Path, key: str, *, shown: str | None = None) -> list[Any]:
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise KnowledgeBaseError(f"{shown or path.name}: expected a top-level list named {key!r}")
    return items


class _Parts:
    """What the files hold, gathered before the knowledge base is built."""

    def __init__(self) -> None:
        self.topics: list[Topic] = []
        self.sources: dict[str, Source] = {}
        self.red_flags: list[RedFlag] = []
        self.vocabulary: list[Term] = []
        self.order_codes: list[OrderCode] = []
        self.statements: list[Statement] = []
        self.fields: list[FieldWords] = []
        self.answers: dict[str, tuple[Any, Path]] = {}  # the answers' files, as read
        self.raw: list[tuple[str, Any]] = []  # every file as read, for the link check

    def add_sources(self, data: Any, path: Path, shown: str) -> None:
        for i, item in enumerate(top_level_list(data, path, "sources", shown=shown)):
            src = validate_entry(Source, item, path, f"sources[{i}] ({_get(item, 'id')})", shown=shown)
            if src.id in self.sources:
                raise KnowledgeBaseError(f"{shown}: duplicate source id {src.id!r}")
            self.sources[src.id] = src


def _topic(data: Any, path: Path, shown: str) -> Topic:
    entry = f"topic {_get(data, 'topic_id')}"
    for key in ("pack", "replaces"):
        if isinstance(data, dict) and key in data:
            raise KnowledgeBaseError(f"{shown}: entry {entry}, field {key}: set by the loader, "
                                     "not by a data file")
    topic: Topic = validate_entry(Topic, data, path, entry, shown=shown)
    return topic


#: The AJCC stage tables' folder under the data directory (``KnowledgeBase.stage_tables``).
STAGING_DIR = "staging/"


def load_stage_tables(folder: Path = DATA_DIR / STAGING_DIR) -> StageTables:
    """The AJCC stage tables under ``folder`` (the files named in ``TABLE_FILES``), validated
    and indexed; ``version`` is the short content hash of the three files. A file that cannot
    be read or does not match the schema is a TableError naming it."""
    digest = hashlib.sha256()
    raw: dict[str, dict[str, object]] = {}
    for name, filename in TABLE_FILES.items():
        data = (folder / filename).read_bytes()
        digest.update(data)
        try:
            parsed = yaml.safe_load(data)
        except yaml.YAMLError as exc:
            raise TableError(f"{filename}: not valid YAML: {exc}") from exc
        if not isinstance(parsed, dict):
            raise TableError(f"{filename}: expected a mapping at the top level")
        raw[name] = parsed
    return build_tables(raw, digest.hexdigest()[:12])


def _read_bundled(data_dir: Path, parts: _Parts, digest: Any) -> None:
    for rel, path in versioned_files(data_dir):
        hash_file(digest, rel, path)
        if rel.startswith(STAGING_DIR):
            # the AJCC stage tables: read by load_stage_tables, with their own errors
            parts.raw.append((rel, yaml.safe_load(path.read_bytes())))
            continue
        data = load_yaml(path)
        parts.raw.append((rel, data))
        if rel.startswith("acr/"):
            parts.topics.append(_topic(data, path, path.name))
        elif rel.startswith("sources") and "/" not in rel:
            parts.add_sources(data, path, path.name)
        elif rel == "red_flags.yaml":
            for i, item in enumerate(top_level_list(data, path, "red_flags")):
                parts.red_flags.append(
                    validate_entry(RedFlag, item, path, f"red_flags[{i}] ({_get(item, 'id')})"))
        elif rel == "vocabulary.yaml":
            for i, item in enumerate(top_level_list(data, path, "terms")):
                entry = f"terms[{i}] ({_get(item, 'code')})"
                parts.vocabulary.append(validate_entry(Term, item, path, entry))
        elif rel.startswith("orders/"):
            for i, item in enumerate(top_level_list(data, path, "codes")):
                entry = f"codes[{i}] ({_get(item, 'code')})"
                parts.order_codes.append(validate_entry(OrderCode, item, path, entry))
        elif rel.startswith("statements/"):
            for i, item in enumerate(top_level_list(data, path, "statements")):
                entry = f"statements[{i}] ({_get(item, 'id')})"
                parts.statements.append(validate_entry(Statement, item, path, entry))
        elif rel in _ANSWER_FILES:
            parts.answers[_ANSWER_FILES[rel]] = data, path
        elif rel == "fields.yaml":
            for i, item in enumerate(top_level_list(data, path, "fields")):
                entry = f"fields[{i}] ({_get(item, 'field')})"
                parts.fields.append(validate_entry(FieldWords, item, path, entry))
        # Other files (patient facts, article fragments) are read by load_facts and load_library.


#: The patient answers' own files, read into ``KnowledgeBase.answers``.
_ANSWER_FILES = {"answers/topics.yaml": "topics", "facts/words/glossary.yaml": "glossary",
                 "answers/source-hosts.yaml": "hosts"}


def _answer_data(files: dict[str, tuple[Any, Path]]) -> AnswerData:
    """The answers' topics, glossary and allowed hosts, each checked as its file is named."""
    out: dict[str, Any] = {}
    if "topics" in files:
        data, path = files["topics"]
        if not isinstance(data, dict):
            raise KnowledgeBaseError(f"{path.name}: expected a mapping with can_answer and topics")
        topics: Topics = validate_entry(Topics, data, path, "topics")
        ids = [t.id for t in topics.topics]
        if len(set(ids)) != len(ids):
            raise KnowledgeBaseError(f"{path.name}: duplicate topic id")
        for t in topics.topics:
            if (t.intent == "out_of_scope") != (t.scope_note is not None):
                raise KnowledgeBaseError(
                    f"{path.name}: topic {t.id}: a scope_note goes with out_of_scope, only")
            if t.intent != "out_of_scope" and not (t.short or t.plain):
                raise KnowledgeBaseError(f"{path.name}: topic {t.id} has no short answer")
        out["topics"] = topics
    if "glossary" in files:
        data, path = files["glossary"]
        terms = []
        for i, item in enumerate(top_level_list(data, path, "terms")):
            words = item.get("words") if isinstance(item, dict) else None
            if not isinstance(words, list) or not words or not item.get("fact"):
                raise KnowledgeBaseError(f"{path.name}: terms[{i}] needs a fact and a list of words")
            terms.append(validate_entry(GlossaryEntry, item, path, f"terms[{i}]"))
        out["glossary"] = terms
    if "hosts" in files:
        data, path = files["hosts"]
        hosts = [validate_entry(AllowedHost, item, path, f"hosts[{i}]")
                 for i, item in enumerate(top_level_list(data, path, "hosts"))]
        if len({h.domain for h in hosts}) != len(hosts):
            raise KnowledgeBaseError(f"{path.name}: a domain is listed twice")
        out["hosts"] = hosts
    return AnswerData(**out)


def _read_pack(folder: Path, parts: _Parts, digest: Any,
               supplied: dict[tuple[int, str], str]) -> PackInfo:
    """One content pack's topics into ``parts``: new ones added, bundled ones replaced."""
    if not folder.is_dir():
        raise KnowledgeBaseError(f"content pack {folder}: not a folder")
    meta_path = folder / "pack.yaml"
    if not meta_path.is_file():
        raise KnowledgeBaseError(f"content pack {folder}: no pack.yaml (name, version, publisher, "
                                 "license)")
    info: PackInfo = validate_entry(PackInfo, load_yaml(meta_path, f"{folder.name}/pack.yaml"),
                                    meta_path, "pack", shown=f"{folder.name}/pack.yaml")
    bundled = {(t.topic_id, t.status): t for t in parts.topics}
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml"))
    digest.update(b"pack\0" + info.model_dump_json().encode() + b"\0")
    topics = 0
    for path in files:
        rel = path.relative_to(folder).as_posix()
        shown = f"pack {info.name}: {rel}"
        digest.update(f"pack:{info.name}/{rel}".encode() + b"\0" + path.read_bytes() + b"\0")
        if rel == "pack.yaml":
            continue
        data = load_yaml(path, shown)
        parts.raw.append((shown, data))
        if rel in ("sources.yaml", "sources.yml"):
            parts.add_sources(data, path, shown)
        elif rel.startswith("acr/") and path.name.startswith("topic-"):
            topic = _topic(data, path, shown)
            key = (topic.topic_id, topic.status)
            if key in supplied:
                raise KnowledgeBaseError(
                    f"{shown}: entry topic {topic.topic_id}: also supplied by pack {supplied[key]}; "
                    "load one of them")
            supplied[key] = info.label
            old = bundled.get(key)
            topic = topic.model_copy(update={
                "pack": info.label, "replaces": f"bundled revision {old.revision}" if old else None})
            parts.topics = [t for t in parts.topics if (t.topic_id, t.status) != key] + [topic]
            topics += 1
        else:
            raise KnowledgeBaseError(f"{shown}: a pack holds pack.yaml, sources.yaml and "
                                     "acr/topic-<id>.yaml only")
    if not topics:
        raise KnowledgeBaseError(f"pack {info.name}: no acr/topic-<id>.yaml files in {folder}")
    return info


def load(data_dir: Path = DATA_DIR, packs: Sequence[Path] = ()) -> KnowledgeBase:
    """Read and validate every data file, then each content pack in order; raise
    KnowledgeBaseError naming file, entry and field."""
    digest = hashlib.sha256()
    parts = _Parts()
    _read_bundled(data_dir, parts, digest)
    supplied: dict[tuple[int, str], str] = {}
    infos = [_read_pack(Path(folder), parts, digest, supplied) for folder in packs]
    names = [i.name for i in infos]
    if len(names) != len(set(names)):
        raise KnowledgeBaseError(f"content packs: the same pack name is loaded twice ({names})")
    version = digest.hexdigest()[:12] + "".join(f"+{i.name}@{i.version}" for i in infos)
    kb = KnowledgeBase(
        version=version,
        topics=sorted(parts.topics, key=lambda t: (t.status != "current", t.topic_id, t.revision)),
        sources=parts.sources,
        red_flags=parts.red_flags,
        vocabulary=parts.vocabulary,
        order_codes=parts.order_codes,
        statements=sorted(parts.statements, key=lambda s: s.id),
        packs=infos,
        fields=parts.fields,
        answers=_answer_data(parts.answers),
        stage_tables=load_stage_tables(data_dir / STAGING_DIR),
    )
    _check_references(kb)
    _check_links(parts.raw, kb.answers.hosts)
    return kb


# --- links: authoritative publishers only ---------------------------------------------------

_URL = re.compile(r"https?://[^\s\"'<>()\[\]]+")

#: Fields that record where something was read and are never shown (not by render/, web/,
#: templates/, cds/, nor in any model a surface returns): a topic's ``publication`` and
#: ``notes``, and the page a topic's or variant's ``summary_claims`` were read on. Checked by
#: tests/test_knowledge_links.py. Every other string in every knowledge file may reach a user.
_PROVENANCE_ONLY = (("publication",), ("notes", "*"), ("summary_claims", "*", "source"),
                    ("variants", "*", "summary_claims", "*", "source"))


def _provenance_only(path: tuple[str | int, ...]) -> bool:
    return any(len(path) == len(p)
               and all(want in ("*", got) for want, got in zip(p, path, strict=True))
               for p in _PROVENANCE_ONLY)


def _entry(data: Any, path: tuple[str | int, ...]) -> str:
    """'sources[3] (nccn-2015-discussion).url' for an error message."""
    out, node = "", data
    for step in path:
        if isinstance(step, int):
            node = node[step] if isinstance(node, list) else None
            name = next((node[k] for k in ("id", "code", "name", "topic_id")
                         if isinstance(node, dict) and k in node), None)
            out += f"[{step}]" + (f" ({name})" if name is not None else "")
        else:
            out += ("." if out else "") + step
            node = node.get(step) if isinstance(node, dict) else None
    return out


def _strings(node: Any, path: tuple[str | int, ...] = ()) -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, (*path, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, (*path, i))
    elif isinstance(node, str):
        yield path, node


def _check_links(files: list[tuple[str, Any]], hosts: Sequence[AllowedHost]) -> None:
    """Every URL in every knowledge file (a source's url or note, a topic's source_urls, a stage
    table's sources, a code system, any text) must be on a host of answers/source-hosts.yaml:
    the project cites guideline bodies, government agencies, professional societies, journals
    and major cancer centres, never mirrors, copies, aggregators, news or vendors."""
    from scanwise.domain.answers.sources import allowed_host, host_of

    if not hosts:
        return  # a knowledge base without the hosts file (a test's own folder) has no list
    for shown, data in files:
        for path, text in _strings(data):
            if _provenance_only(path):
                continue
            for url in _URL.findall(text):
                if allowed_host(url, hosts) is None:
                    raise KnowledgeBaseError(
                        f"{shown}: entry {_entry(data, path)}: links to {host_of(url) or url!r}, "
                        f"which is not an authoritative publisher in answers/source-hosts.yaml "
                        f"({url}); link the publisher's own page (a DOI, PubMed, the guideline "
                        "body's page) or drop the link and say where it was read in a note")


def _check_fields(kb: KnowledgeBase) -> None:
    """fields.yaml names facts of the profile or indication (or derived ones), each once."""
    from scanwise.domain.profile import Indication, PatientProfile

    known = set(PatientProfile.model_fields) | set(Indication.model_fields) | DERIVED_FACTS
    named: set[str] = set()
    for words in kb.fields:
        if words.field not in known:
            raise KnowledgeBaseError(f"fields.yaml: {words.field!r} is not a fact of the profile or "
                                     "indication")
        if words.field in named:
            raise KnowledgeBaseError(f"fields.yaml: {words.field!r} is listed twice")
        named.add(words.field)


def _check_references(kb: KnowledgeBase) -> None:
    """Every source key, vocabulary code, topic, variant and procedure used anywhere must exist."""
    _check_fields(kb)
    codes = set(kb.terms)
    for topic in kb.topics:
        where = f"acr topic {topic.topic_id} ({topic.revision})" + (
            f" from pack {topic.pack}" if topic.pack else "")
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
    for term in kb.vocabulary:
        if term.felt_as is not None and (term.kind != "finding" or kb.terms.get(term.felt_as) is None
                                         or kb.terms[term.felt_as].kind != "symptom"):
            raise KnowledgeBaseError(f"vocabulary {term.code}: felt_as {term.felt_as!r} must name a symptom "
                                     "and be given on a finding")
    named = {p.name for t in kb.topics for v in t.variants for p in v.procedures}
    rated_names = set(named)
    named |= {n for t in kb.topics for v in t.variants for n in v.unrated_procedures}
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
    current = {t.topic_id: t for t in kb.topics if t.status == "current"}
    for flag in kb.red_flags:
        for code in flag.triggers:
            if code not in codes:
                raise KnowledgeBaseError(f"red_flags.yaml: {flag.id}: unknown trigger {code!r}")
        for src in flag.sources:
            if src not in kb.sources:
                raise KnowledgeBaseError(f"red_flags.yaml: {flag.id}: unknown source {src!r}")
        for topic_id, number in flag.points_to:
            if topic_id not in current:
                raise KnowledgeBaseError(f"red_flags.yaml: {flag.id}: no topic {topic_id}")
            kb.topic(topic_id).variant(number)
    lay: dict[str, str] = {}
    for term in kb.vocabulary:
        if term.lay and term.kind != "procedure":
            raise KnowledgeBaseError(f"vocabulary.yaml: {term.code}: lay names are for studies only")
        for words in term.lay:
            if words in lay:
                raise KnowledgeBaseError(f"vocabulary.yaml: lay name {words!r} is given for both "
                                         f"{lay[words]} and {term.code}")
            lay[words] = term.code
    _check_statements(kb, current, named)


def _check_statements(kb: KnowledgeBase, current: dict[int, Topic], named: set[str]) -> None:
    studies = {t.code for t in kb.vocabulary if t.kind == "procedure"}
    seen: set[str] = set()
    for s in kb.statements:
        where = f"statements: {s.id}"
        if s.id in seen:
            raise KnowledgeBaseError(f"{where}: listed twice")
        seen.add(s.id)
        if s.source not in kb.sources:
            raise KnowledgeBaseError(f"{where}, field source: unknown source {s.source!r}")
        for proc in s.procedures:
            if proc not in studies and proc not in named:
                raise KnowledgeBaseError(
                    f"{where}, field procedures: {proc!r} is neither a vocabulary study code nor a "
                    "procedure in any ACR table")
        for target in s.applies_to:
            topic = current.get(target.topic)
            if topic is None:
                raise KnowledgeBaseError(f"{where}, field applies_to: no current ACR topic "
                                         f"{target.topic}")
            numbers = {v.number for v in topic.variants}
            for number in target.variants:
                if number not in numbers:
                    raise KnowledgeBaseError(f"{where}, field applies_to: ACR topic {target.topic} "
                                             f"has no variant {number}")


# --- the process's knowledge base ----------------------------------------------------------

_cache: dict[tuple[Path, tuple[Path, ...]], KnowledgeBase] = {}
_lock = threading.Lock()


def default_kb() -> KnowledgeBase:
    """The bundled knowledge base with the configured packs, loaded once per process."""
    key = (DATA_DIR, configured_packs())
    with _lock:
        if key not in _cache:
            _cache[key] = load(DATA_DIR, key[1])
        return _cache[key]


# --- the patient fact base and the article library ------------------------------------------
# Read here, beside the data; the domain gets them loaded (the core holds them) and keeps only
# their models and the checks between them.

FACTS_DIR = DATA_DIR / "facts"
ARTICLES_DIR = DATA_DIR / "articles"


def load_facts(kb: KnowledgeBase, facts_dir: Path = FACTS_DIR) -> dict[str, Fact]:
    """Read and validate every fact file (``facts/*.yaml``, each a top-level list named
    ``facts``); every source id must exist in the knowledge base."""
    from scanwise.domain.facts import Fact

    facts: dict[str, Fact] = {}
    for path in sorted(facts_dir.glob("*.yaml")):
        for i, item in enumerate(top_level_list(load_yaml(path), path, "facts")):
            fact = validate_entry(Fact, item, path, f"facts[{i}] ({item.get('id', '?')})")
            if fact.id in facts:
                raise KnowledgeBaseError(f"{path.name}: duplicate fact id {fact.id!r}")
            for src in fact.sources:
                if src not in kb.sources:
                    raise KnowledgeBaseError(f"{path.name}: fact {fact.id}: unknown source {src!r}")
            facts[fact.id] = fact
    return facts


def _article_file(path: Path) -> ArticleFile:
    from scanwise.domain.articles.library import ArticleFile, Fragment, Situation

    data = load_yaml(path)
    if not isinstance(data, dict) or not set(data) <= {"situations", "fragments"}:
        raise KnowledgeBaseError(
            f"{path.name}: expected top-level lists named 'situations' and/or 'fragments'")
    out: dict[str, list[BaseModel]] = {}
    for key, model in (("situations", Situation), ("fragments", Fragment)):
        items = data.get(key) or []
        if not isinstance(items, list):
            raise KnowledgeBaseError(f"{path.name}: {key!r} must be a list")
        out[key] = [validate_entry(model, item, path,
                                   f"{key}[{i}] ({item.get('id', '?') if isinstance(item, dict) else '?'})")
                    for i, item in enumerate(items)]
    return ArticleFile.model_validate(out)


def load_library(kb: KnowledgeBase, facts: dict[str, Fact],
                 articles_dir: Path = ARTICLES_DIR) -> Library:
    """Read and validate every article file (``articles/*.yaml``) against the knowledge base
    and the fact base; raise KnowledgeBaseError naming what is wrong."""
    from scanwise.domain.articles.library import build_library

    files = [(path, _article_file(path)) for path in sorted(articles_dir.glob("*.yaml"))]
    return build_library(kb, facts, files)
