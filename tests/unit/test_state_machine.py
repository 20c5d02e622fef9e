"""The case life: every legal move works, every other move raises, deleted is the end."""

from itertools import product

import pytest

from core import catalogue
from core.errors import IllegalTransition
from core.model import CaseStatus as S
from core.model import check_transition
from tests.unit.fakes import make_case

LEGAL = {
    (S.INTAKE, S.QUEUED),
    (S.INTAKE, S.CLOSED),
    (S.INTAKE, S.ABANDONED),
    (S.INTAKE, S.DELETED),
    (S.QUEUED, S.ASSIGNED),
    (S.QUEUED, S.QUEUED),  # transfer to another queue before anyone claimed it
    (S.QUEUED, S.CLOSED),
    (S.QUEUED, S.ABANDONED),
    (S.QUEUED, S.DELETED),
    (S.ASSIGNED, S.QUEUED),  # transfer
    (S.ASSIGNED, S.RESOLVED),
    (S.ASSIGNED, S.CLOSED),
    (S.ASSIGNED, S.DELETED),
    (S.RESOLVED, S.CLOSED),
    (S.RESOLVED, S.ASSIGNED),  # the client wrote again before closing
    (S.RESOLVED, S.DELETED),
    (S.CLOSED, S.DELETED),
    (S.ABANDONED, S.DELETED),
}
ILLEGAL = sorted(set(product(S, S)) - LEGAL)


@pytest.mark.parametrize(("previous", "current"), sorted(LEGAL))
def test_every_move_of_the_case_life_is_allowed(previous: S, current: S) -> None:
    check_transition(previous, current)


@pytest.mark.parametrize(("previous", "current"), ILLEGAL)
def test_every_other_move_raises(previous: S, current: S) -> None:
    with pytest.raises(IllegalTransition) as refused:
        check_transition(previous, current)
    assert refused.value.values["to"] == current.value
    # Staff are told where the case is, in a catalogue sentence (never a raw English one).
    told = catalogue.text(str(refused.value), "id", **refused.value.values)
    label = catalogue.text(f"status.label_{previous.value}")
    assert told == f"Tindakan itu tidak dapat dilakukan sekarang: kasus ini {label}."


def test_the_illegal_table_covers_the_moves_people_get_wrong() -> None:
    for move in [
        (S.INTAKE, S.ASSIGNED),  # nobody claims a case that was never routed
        (S.INTAKE, S.RESOLVED),
        (S.QUEUED, S.RESOLVED),
        (S.CLOSED, S.QUEUED),  # closed stays closed
        (S.CLOSED, S.ASSIGNED),
        (S.ASSIGNED, S.ABANDONED),  # a counsellor is on it
        (S.ABANDONED, S.QUEUED),
        (S.ASSIGNED, S.ASSIGNED),
    ]:
        assert move in ILLEGAL


@pytest.mark.parametrize("current", list(S))
def test_deleted_is_terminal(current: S) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(S.DELETED, current)


def test_every_status_but_deleted_can_be_deleted() -> None:
    for previous in S:
        if previous is not S.DELETED:
            check_transition(previous, S.DELETED)


def test_a_refused_move_leaves_the_case_as_it_was() -> None:
    case = make_case(status=S.CLOSED)
    with pytest.raises(IllegalTransition):
        case.move_to(S.ASSIGNED)
    assert case.status is S.CLOSED
