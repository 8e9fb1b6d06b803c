"""wrk with post.lua against a real iris service: bodies replayed, errors counted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.wrk import parse_summary, run_wrk
from tests.conftest import ServeModel
from tests.tools import require_tool

GOOD = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


def test_summary_line_becomes_a_measurement() -> None:
    line = (
        '{"requests": 250, "duration_us": 5000000, "p50_us": 1500.0, "p99_us": 9000.5, '
        '"max_us": 12000.0, "connect": 1, "read": 0, "write": 0, "status": 3, "timeout": 2}'
    )
    measured = parse_summary(f"Running 5s test\n  2 threads\n{line}\n")
    assert (measured.rps, measured.p50_ms, measured.p99_ms, measured.errors) == (50, 1.5, 9.0005, 6)


def test_output_without_a_summary_is_an_error() -> None:
    with pytest.raises(ValueError, match="no summary"):
        parse_summary("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_wrk_replays_every_body_in_turn_and_counts_rejections(
    serve_model: ServeModel, tmp_path: Path
) -> None:
    require_tool("wrk")
    server = serve_model("iris", "v1")
    bodies = [GOOD, GOOD | {"petal_width": 1.8}, GOOD | {"petal_width": -1.0}]  # last one is a 422
    files = []
    for index, body in enumerate(bodies):
        files.append(tmp_path / f"body-{index}")
        files[-1].write_text(json.dumps(body))
    measured = run_wrk(
        server.url, "/v1/models/iris/predict", "application/json", files, connections=2, seconds=1
    )
    assert measured.requests > 10
    # One connection in three... every third request carries the invalid body.
    assert abs(measured.errors - measured.requests / 3) <= 2
    assert 0 < measured.p50_ms <= measured.p99_ms
