"""The package's shape, checked: every module imports, no import cycles, and the layers of
ARCHITECTURE.md hold (the domain knows no surface; surfaces go through the core).

The import graph is read with ``ast`` from the source, lazy imports inside functions
included (they are still a dependency) and imports under ``if TYPE_CHECKING:`` left out
(they never run).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import scanwise

ROOT = Path(scanwise.__file__).parent


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(name: str, path: Path) -> set[str]:
    """The scanwise modules ``name`` imports (at any depth of its code)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def target(module: str) -> str | None:
        while module and module not in MODULES:
            module = module.rpartition(".")[0]
        return module or None

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                found.update(t for a in child.names if (t := target(a.name)))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in child.names:
                    t = target(f"{base}.{alias.name}") if f"{base}.{alias.name}" in MODULES else target(base)
                    if t:
                        found.add(t)
            visit(child)

    visit(tree)
    found.discard(name)
    return {m for m in found if m.startswith("scanwise")}


GRAPH: dict[str, set[str]] = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 1 and parts[1].startswith("cli_"):
        return "cli"  # a command module another package plugs in (scanwise.cli_review, ...)
    return parts[1] if len(parts) > 1 else "scanwise"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_imports(name: str) -> None:
    importlib.import_module(name)


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle a depth-first walk meets, each as the path that closes it."""
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module)
    return cycles


def test_the_cycle_check_finds_a_cycle() -> None:
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_lazy_imports_and_skips_type_checking_ones() -> None:
    assert "scanwise.cli.common" in GRAPH["scanwise.cli.recommend"]  # imported at the top
    assert "scanwise.render.terminal" in GRAPH["scanwise.cli.recommend"]  # inside the command
    # the eval runner names the core and the Assessment only for its signatures
    assert not {"scanwise.core", "scanwise.domain.assess"} & GRAPH["scanwise.eval.runner"]


def test_no_import_cycles() -> None:
    cycles = find_cycles(GRAPH)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


# Which layer may import which (ARCHITECTURE.md, "Who may import whom"). A layer not named
# on the left may import anything below the surfaces.
ALLOWED: dict[str, set[str]] = {
    # Rules and models only: no file reading (the knowledge loader reads the data and the core
    # passes it in), no templating (the renderers), no reader, store or surface.
    "domain": {"domain"},
    "knowledge": {"domain", "knowledge"},
    # Readers of text and records: they produce the domain's models. The text reader's own
    # rules (reading.yaml) are read with the knowledge loader's helpers.
    "nlp": {"domain", "knowledge", "nlp"},
    "records": {"domain", "knowledge", "nlp", "records"},
    "storage": {"domain", "storage"},
    # Renderers turn the domain's (and the records') models into text, HTML or tables, through
    # the one template root (scanwise.templating) where they use templates.
    "render": {"domain", "records", "render", "templating"},
    # The one application core wires readers and engine together.
    # It loads the knowledge through the on-disk cache (scanwise.cache).
    "core": {"domain", "knowledge", "nlp", "records", "core", "cache", "warm_reader"},
    # The command line's background reader: the clinical reader behind a socket, no surface.
    "warm_reader": {"domain", "nlp", "cache", "warm_reader"},
    # Its background process: the core (reader and answer engine) behind the socket, no surface.
    "warm_server": {"core", "domain", "nlp", "cache", "warm_reader", "warm_server"},
    "eval": {"core", "domain", "eval"},
    # Surfaces: the core, renderers and the domain's models; never a reader or another surface.
    # The CLI also tells the knowledge loader which content packs to load (--kb-pack).
    "cli": {"cli", "core", "render", "domain", "eval", "records", "knowledge", "templating",
            "warm_reader"},
    "web": {"web", "core", "render", "domain", "records", "storage", "templating"},
    "cds": {"cds", "core", "render", "domain", "records", "storage", "knowledge"},
    # The order audit: a batch surface on the core (DuckDB or Spark at its edges).
    "audit": {"audit", "core", "render", "domain", "knowledge"},
}
#: Where one surface starts or hosts another: ``scanwise serve`` runs the web app (which serves
#: CDS Hooks too), ``scanwise cds`` drives the CDS Hooks service, ``scanwise audit`` the audit.
EXCEPTIONS = {("scanwise.cli.serve", "scanwise.web"), ("scanwise.cli.serve", "scanwise.web.settings"),
              ("scanwise.cli.serve", "scanwise.storage"),
              ("scanwise.cli.serve", "scanwise.cds"), ("scanwise.cli.serve", "scanwise.cds.auth"),
              ("scanwise.web.app", "scanwise.cds"), ("scanwise.cli_cds", "scanwise.cds.service"),
              ("scanwise.cli_cds", "scanwise.storage"), ("scanwise.cli_audit", "scanwise.audit"),
              ("scanwise.cli_audit", "scanwise.audit.engine"), ("scanwise.cli_audit", "scanwise.audit.spark"),
              ("scanwise.cli_audit", "scanwise.audit.synth")}
#: A surface may use the records' models (sizes, RecordReading), not their readers.
RECORD_MODELS = {"scanwise.records", "scanwise.records.model"}


def test_layers_import_only_what_they_may() -> None:
    wrong = []
    for module, targets in sorted(GRAPH.items()):
        layer = _layer(module)
        allowed = ALLOWED.get(layer)
        if allowed is None:
            continue
        for t in sorted(targets):
            other = _layer(t)
            if other == "scanwise" or (module, t) in EXCEPTIONS:
                continue
            if other not in allowed:
                wrong.append(f"{module} imports {t} ({layer} may not import {other})")
            elif layer in ("cli", "web", "cds") and other == "records" and t not in RECORD_MODELS:
                wrong.append(f"{module} imports the reader {t} (surfaces go through the core)")
    assert not wrong, "\n".join(wrong)


def test_the_domain_reads_no_surface_or_reader() -> None:
    """The rule that matters most, stated on its own: rules never depend on how they are used,
    nor on where their data is kept."""
    for module, targets in GRAPH.items():
        if _layer(module) == "domain":
            assert all(_layer(t) == "domain" for t in targets), (module, targets)


#: Where the answer rules may use a question's text: carried into the indication it completes,
#: searched by fact retrieval (BM25, when no fixed topic fits) and echoed in the answer.
QUESTION_TEXT_USES = {"Indication", "search", "Answer"}


def _question_text_uses(tree: ast.AST) -> set[str]:
    """How the text of a question (``q.text``, ``c.q.text``, ``question.text``) is used: the
    call it is passed to; "read" where it is anything else."""
    def is_question_text(node: ast.AST) -> bool:
        if not (isinstance(node, ast.Attribute) and node.attr == "text"):
            return False
        owner = node.value
        return ((isinstance(owner, ast.Name) and owner.id in ("q", "question"))
                or (isinstance(owner, ast.Attribute) and owner.attr == "q"))

    uses: set[str] = set()
    passed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "?")
            for arg in node.args:
                if is_question_text(arg):
                    uses.add(name)
                    passed.add(id(arg))
            for kw in node.keywords:
                if is_question_text(kw.value):
                    uses.add(name)
                    passed.add(id(kw.value))
    for node in ast.walk(tree):
        if is_question_text(node) and id(node) not in passed:
            uses.add("read")
    return uses


def test_the_question_text_check_sees_a_reading() -> None:
    assert _question_text_uses(ast.parse('x = "breast" in q.text.lower()')) == {"read"}
    assert _question_text_uses(ast.parse("re.search(r'dye', c.q.text)")) == {"search"}
    assert _question_text_uses(ast.parse("Indication(text=q.text)")) == {"Indication"}


def test_the_domain_keeps_no_question_reader() -> None:
    """One reader: the question is read in scanwise.nlp.question, and the domain's answer rules
    get it as a typed Question. They define no reader, match no test names fuzzily, and never
    read the question's words (what the question names is a slot the reader fills)."""
    readers = {"understand", "find_tests", "read_question"}
    for name, path in MODULES.items():
        if _layer(name) != "domain":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert not defined & readers, (name, defined & readers)
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)
                    for a in n.names} | {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert "difflib" not in imported, name
        if name.startswith("scanwise.domain.answers"):
            uses = _question_text_uses(tree)
            assert uses <= QUESTION_TEXT_USES, (name, uses - QUESTION_TEXT_USES)
