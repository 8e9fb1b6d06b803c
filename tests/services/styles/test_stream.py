"""All styles of one picture, streamed: directly and through a real gateway.

Progress is read from the service's own metrics: how many styles it had computed
when the first line arrived, and that it stopped when the caller left.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from services.styles.names import STYLES
from tests.conftest import ServeModel
from tests.processes import Server, launch_gateway, stop_server, wait_until
from tests.scrape import samples, value
from tests.services.styles.pictures import photo, upload

ALL = "/v1/models/styles/all"
PHOTO = photo(256, 170)  # about a fifth of a second a style on one core
LABELS = {"model": "styles", "version": "v1", "action": "all"}


@pytest.fixture(scope="module")
def service(serve_model_module: ServeModel) -> Server:
    return serve_model_module("styles", "v1")


@pytest.fixture(scope="module")
def gateway(service: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    routes = {"models": {"styles": {"versions": {"v1": {"url": service.url, "weight": 100}},
                                    "timeoutSeconds": 20}}}  # fmt: skip
    server = launch_gateway(tmp_path_factory.mktemp("gateway"), routes)
    yield server
    stop_server(server)


def computed(service: Server) -> float:
    return value(samples(service.url), "modelfleet_stream_results_total", **LABELS)


def cancelled(service: Server) -> float:
    return value(samples(service.url), "modelfleet_streams_cancelled_total", **LABELS)


@contextmanager
def all_styles(url: str, first: str) -> Iterator[httpx.Response]:
    """`POST .../all` at `url` with `first` first, its answer open for streaming."""
    files, form = {"image": upload(PHOTO)}, {"style": first}
    with (
        httpx.Client(timeout=60) as client,
        client.stream("POST", url, files=files, data=form) as response,
    ):
        yield response


@pytest.mark.parametrize("via", ["service", "gateway"])
def test_every_style_arrives_once_the_chosen_one_first_as_soon_as_it_exists(
    service: Server, gateway: Server, via: str
) -> None:
    url = service.url + ALL if via == "service" else f"{gateway.url}/models/styles/all"
    before = computed(service)
    started = time.monotonic()
    with all_styles(url, "twilight") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        lines = response.iter_lines()
        first = json.loads(next(lines))
        first_after = time.monotonic() - started
        done_at_first = computed(service) - before
        rest = [json.loads(line) for line in lines]
    total = time.monotonic() - started
    assert (first["style"], first["index"]) == ("twilight", STYLES.index("twilight"))
    assert sorted(line["index"] for line in [first, *rest]) == list(range(len(STYLES)))
    assert [line["style"] for line in rest] == [s for s in STYLES if s != "twilight"]
    assert all(line["image"].startswith("data:image/png;base64,") for line in rest)
    # The first came after about one style's work, not after all of it.
    assert done_at_first < len(STYLES) / 2 and first_after < total / 4


def test_a_caller_that_leaves_after_the_first_style_stops_the_work(
    service: Server, gateway: Server
) -> None:
    before, stopped = computed(service), cancelled(service)
    with all_styles(f"{gateway.url}/models/styles/all", "bold-ink") as response:
        assert json.loads(next(response.iter_lines()))["style"] == "bold-ink"
    wait_until(lambda: cancelled(service) == stopped + 1, 15, "the service to see the caller leave")
    done = computed(service) - before
    time.sleep(1.0)  # several styles' time: a stream still running would compute more
    assert computed(service) - before == done <= 3


def test_pictures_through_the_gateway_equal_the_services_own(
    service: Server, gateway: Server
) -> None:
    form = {"style": "starry-swirls"}
    direct, routed = (
        httpx.post(url, files={"image": upload(PHOTO)}, data=form, headers={"accept": "image/png"},
                   timeout=60)
        for url in (f"{service.url}/v1/models/styles/predict", f"{gateway.url}/models/styles/predict")
    )  # fmt: skip
    assert direct.status_code == routed.status_code == 200
    assert routed.headers["content-type"] == "image/png" and routed.content == direct.content
    with all_styles(f"{gateway.url}/models/styles/all", "starry-swirls") as response:
        streamed = json.loads(next(response.iter_lines()))["image"]
    assert base64.b64decode(streamed.split(",", 1)[1]) == direct.content


def test_the_stream_is_described_in_the_metadata(service: Server) -> None:
    operations = httpx.get(f"{service.url}/v1/models/styles").json()["operations"]
    stream = next(op for op in operations if op["name"] == "all")
    assert (stream["stream"], stream["request"], stream["answers"]) == (
        True, "multipart", ["application/x-ndjson"],
    )  # fmt: skip
    assert stream["input_schema"]["properties"]["image"]["format"] == "binary"
    assert stream["output_schema"]["properties"]["image"]["x-modelfleet-kind"] == "image"
