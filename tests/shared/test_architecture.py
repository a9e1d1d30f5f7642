"""How the modules may import each other (docs/architecture.md): no private names across
modules, no upward imports, shared code never reaching up to stages or commands, stages
independent of each other, no import cycles. Read from the source with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "sparkembed"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()
PACKAGES = {m for m, p in MODULES.items() if p.name == "__init__.py"}


def _imports(module: str) -> list[tuple[str, str, int]]:
    """(imported module, imported name or "", line) of every sparkembed import, at any depth
    (imports inside functions count)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [
                (a.name, "", node.lineno) for a in node.names if a.name.startswith("sparkembed")
            ]
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:
                pkg = module if module in PACKAGES else module.rsplit(".", 1)[0]
                for _ in range(node.level - 1):
                    pkg = pkg.rsplit(".", 1)[0]
                base = f"{pkg}.{base}"
            if not base.startswith("sparkembed"):
                continue
            for a in node.names:
                sub = f"{base}.{a.name}"
                # "from pkg import submodule" imports the submodule, not the package's face
                out.append(
                    (sub, "", node.lineno) if sub in MODULES else (base, a.name, node.lineno)
                )
    return out


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in ("cli", "__main__", "commands"):
        return "command"
    if len(parts) > 2 and parts[1] == "stages":
        return f"stage:{parts[2]}"
    if module == "sparkembed.stages":
        return "registry"
    return "shared"


def test_no_private_name_is_imported_from_another_module():
    found = [
        f"{m}:{line} imports {name} from {target}"
        for m in MODULES
        for target, name, line in _imports(m)
        if name.startswith("_") and not name.startswith("__") and target != m
    ]
    assert found == []


def test_no_module_imports_its_own_package_face():
    """A module below a package never imports that package's ``__init__`` (the registry
    and a stage's ``STAGE`` are built from the modules, not the other way round). The root
    package's face holds only ``__version__``."""
    found = [
        f"{m}:{line} imports {name or target} from its package {target}"
        for m in MODULES
        for target, name, line in _imports(m)
        if target in PACKAGES
        and target != "sparkembed"
        and target != m
        and m.startswith(target + ".")
    ]
    assert found == []


def test_layers_only_import_downwards():
    """Shared code never imports a stage or a command; a stage never imports a command or
    another stage (code two stages need lives in a shared package)."""
    found = []
    for m in MODULES:
        mine = _layer(m)
        for target, _name, line in _imports(m):
            theirs = _layer(target)
            if theirs == "shared" or theirs == mine:
                continue
            allowed = (mine == "command" and theirs in ("registry", "command")) or (
                mine in ("command", "registry") and theirs.startswith("stage:")
            )
            if not allowed:
                found.append(f"{m}:{line} ({mine}) imports {target} ({theirs})")
    assert found == []


def test_no_import_cycles():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for m in MODULES:
        for target, _name, _line in _imports(m):
            while target not in MODULES and "." in target:
                target = target.rsplit(".", 1)[0]
            if target != m and target in MODULES:
                graph[m].add(target)
    # A package's face importing its own modules is how Python packages work; cycles
    # through a face would be caught by the face test above.
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert cycles == []


def test_the_rules_see_real_imports():
    """The reader finds imports at any depth and resolves submodules (else every test above
    would pass on nothing)."""
    imports = {t for t, _n, _l in _imports("sparkembed.cli")}
    assert "sparkembed.commands" in imports and "sparkembed.stages" in imports
    assert _layer("sparkembed.stages.cooccur.stage") == "stage:cooccur"
    assert _layer("sparkembed.tables") == "shared"
