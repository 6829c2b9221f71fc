"""The product package ``backend/`` stands alone: development and test tools live in ``tools/``."""

from __future__ import annotations

import ast

from backend.settings import PROJECT_ROOT


def _imported_modules(tree: ast.AST) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def test_the_product_package_never_imports_the_tools() -> None:
    # given every module of the product package (the wheel holds backend* only)
    offenders = []
    for path in sorted((PROJECT_ROOT / "backend").rglob("*.py")):
        modules = _imported_modules(ast.parse(path.read_text(), filename=str(path)))
        # then none imports tools/ (the fake FCM, the demo seed), which the wheel leaves out
        offenders += [
            f"{path.relative_to(PROJECT_ROOT)}: {name}"
            for name in sorted(modules)
            if name == "tools" or name.startswith("tools.")
        ]
    assert offenders == []
