"""Property-based fuzzing of the API from its own OpenAPI schema (schemathesis).

Every operation gets generated requests, valid and invalid; none may get a 5xx, and every
response must match what the schema documents (status code, content type, body). The example
count is bounded so the whole module stays well under a minute on two cores.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from scanwise.web import WebSettings, create_app

EXAMPLES_PER_OPERATION = 50
STATUSES: Counter[str] = Counter()


# Built at import: schemathesis's fixture-based loader does not work with pytest 9 (it reads
# a node attribute pytest removed), so the schema comes straight from the app. An in-memory
# database keeps the fuzzing from leaving files behind.
web_app = create_app(WebSettings(db="sqlite://", allowed_hosts=("testserver",)))
web_app.state.services.workers.start()  # ready before the first call and its 10 s timeout


async def _without_lifespan(scope: Any, receive: Any, send: Any) -> None:
    # schemathesis runs the app's start-up and shut-down around every call; the worker pool
    # starts on first use instead and lives for the module, as it does under one server.
    if scope["type"] == "lifespan":
        message = await receive()
        await send({"type": f"{message['type']}.complete"})
        return
    await web_app(scope, receive, send)


schema = schemathesis.openapi.from_asgi("/openapi.json", _without_lifespan)


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    total = sum(STATUSES.values())
    print(f"\nfuzzing: {total} requests; statuses " + ", ".join(
        f"{status}: {count}" for status, count in sorted(STATUSES.items())))


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
          phases=[Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
def test_api_has_no_server_errors(case: schemathesis.Case) -> None:
    response = case.call()
    STATUSES[f"{case.method} {case.path} {response.status_code}"] += 1
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                             content_type_conformance, response_schema_conformance])
