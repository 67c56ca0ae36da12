"""No import cycles among newsmon's modules, and each module imports on its own in a fresh interpreter.

The graph holds every import statement of ``crawler/``, ``spiders/`` and ``pipelines/``, those inside functions
too: an import put off into a function to get round a cycle still closes it (the module works only if the
other one happened to be imported first). A shared piece belongs in the lower module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("crawler", "spiders", "pipelines")


def module_files() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def import_graph(files: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the project modules it imports (``from a.b import c`` names ``a.b.c`` when that is a module)."""

    def known(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for module, path in files.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                deps |= {known(alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, *([node.module] if node.module else [])])
                deps |= {
                    known(f"{base}.{alias.name}") if f"{base}.{alias.name}" in files else known(base)
                    for alias in node.names
                }
        graph[module] = {d for d in deps if d and d != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each a cycle or several."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_sees_imports_inside_functions_and_relative_ones():
    graph = import_graph(module_files())
    assert "crawler.config" in graph["crawler.watch.settings"]
    assert "crawler.config" in graph["crawler.tables"]  # inside config_table
    assert "crawler.extract.parsers" in graph["crawler.config"]  # inside _check_parser
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    assert cycles(import_graph(module_files())) == []


# Imports the third-party libraries first (as every module would), then forks once per module: each child
# imports that one module with none of newsmon's already loaded, as a fresh interpreter would.
FRESH = r"""
import importlib, os, sys
modules, third_party = sys.argv[1].split(), sys.argv[2].split()
for name in third_party:
    try:
        importlib.import_module(name)
    except Exception:
        pass
failed = []
for module in modules:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(module)
        except BaseException as exc:
            print(f"{module}: {type(exc).__name__}: {exc}", flush=True)
            os._exit(1)
        os._exit(0)
    if os.waitpid(pid, 0)[1] != 0:
        failed.append(module)
sys.exit(1 if failed else 0)
"""


def test_each_module_imports_alone_in_a_fresh_interpreter():
    files = module_files()
    modules = [m for m in files if not m.endswith("__main__")]  # __main__ runs the CLI
    third_party = set()
    for path in files.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module]
                if isinstance(node, ast.ImportFrom) and node.module and not node.level
                else []
            )
            third_party |= {n for n in names if n.split(".")[0] not in PACKAGES}
    proc = subprocess.run(
        [sys.executable, "-c", FRESH, " ".join(modules), " ".join(sorted(third_party))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
