"""The house rules that import-linter cannot say: no import cycle anywhere in `app`.

Imports under `TYPE_CHECKING` and inside functions count: each is a dependency
a reader has to follow, and a cycle through one is still a knot.
"""

from __future__ import annotations

import grimp


def _cycles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    modules = sorted(graph.find_descendants(package) | {package})
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.a")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    assert _cycles(graph, "pkg") == [["pkg.a", "pkg.b"]]


def test_no_import_cycle_in_app() -> None:
    graph = grimp.build_graph("app", exclude_type_checking_imports=False)
    assert _cycles(graph, "app") == []


def test_the_platform_imports_no_domain() -> None:
    graph = grimp.build_graph("app")
    platform = graph.find_descendants("app.platform") | {"app.platform"}
    outside = {
        imported
        for module in platform
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.startswith("app.") and imported not in platform
    }
    assert outside == set()


def test_a_domain_uses_another_only_through_its_service() -> None:
    """Domains are the packages under `app` with a `module.py`; identity is what they all stand on."""
    graph = grimp.build_graph("app")
    domains = sorted(
        child.rpartition(".")[2]
        for child in graph.find_children("app")
        if f"{child}.module" in graph.modules and child != "app.identity"
    )
    assert "society" in domains
    crossings = [
        (importer, imported)
        for domain in domains
        for importer in graph.find_descendants(f"app.{domain}")
        for imported in graph.find_modules_directly_imported_by(importer)
        if imported.startswith("app.")
        and imported.split(".")[1] in domains
        and imported.split(".")[1] != domain
        and not imported.endswith(".service")
        # Demo data builds on the demo data of the domain it stands on (the shops' menus go in the demo mall).
        and not (importer.endswith(".demo") and imported.endswith(".demo"))
    ]
    assert crossings == []
