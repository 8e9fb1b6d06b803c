"""routes.yaml parsing: valid tables load, invalid ones are rejected with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.routes import RoutesError, load_routes, parse_routes

VALID = """
models:
  iris:
    versions:
      v1: {url: "http://iris-v1:8080", weight: 90}
      v2: {url: "http://iris-v2:8080/", weight: 10}
      v3: {url: "http://iris-v3:8080", weight: 0}
    stickyHeader: X-User-Id
    shadow: {version: v3, percent: 100}
    timeoutSeconds: 5
    retries: 1
"""


def test_a_valid_table_loads_with_defaults_filled_in() -> None:
    route = parse_routes(VALID).models["iris"]
    assert route.weights == {"v1": 90, "v2": 10}
    assert route.versions["v2"].base_url == "http://iris-v2:8080"
    assert route.guard.enabled is False
    assert route.known_versions == ["v1", "v2", "v3"]


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (("weight: 10", "weight: -1"), "models.iris.versions.v2.weight"),
        (("retries: 1", "retrys: 1"), "models.iris.retrys: Extra inputs are not permitted"),
        (("version: v3", "version: v9"), "shadow version 'v9' is not listed"),
        (("weight: 90", "weight: 0"), None),
        (("http://iris-v1:8080", "iris-v1"), "models.iris.versions.v1.url"),
        (("http://iris-v1:8080", "https://iris-v1:8443"), "over http:// only"),
        (("v2: {", "two: {"), "models.iris.versions.two"),
        (("timeoutSeconds: 5", "timeoutSeconds: [5"), "not valid YAML"),
    ],
)
def test_an_invalid_table_is_rejected_naming_the_problem(
    edit: tuple[str, str], reason: str | None
) -> None:
    text = VALID.replace(*edit)
    if reason is None:  # every weight 0: nothing could be served
        text = text.replace("weight: 10", "weight: 0")
        reason = "at least one version needs a weight above 0"
    with pytest.raises(RoutesError, match=reason.replace(".", r"\.").replace("[", r"\[")):
        parse_routes(text)


def test_an_empty_file_is_rejected() -> None:
    with pytest.raises(RoutesError, match="Input should be a valid dictionary"):
        parse_routes("")


def test_loading_reports_a_missing_file_and_hashes_content(tmp_path: Path) -> None:
    with pytest.raises(RoutesError, match="cannot read"):
        load_routes(tmp_path / "absent.yaml")
    (tmp_path / "routes.yaml").write_text(VALID)
    first, second = load_routes(tmp_path / "routes.yaml"), load_routes(tmp_path / "routes.yaml")
    assert first.sha256 == second.sha256 and len(first.sha256) == 64
