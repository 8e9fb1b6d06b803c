"""Version choice: weighted split, pinning, sticky hashing with minimal movement, pools."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from gateway.errors import NotFound
from gateway.routes import ModelRoute
from gateway.routing import Ask, choose, pick_sticky, pick_weighted, pool, role_of, stable_version


def route(**weights: float) -> ModelRoute:
    versions = {v: {"url": f"http://{v}:8080", "weight": w} for v, w in weights.items()}
    return ModelRoute.model_validate({"versions": versions})


def test_weighted_split_over_4000_draws_is_within_2_points_of_the_weights() -> None:
    rng = random.Random(7)
    weights = {"v1": 90.0, "v2": 10.0}
    counts = Counter(pick_weighted(weights, rng.random()) for _ in range(4000))
    assert abs(counts["v1"] / 4000 - 0.90) < 0.02
    assert abs(counts["v2"] / 4000 - 0.10) < 0.02


def test_weighted_pick_covers_the_whole_draw_range() -> None:
    weights = {"v1": 50.0, "v2": 50.0}
    assert pick_weighted(weights, 0.0) == "v1"
    assert pick_weighted(weights, 0.4999) == "v1"
    assert pick_weighted(weights, 0.5) == "v2"
    assert pick_weighted(weights, 1.0) == "v2"


def test_weights_are_relative_not_percentages() -> None:
    assert pick_weighted({"v1": 1.0, "v2": 3.0}, 0.26) == "v2"


def test_stable_version_is_the_heaviest_and_ties_go_to_the_lowest_number() -> None:
    assert stable_version({"v1": 10, "v2": 90}) == "v2"
    assert stable_version({"v10": 50, "v9": 50}) == "v9"


def test_one_sticky_key_always_reaches_one_version() -> None:
    weights = {"v1": 50.0, "v2": 30.0, "v3": 20.0}
    for key in (f"user-{i}" for i in range(200)):
        assert len({pick_sticky(weights, key) for _ in range(5)}) == 1


def test_sticky_keys_spread_in_proportion_to_the_weights() -> None:
    weights = {"v1": 70.0, "v2": 20.0, "v3": 10.0}
    counts = Counter(pick_sticky(weights, f"user-{i}") for i in range(20_000))
    for version, weight in weights.items():
        assert abs(counts[version] / 20_000 - weight / 100) < 0.015


def test_raising_a_canary_weight_only_moves_callers_onto_that_canary() -> None:
    keys = [f"user-{i}" for i in range(10_000)]
    before = {k: pick_sticky({"v1": 90.0, "v2": 10.0, "v3": 10.0}, k) for k in keys}
    after = {k: pick_sticky({"v1": 90.0, "v2": 30.0, "v3": 10.0}, k) for k in keys}
    moved = [k for k in keys if before[k] != after[k]]
    assert moved, "a weight change must move some callers"
    assert all(after[k] == "v2" for k in moved)
    # 10/110 -> 30/130 of the callers: the fewest moves that reach the new split.
    assert abs(len(moved) / len(keys) - (30 / 130 - 10 / 110)) < 0.015


def test_removing_a_version_only_moves_its_own_callers() -> None:
    keys = [f"user-{i}" for i in range(5_000)]
    before = {k: pick_sticky({"v1": 50.0, "v2": 25.0, "v3": 25.0}, k) for k in keys}
    after = {k: pick_sticky({"v1": 50.0, "v2": 25.0}, k) for k in keys}
    assert all(after[k] == before[k] for k in keys if before[k] != "v3")


def test_pinning_reaches_the_pinned_version_even_with_zero_weight() -> None:
    r = route(v1=100, v2=0)
    choice = choose(r, Ask(pinned="v2"), r.weights, 0.0)
    assert (choice.version, choice.variant) == ("v2", "pinned")


def test_pinning_an_unknown_version_names_the_known_versions() -> None:
    r = route(v1=90, v2=10)
    with pytest.raises(NotFound) as caught:
        choose(r, Ask(pinned="v7"), r.weights, 0.0)
    assert caught.value.details == {"versions": ["v1", "v2"]}
    assert "v7" in caught.value.message


def test_non_inference_requests_go_to_the_stable_version() -> None:
    r = route(v1=90, v2=10)
    assert {choose(r, Ask(spread=False), r.weights, d).version for d in (0.0, 0.95)} == {"v1"}


def test_variants_say_stable_or_canary() -> None:
    r = route(v1=90, v2=10)
    assert choose(r, Ask(), r.weights, 0.0).variant == "stable"
    assert choose(r, Ask(), r.weights, 0.99).variant == "canary"
    assert role_of(r, "v2") == "canary"


def test_pool_never_uses_a_held_canary() -> None:
    assert pool({"v1": 90, "v2": 10}, held={"v2"}, tried={"v1"}) == {"v1": 90}


def test_pool_prefers_versions_not_ejected_and_not_yet_tried() -> None:
    weights = {"v1": 80.0, "v2": 10.0, "v3": 10.0}
    assert pool(weights, ejected={"v2"}, tried={"v1"}) == {"v3": 10.0}


def test_pool_retries_a_tried_version_before_an_ejected_one() -> None:
    assert pool({"v1": 90, "v2": 10}, ejected={"v2"}, tried={"v1"}) == {"v1": 90}
    assert pool({"v1": 100}, tried={"v1"}) == {"v1": 100}


def test_pool_is_empty_when_every_version_is_ejected_or_held() -> None:
    assert pool({"v1": 100}, ejected={"v1"}, tried={"v1"}) == {}
    assert pool({"v1": 90, "v2": 10}, ejected={"v1"}, held={"v2"}) == {}
