"""Gateway paths map onto service paths, and inference is told apart from the rest."""

from __future__ import annotations

import pytest

from gateway.errors import BadRequest
from gateway.targets import oip_target, v1_target


def test_predict_is_inference_split_retried_and_shadowed() -> None:
    target = v1_target("POST", "iris", "predict", "debug=1")
    assert target.path == "/v1/models/iris/predict?debug=1"
    assert (target.spread, target.retryable, target.shadowable) == (True, True, True)


def test_a_query_parameter_predict_is_inference_with_its_query() -> None:
    target = v1_target("GET", "penguins", "predict", "bill_length_mm=39.1&island=Dream")
    assert target.path == "/v1/models/penguins/predict?bill_length_mm=39.1&island=Dream"
    assert (target.spread, target.retryable, target.shadowable) == (True, True, True)
    assert not v1_target("GET", "penguins", "answer").spread  # only predict reads a query


def test_model_specific_actions_are_inference_too() -> None:
    assert v1_target("POST", "minilm", "answer").spread


def test_training_is_never_split_retried_or_shadowed() -> None:
    target = v1_target("POST", "iris", "train")
    assert (target.spread, target.retryable, target.shadowable) == (False, False, False)


def test_job_status_and_metadata_are_reads_for_the_stable_or_pinned_version() -> None:
    job = v1_target("GET", "iris", "train/42")
    assert job.path == "/v1/models/iris/train/42"
    assert (job.spread, job.retryable, job.shadowable) == (False, True, False)
    assert v1_target("GET", "iris", "").path == "/v1/models/iris"


def test_decoded_path_segments_go_out_encoded_again_and_the_query_as_it_came() -> None:
    # The path parameters arrive decoded: "%3F" in a segment must not become the query.
    target = v1_target("GET", "iris", "train/a?b c%d/zoë:@!", "x=%41&y=1")
    assert target.path == "/v1/models/iris/train/a%3Fb%20c%25d/zo%C3%AB:@!?x=%41&y=1"


def test_oip_infer_is_inference_and_keeps_its_path() -> None:
    target = oip_target("POST", "iris", "infer")
    assert target.path == "/v2/models/iris/infer" and target.spread and target.path_version is None


def test_oip_versioned_paths_name_their_version() -> None:
    target = oip_target("POST", "iris", "versions/v2/infer")
    assert target.path == "/v2/models/iris/versions/v2/infer"
    assert target.path_version == "v2" and target.shadowable
    assert oip_target("GET", "iris", "versions/v2/ready").path_version == "v2"


def test_oip_metadata_and_readiness_are_reads() -> None:
    target = oip_target("GET", "iris", "ready")
    assert not target.spread and target.retryable and target.path == "/v2/models/iris/ready"


@pytest.mark.parametrize("rest", ["../../metrics", "train/../../x", "predict/", "a//b", "."])
def test_dot_and_empty_segments_cannot_climb_out_of_the_model_prefix(rest: str) -> None:
    with pytest.raises(BadRequest, match="invalid path segment"):
        v1_target("GET", "iris", rest)
    with pytest.raises(BadRequest, match="invalid path segment"):
        oip_target("GET", "iris", rest)
