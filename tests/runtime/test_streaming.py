"""Streaming actions over real HTTP (uvicorn on 127.0.0.1): NDJSON lines as results exist,
ordinary errors before the first, a truncated body after a crash, and no more work once
the client has gone."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.processes import Server, launch, python_module, stop_server, wait_ready, wait_until
from tests.scrape import samples, value

COUNT = "/v1/models/counting/count"
LABELS = {"model": "counting", "version": "v1", "action": "count"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("counting")
    argv = python_module(
        "uvicorn", "--factory", "tests.runtime.counting:create_app_for_tests",
        "--host", "127.0.0.1", "--log-level", "warning", "--port",
    )  # fmt: skip
    server = launch("counting", lambda port: [*argv, str(port)], folder,
                    {"COUNTING_REGISTRY": str(folder / "registry")})  # fmt: skip
    yield wait_ready(server)
    stop_server(server)


@pytest.fixture(scope="module")
def client(service: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, timeout=30) as client:
        yield client


def computed(service: Server) -> float:
    return value(samples(service.url), "modelfleet_stream_results_total", **LABELS)


def test_each_result_is_one_json_line(client: httpx.Client) -> None:
    response = client.post(COUNT, json={"to": 4})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert [json.loads(line) for line in response.text.splitlines()] == [
        {"number": n} for n in range(4)
    ]
    assert response.text.endswith("\n")


def test_a_stream_with_no_results_is_an_empty_200(client: httpx.Client) -> None:
    response = client.post(COUNT, json={"to": 0})
    assert response.status_code == 200 and response.content == b""


def test_a_refusal_before_the_first_result_is_an_ordinary_error(client: httpx.Client) -> None:
    refused = client.post(COUNT, json={"to": 3, "refuse": True})
    assert refused.status_code == 422 and refused.json() == {"error": "told to refuse"}
    invalid = client.post(COUNT, json={"to": -1})
    assert invalid.status_code == 422 and invalid.json()["detail"][0]["loc"] == ["body", "to"]
    crashed = client.post(COUNT, json={"to": 3, "fail_at": 0})
    assert crashed.status_code == 500 and "Traceback" not in crashed.text


def test_the_openapi_declares_ndjson_lines_and_json_errors(service: Server) -> None:
    # A connection of its own: uvicorn closes the one a 500 went out on (a crash above).
    spec = httpx.get(f"{service.url}/openapi.json", timeout=30).json()
    answers = spec["paths"]["/v1/models/{name}/count"]["post"]["responses"]
    assert answers["200"]["content"] == {
        "application/x-ndjson": {"itemSchema": {"$ref": "#/components/schemas/Tick"}}
    }
    assert set(answers) == {"200", "400", "404", "413", "415", "422", "500", "503"}
    assert all(list(a["content"]) == ["application/json"] for s, a in answers.items() if s != "200")


def test_a_crash_after_the_first_result_cuts_the_body_short(client: httpx.Client) -> None:
    received = []
    # Closed or reset mid-body; a reset discards what the client had not read
    # yet, under load even the status line, so the error may come at any read.
    with (
        pytest.raises(httpx.TransportError),
        client.stream("POST", COUNT, json={"to": 5, "fail_at": 2, "gap": 0.2}) as response,
    ):
        assert response.status_code == 200
        received.extend(json.loads(line) for line in response.iter_lines())
    assert received == [{"number": n} for n in range(len(received))] and len(received) <= 2


def test_a_client_that_leaves_stops_the_work(service: Server, client: httpx.Client) -> None:
    before = computed(service)
    cancelled = "modelfleet_streams_cancelled_total"
    stopped = value(samples(service.url), cancelled, **LABELS)
    with client.stream("POST", COUNT, json={"to": 100, "gap": 0.05}) as response:
        assert json.loads(next(response.iter_lines())) == {"number": 0}
    wait_until(
        lambda: value(samples(service.url), cancelled, **LABELS) == stopped + 1, 10, "the stop"
    )
    # The step the model thread had begun when the client left still ends (a thread
    # cannot be interrupted); the stop is counted at once, so give it four gaps' time.
    time.sleep(0.2)
    done = computed(service) - before
    time.sleep(0.5)  # ten results' time
    assert computed(service) - before == done < 10
