"""Print which top-level packages of `bot` import which, and the cycles between them.

Run: .venv/bin/python tools/import_graph.py
"""

from __future__ import annotations

import grimp


def main() -> None:
    graph = grimp.build_graph("bot")
    packages = sorted(m for m in graph.modules if m.count(".") == 1 or m == "bot")
    top = [p for p in packages if p != "bot"]

    def owner(module: str) -> str:
        parts = module.split(".")
        return ".".join(parts[:2]) if len(parts) > 1 else module

    edges: dict[str, set[str]] = {p: set() for p in top}
    for importer in graph.modules:
        if importer == "bot":
            continue
        for imported in graph.find_modules_directly_imported_by(importer):
            if not imported.startswith("bot"):
                continue
            a, b = owner(importer), owner(imported)
            if a != b:
                edges.setdefault(a, set()).add(b)
    for package in top:
        if edges.get(package):
            print(f"{package} -> {', '.join(sorted(edges[package]))}")
    print()
    cycles = sorted((a, b) for a in edges for b in edges[a] if a < b and a in edges.get(b, set()))
    for a, b in cycles:
        print(f"cycle: {a} <-> {b}")
    if not cycles:
        print("no cycles between top-level packages")


if __name__ == "__main__":
    main()
