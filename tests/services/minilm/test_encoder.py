"""How a batch of texts is grouped into padded forward passes."""

from __future__ import annotations

import random

import pytest

from services.minilm.encoder import MAX_PASS_TOKENS, PASS_COST_TOKENS, plan_passes


def covers_every_text_once(passes: list[list[int]], count: int) -> bool:
    return sorted(i for p in passes for i in p) == list(range(count))


def test_texts_of_equal_length_share_one_pass() -> None:
    assert plan_passes([12] * 32, MAX_PASS_TOKENS) == [list(range(32))]


def test_similar_lengths_share_one_pass_shortest_first() -> None:
    lengths = [14, 9, 11, 12, 10, 13]
    (only,) = plan_passes(lengths, MAX_PASS_TOKENS)
    assert [lengths[i] for i in only] == sorted(lengths)


def test_one_long_text_gets_its_own_pass_instead_of_padding_the_rest() -> None:
    lengths = [10] * 31 + [256]
    assert plan_passes(lengths, MAX_PASS_TOKENS) == [list(range(31)), [31]]


def test_padding_cheaper_than_a_pass_never_splits() -> None:
    # Padding three 2-piece texts to 12 more than doubles the work, yet wastes fewer
    # pieces than a pass costs; at 14 it wastes more, and the long text runs alone.
    assert 3 * (12 - 2) < PASS_COST_TOKENS < 3 * (14 - 2)
    assert plan_passes([2, 2, 2, 12], MAX_PASS_TOKENS) == [[0, 1, 2, 3]]
    assert plan_passes([2, 2, 2, 14], MAX_PASS_TOKENS) == [[0, 1, 2], [3]]


def test_no_pass_exceeds_the_token_budget() -> None:
    lengths = [256] * 40
    passes = plan_passes(lengths, MAX_PASS_TOKENS)
    assert all(len(p) * 256 <= MAX_PASS_TOKENS for p in passes)
    assert [len(p) for p in passes] == [32, 8]


@pytest.mark.parametrize("seed", range(5))
def test_random_batches_cover_every_text_once_within_budget_and_waste(seed: int) -> None:
    rng = random.Random(seed)
    lengths = [rng.randint(2, 256) for _ in range(rng.randint(1, 64))]
    passes = plan_passes(lengths, MAX_PASS_TOKENS)
    assert covers_every_text_once(passes, len(lengths))
    for group in passes:
        padded = len(group) * max(lengths[i] for i in group)
        real = sum(lengths[i] for i in group)
        assert padded <= MAX_PASS_TOKENS
        assert padded - real <= max(real, PASS_COST_TOKENS)


def test_empty_batch_has_no_passes() -> None:
    assert plan_passes([], MAX_PASS_TOKENS) == []
