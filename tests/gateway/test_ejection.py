"""Ejection: consecutive failures eject a service until its cool-down has passed and a
readiness probe readmits it."""

from __future__ import annotations

import pytest

from gateway.ejection import Ejector


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_consecutive_failures_eject_until_a_probe_readmits_after_the_cooldown() -> None:
    clock = Clock()
    ejector = Ejector(3, 10.0, clock)
    assert [ejector.failure("u") for _ in range(3)] == [False, False, True]
    assert ejector.ejected("u") and ejector.due() == []  # cooling down: not even probed
    clock.now = 10.5
    assert ejector.ejected("u") and ejector.due() == ["u"]  # out until a probe says ready
    ejector.readmit("u")
    assert not ejector.ejected("u") and ejector.due() == []


def test_remaining_counts_the_cooldown_down_to_zero_while_the_probe_is_awaited() -> None:
    clock = Clock()
    ejector = Ejector(1, 10.0, clock)
    assert ejector.remaining("u") == 0.0
    ejector.failure("u")
    clock.now = 4.0
    assert ejector.remaining("u") == 6.0
    clock.now = 12.0
    assert ejector.remaining("u") == 0.0 and ejector.ejected("u")


def test_a_success_resets_the_failure_count() -> None:
    ejector = Ejector(3, 10.0, Clock())
    ejector.failure("u")
    ejector.failure("u")
    ejector.success("u")
    assert not ejector.failure("u") and not ejector.ejected("u")


def test_a_success_readmits_at_once() -> None:
    """A request pinned to an ejected version still reaches it: its answer is proof
    enough."""
    ejector = Ejector(1, 10.0, Clock())
    ejector.failure("u")
    ejector.success("u")
    assert not ejector.ejected("u")


def test_a_readmitted_service_is_on_probation_one_failure_ejects_it_again() -> None:
    clock = Clock()
    ejector = Ejector(2, 5.0, clock)
    ejector.failure("u")
    ejector.failure("u")
    clock.now = 6.0
    ejector.readmit("u")
    assert ejector.failure("u") and ejector.ejected("u")
    assert ejector.due() == []  # a fresh cool-down
    clock.now = 11.5
    assert ejector.due() == ["u"]


def test_bad_limits_are_rejected() -> None:
    with pytest.raises(ValueError, match="failures"):
        Ejector(0, 1.0)
