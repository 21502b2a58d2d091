"""Schemathesis against the app in-process: no 5xx, and every answer agrees with /openapi.json."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/server: server_client
from server_client import build_recommender  # noqa: E402

from beatdebate_server.http.app import create_app  # noqa: E402
from beatdebate_server.settings import Settings  # noqa: E402

# Schemathesis' ASGI client (Starlette's TestClient) enters the app's lifespan itself.
_app = create_app(Settings(), recommender=build_recommender(crowd=0))
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: Any) -> None:
    case.call_and_validate()
