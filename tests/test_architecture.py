"""The shape of the house, kept by tests (docs/architecture.md, "Domains and allowed arrows"): the
import graph of profreg/ has no cycles, layers import only downwards, no domain reaches into another
domain's private names, and the few imports left inside functions say why."""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "profreg"

#: The foundation every layer may import (no domain logic).
CORE = {"extensions", "clock", "dates", "errors", "i18n", "identity", "signals", "uow", "domains", "cli_options",
        "exports", "memo"}
#: Module kinds inside a domain, from the bottom up: models < services < the outer parts.
OUTER = {"admin", "views", "cli", "jobs", "web", "forms"}
#: Function-level imports left in profreg/ (the issue: at least 80 % fewer than the 197 found).
MAX_FUNCTION_IMPORTS = 39


def _modules() -> dict[str, Path]:
    out = {}
    for p in ROOT.rglob("*.py"):
        parts = list(p.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


MODULES = _modules()


def _imports(name: str, path: Path):
    """(target module, imported name, node, inside a function?) for each import of profreg code."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_function = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            in_function.update(id(sub) for sub in ast.walk(node) if isinstance(sub, (ast.Import, ast.ImportFrom)))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("profreg"):
                    yield alias.name, None, node, id(node) in in_function
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if not module.startswith("profreg"):
                continue
            for alias in node.names:
                full = f"{module}.{alias.name}"
                yield (full if full in MODULES else module), alias.name, node, id(node) in in_function


GRAPH = defaultdict(set)
ALL_EDGES = []
for _name, _path in MODULES.items():
    for _target, _imported, _node, _inside in _imports(_name, _path):
        if _target in MODULES and _target != _name:
            ALL_EDGES.append((_name, _target, _imported, _node, _inside))
            if not _inside:
                GRAPH[_name].add(_target)


def _cycles(graph) -> list[list[str]]:
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in MODULES:
        if v not in index:
            visit(v)
    return out


def _domain(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _kind(module: str) -> str:
    return module.split(".")[-1]


def test_the_import_graph_has_no_cycles():
    assert _cycles(GRAPH) == []
    every = defaultdict(set)  # function-level imports included: no cycle hidden inside a function
    for a, b, *_ in ALL_EDGES:
        every[a].add(b)
    assert _cycles(every) == []


def test_no_module_imports_another_domains_private_names():
    bad = [f"{a} imports {b}.{n}" for a, b, n, _node, _inside in ALL_EDGES
           if n and n.startswith("_") and not n.startswith("__") and _domain(a) != _domain(b)]
    assert bad == []


def test_models_import_only_the_core_and_other_models():
    bad = [f"{a} → {b}" for a, b, *_ in ALL_EDGES
           if _kind(a) == "models" and _kind(b) != "models" and _domain(b) not in CORE | {"access"}]
    assert bad == []


@pytest.mark.parametrize("kind", ["services", "access", "search"])
def test_no_service_imports_an_admin_view_cli_or_job_module(kind):
    bad = [f"{a} → {b}" for a, b, *_ in ALL_EDGES
           if _kind(a) == kind and (_kind(b) in OUTER or _domain(b) == "admin")]
    assert bad == []


def test_function_level_imports_are_few_and_each_says_why():
    inside = [(a, node) for a, _b, _n, node, flag in ALL_EDGES if flag]
    nodes = {(a, node.lineno): node for a, node in inside}
    assert len(nodes) <= MAX_FUNCTION_IMPORTS, f"{len(nodes)} imports inside functions"
    silent = []
    for (module, line), node in nodes.items():
        lines = MODULES[module].read_text(encoding="utf-8").splitlines()
        k = line - 2
        while k >= 0 and lines[k].strip().startswith(("from ", "import ")) and "#" not in lines[k]:
            k -= 1  # a block of imports under one comment
        own = "#" in "".join(lines[line - 1:node.end_lineno])
        above = k >= 0 and lines[k].strip().startswith("#") or (
            k >= 0 and "#" in lines[k] and lines[k].strip().startswith(("from ", "import ")))
        if not (own or above):
            silent.append(f"{MODULES[module].relative_to(ROOT.parent)}:{line}")
    assert silent == [], "imports inside functions without a comment saying why"
