"""segment training: seeded, bounded by its schedule, and recorded in the manifest."""

from __future__ import annotations

from pathlib import Path

import torch

from services.runtime.registry import Registry
from services.segment.fitting import Schedule, segment
from services.segment.scenes import SIDE, held_out
from services.segment.train import SCHEDULE, TRAIN_SCENES, build

SHORT = Schedule(steps=4, batch_size=4, learning_rate=1e-3, seed=11, crop=32)


def test_the_same_schedule_trains_the_same_weights_and_another_seed_others() -> None:
    first = build("deeplab", scenes=16, schedule=SHORT).state_dict()
    again = build("deeplab", scenes=16, schedule=SHORT).state_dict()
    other = build("deeplab", scenes=16, schedule=Schedule(**{**SHORT.__dict__, "seed": 12}))
    assert all(torch.equal(first[name], again[name]) for name in first)
    assert not all(torch.equal(first[name], other.state_dict()[name]) for name in first)


def test_a_net_trained_on_crops_segments_whole_scenes_in_the_default_layout() -> None:
    assert SHORT.crop < SIDE and SCHEDULE.crop < SIDE
    net = build("deeplab", scenes=16, schedule=SHORT)
    # Trained channels-last; saved and served in torch's default layout.
    assert all(p.is_contiguous() for p in net.parameters())
    assert not net.training
    assert segment(net, held_out().images[:2]).shape == (2, SIDE, SIDE)


def test_the_seed_version_records_its_held_out_iou_and_its_bounded_schedule(
    registry_root: Path,
) -> None:
    _, manifest = Registry(registry_root).open("segment", "v1")
    assert manifest.metrics["mean_iou"] >= 0.75 and manifest.metrics["test_scenes"] >= 300
    assert manifest.params["steps"] == SCHEDULE.steps
    assert manifest.params["scenes"] == TRAIN_SCENES
    assert manifest.params["seed"] == SCHEDULE.seed
    assert manifest.params["crop"] == SCHEDULE.crop
    assert manifest.metrics["train_cpu_seconds"] > 0
