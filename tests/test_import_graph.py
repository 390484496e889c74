"""The package's modules import each other without a cycle, deferred imports included.

import-linter's contracts (pyproject.toml) keep the layers; this test catches any cycle at all,
including one closed by an import inside a function or under TYPE_CHECKING.
"""

from __future__ import annotations

import grimp


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _package_graph(graph: grimp.ImportGraph) -> grimp.ImportGraph:
    """The graph of talkative's top-level packages: one edge where any module of one imports the other."""
    packages = sorted({".".join(m.split(".")[:2]) for m in graph.modules if m.count(".") >= 1})
    folded = grimp.ImportGraph()
    for name in packages:
        folded.add_module(name)
    for importer in packages:
        for imported in packages:
            if importer != imported and graph.direct_import_exists(
                importer=importer, imported=imported, as_packages=True
            ):
                folded.add_import(importer=importer, imported=imported)
    return folded


def test_the_finder_sees_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.c")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    assert _cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_no_module_of_talkative_is_part_of_an_import_cycle() -> None:
    graph = grimp.build_graph("talkative", cache_dir=None)
    assert _cycles(graph) == []


# The one pair of domains that import each other: agent creation and deletion span prompts
# (agents/flows.py), and the prompt routes and lock are per agent. Any other pair is a regression.
KNOWN_PACKAGE_CYCLES = [["talkative.agents", "talkative.prompts"]]


def test_no_new_cycle_between_talkative_packages() -> None:
    graph = grimp.build_graph("talkative", cache_dir=None)
    assert _cycles(_package_graph(graph)) == KNOWN_PACKAGE_CYCLES
