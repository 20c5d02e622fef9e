"""core/ is the domain: it imports the standard library and itself, nothing else."""

import ast
import sys
from pathlib import Path
from typing import Protocol, get_type_hints

import pytest

from core import ports
from tests.unit import fakes

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


PORTS_AND_FAKES = [
    (ports.Clock, fakes.FakeClock),
    (ports.KeyProvider, fakes.FakeKeyProvider),
    (ports.Classifier, fakes.FakeClassifier),
    (ports.CrisisScreener, fakes.FakeScreener),
    (ports.ClientRepository, fakes.FakeClientRepository),
    (ports.CaseRepository, fakes.FakeCaseRepository),
    (ports.MessageRepository, fakes.FakeMessageRepository),
    (ports.PartnerRepository, fakes.FakePartnerRepository),
    (ports.StaffRepository, fakes.FakeStaffRepository),
    (ports.InviteRepository, fakes.FakeInviteRepository),
    (ports.FeedbackRepository, fakes.FakeFeedbackRepository),
    (ports.Outbox, fakes.FakeOutbox),
    (ports.AuditLog, fakes.FakeAuditLog),
    (ports.SetupStore, fakes.FakeSetupStore),
    (ports.UnitOfWork, fakes.FakeUnitOfWork),
]


def port_members(port: type) -> set[str]:
    return {
        name
        for name, value in vars(port).items()
        if (callable(value) or isinstance(value, property))
        and (not name.startswith("_") or name in ("__aenter__", "__aexit__"))
    }


@pytest.mark.parametrize(("port", "fake"), PORTS_AND_FAKES, ids=lambda x: x.__name__)
def test_every_port_has_a_fake_implementing_all_of_it(port: type, fake: type) -> None:
    """The unit tests stand on these fakes: a new port method must be faked too."""
    assert port in fake.__mro__
    assert port_members(port), port
    not_overridden = {n for n in port_members(port) if vars(port)[n] is getattr(fake, n)}
    assert not not_overridden, f"{fake.__name__} does not implement {sorted(not_overridden)}"


def test_the_list_names_every_port() -> None:
    declared = {
        obj
        for obj in vars(ports).values()
        if isinstance(obj, type) and getattr(obj, "_is_protocol", False) and obj is not Protocol
    }
    assert declared == {port for port, _ in PORTS_AND_FAKES}


def test_the_fake_unit_of_work_holds_every_repository() -> None:
    uow = fakes.FakeUnitOfWork()
    for name, port in get_type_hints(ports.UnitOfWork).items():
        assert port in type(getattr(uow, name)).__mro__, name
