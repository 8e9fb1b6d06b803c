"""Ejection: consecutive failures eject a service for a cool-down."""

from __future__ import annotations

import pytest

from gateway.ejection import Ejector


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_consecutive_failures_eject_until_the_cooldown_ends() -> None:
    clock = Clock()
    ejector = Ejector(3, 10.0, clock)
    assert [ejector.failure("u") for _ in range(3)] == [False, False, True]
    assert ejector.ejected("u")
    clock.now = 10.5
    assert not ejector.ejected("u")


def test_a_success_resets_the_failure_count() -> None:
    ejector = Ejector(3, 10.0, Clock())
    ejector.failure("u")
    ejector.failure("u")
    ejector.success("u")
    assert not ejector.failure("u") and not ejector.ejected("u")


def test_a_failure_right_after_the_cooldown_ejects_again() -> None:
    clock = Clock()
    ejector = Ejector(2, 5.0, clock)
    ejector.failure("u")
    ejector.failure("u")
    clock.now = 6.0
    assert ejector.failure("u") and ejector.ejected("u")


def test_bad_limits_are_rejected() -> None:
    with pytest.raises(ValueError, match="failures"):
        Ejector(0, 1.0)
