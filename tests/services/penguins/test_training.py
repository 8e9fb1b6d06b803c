"""`modelfleet train penguins` publishes new versions; training is seeded."""

from __future__ import annotations

from collections.abc import Callable

from services.penguins import Model
from services.penguins.schemas import Penguin
from services.penguins.train import train
from services.runtime.registry import Registry
from tests.cli.test_cli import modelfleet
from tests.services.penguins.rows import ROWS


def test_train_publishes_the_next_version_with_its_held_out_accuracy(
    scratch_registry: Callable[..., Registry],
) -> None:
    registry = scratch_registry("penguins")
    run = modelfleet("train", "penguins", "--recipe", "wide", "--registry", str(registry.root))
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    assert "published penguins v2 (parent v1)" in out
    _, manifest = registry.open("penguins", "v2")
    assert manifest.parent == "v1" and manifest.params["recipe"] == "wide"
    assert manifest.metrics["accuracy"] >= 0.95 and manifest.metrics["test_samples"] >= 80


def test_the_same_recipe_trains_the_same_classifier(
    scratch_registry: Callable[..., Registry],
) -> None:
    registry = scratch_registry("penguins")
    again = train(registry)  # the seed's recipe, once more
    assert again.metrics == registry.manifest("penguins", "v1").metrics
    seeded, retrained = Model(), Model()
    seeded.load(registry.open("penguins", "v1")[0])
    retrained.load(registry.open("penguins", again.version)[0])
    penguins = [Penguin(**row) for row in ROWS]
    assert seeded.predict(penguins) == retrained.predict(penguins)


def test_an_unknown_recipe_is_refused_with_the_known_ones(
    scratch_registry: Callable[..., Registry],
) -> None:
    registry = scratch_registry("penguins")
    run = modelfleet("train", "penguins", "--recipe", "magic", "--registry", str(registry.root))
    _, err = run.communicate(timeout=120)
    assert run.returncode != 0 and "unknown penguins recipe 'magic'; choose from" in err
    assert registry.versions("penguins") == ["v1"]
