"""core/ is the domain: it imports the standard library and itself, nothing else."""

import ast
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "core"
SOURCES = sorted(CORE.rglob("*.py"))


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_walk_finds_the_domain() -> None:
    names = {p.relative_to(CORE).as_posix() for p in SOURCES}
    assert {"model.py", "ports.py", "usecases/intake.py"} <= names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(CORE).as_posix())
def test_core_imports_only_the_standard_library(path: Path) -> None:
    foreign = imported_roots(path) - sys.stdlib_module_names - {"core"}
    assert not foreign, f"core/{path.relative_to(CORE)} imports {sorted(foreign)}"


def test_the_check_would_catch_a_foreign_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import json\nfrom sqlalchemy import select\nimport aiogram.types\nfrom . import model\n"
    )
    assert imported_roots(sample) - sys.stdlib_module_names - {"core"} == {"sqlalchemy", "aiogram"}
