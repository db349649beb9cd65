"""The layering rules the codebase relies on, checked by walking src/ with `ast`.

- No `erp_core` import inside a function unless a `# cycle:` comment (on the line or the
  line above) names the cycle it breaks: hidden imports are how cycles grew unnoticed.
- No module imports another package's `_private` name: shared helpers must be public.
- No `drivers/` module imports a domain package: the vendor seam points one way.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "erp_core"
DOMAINS = {
    "audit",
    "auth",
    "backups",
    "billing",
    "dashboard",
    "infrastructure",
    "logs",
    "provisioning",
    "settings",
    "tenants",
    "runner",
    "composition",
}
MAX_CYCLE_BREAKS = 6


def _modules() -> list[tuple[Path, list[str], ast.Module, list[str]]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        source = path.read_text()
        found.append((path, parts, ast.parse(source), source.splitlines()))
    return found


def _target(node: ast.ImportFrom, parts: list[str], is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = parts[: len(parts) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(tree: ast.AST, parts: list[str], is_package: bool) -> list[tuple[ast.stmt, str]]:
    out: list[tuple[ast.stmt, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            out.append((node, _target(node, parts, is_package)))
    return out


def test_function_level_imports_name_their_cycle() -> None:
    offenders, breaks = [], 0
    for path, parts, tree, lines in _modules():
        is_package = path.name == "__init__.py"
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node, module in _imports(fn, parts, is_package):
                if not module.startswith("erp_core"):
                    continue
                here = lines[node.lineno - 1] + (lines[node.lineno - 2] if node.lineno > 1 else "")
                if "# cycle:" in here:
                    breaks += 1
                else:
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno} {module}")
    assert offenders == [], "function-level imports without a '# cycle:' comment"
    assert breaks <= MAX_CYCLE_BREAKS, f"{breaks} cycle-breaking imports: fix the layering"


def test_no_private_names_across_packages() -> None:
    offenders = []
    for path, parts, tree, _ in _modules():
        for node, module in _imports(tree, parts, path.name == "__init__.py"):
            target = module.split(".")
            if not isinstance(node, ast.ImportFrom) or target[0] != "erp_core":
                continue
            if len(target) > 1 and len(parts) > 1 and target[1] == parts[1]:
                continue  # inside one package, private names are its own business
            offenders += [
                f"{path.relative_to(SRC)}:{node.lineno} {module}.{alias.name}"
                for alias in node.names
                if alias.name.startswith("_") and not alias.name.startswith("__")
            ]
    assert offenders == []


def test_drivers_import_no_domain() -> None:
    offenders = []
    for path, parts, tree, _ in _modules():
        if parts[1] != "drivers":
            continue
        for node, module in _imports(tree, parts, path.name == "__init__.py"):
            target = module.split(".")
            if target[0] == "erp_core" and len(target) > 1 and target[1] in DOMAINS:
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno} {module}")
    assert offenders == []


def test_runner_and_context_import_no_domain() -> None:
    """The runner sits below every domain: domains register into it, never the reverse."""
    offenders = []
    for path, parts, tree, _ in _modules():
        if parts[1] not in ("runner", "context"):
            continue
        for node, module in _imports(tree, parts, path.name == "__init__.py"):
            target = module.split(".")
            if target[0] == "erp_core" and len(target) > 1 and target[1] in DOMAINS - {"runner"}:
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno} {module}")
    assert offenders == []


def test_checker_sees_violations(tmp_path: Path) -> None:
    """The walk itself works: a planted function-level import is found."""
    tree = ast.parse("def f():\n    from erp_core.tenants import service\n")
    fn = tree.body[0]
    assert [m for _, m in _imports(fn, ["erp_core", "x"], False)] == ["erp_core.tenants"]
