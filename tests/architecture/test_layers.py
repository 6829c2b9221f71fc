"""The floor plan (docs/ARCHITECTURE.md) is enforced: import-linter's contracts in pyproject.toml
hold for the tree, and break when a layer rule is broken on purpose."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

PLANTED = {
    "a domain importing push": ("backend/referrals/service.py", "from backend.push import notify\n"),
    "a domain importing the transport": ("backend/messaging/access.py", "import backend.graphql.context\n"),
    "the core importing a domain": ("backend/crypto/envelope.py", "from backend.referrals import tables\n"),
    "the socket layer importing push": (
        "backend/graphql/realtime/connection.py",
        "from backend.push import live\n",
    ),
    "GraphQL reaching the push dispatcher": (
        "backend/graphql/push/mutations.py",
        "from backend.push import dispatcher\n",
    ),
}


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"lint-imports is not installed next to {sys.executable}: run make install")
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_tree_keeps_every_layer_contract() -> None:
    # given the repository as it is / when the contracts are checked
    result = _lint_imports(ROOT)
    # then every contract is kept
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("violation", sorted(PLANTED))
def test_a_planted_violation_breaks_its_contract(tmp_path: Path, violation: str) -> None:
    # given a copy of the product package with one forbidden import planted
    shutil.copytree(
        ROOT / "backend", tmp_path / "backend", ignore=shutil.ignore_patterns("__pycache__", "migrations")
    )
    relative, line = PLANTED[violation]
    planted = tmp_path / relative
    planted.write_text(planted.read_text() + "\n" + line)
    # when the contracts are checked
    result = _lint_imports(tmp_path)
    # then the check fails and names the import
    assert result.returncode != 0, f"{violation} was not caught:\n{result.stdout}"
    assert "BROKEN" in result.stdout or "broken" in result.stdout
    module = relative.removesuffix(".py").replace("/", ".")
    assert module in result.stdout, result.stdout
