"""Schemathesis against the live app, over HTTP: no request it generates from the OpenAPI document,
valid or not, makes a server error, and every answer conforms to the document (media type, body).

Bounded to fit CI: a few examples per operation and role, derandomized (the same requests on
every run), no shrinking. A failure names the operation, the role and the request to replay.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.test_auth import login
from tests.world import finding_fields

@schemathesis.serializer("application/offset+octet-stream")
def _tus_chunk(_context: Any, value: Any) -> dict[str, bytes]:
    """tus PATCH (and creation-with-upload) bodies: raw bytes."""
    return {"data": value if isinstance(value, bytes) else str(value).encode()}


#: Examples per operation and role: enough to reach past the happy path of each.
EXAMPLES = 8
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def populated(world, phone) -> None:  # type: ignore[no-untyped-def]
    """Something in every list: findings and their orders, an answer, a quarantined mutation."""
    alice, liaison = phone("alice"), phone("liaison")
    for _ in range(2):
        alice.create("finding", finding_fields(world.units[0].id))
    alice.create("finding", finding_fields(world.units[2].id))  # not alice's unit: quarantined
    alice.sync()
    liaison.pull()
    order = next(i for (e, i) in liaison.store.records("order"))
    liaison.command("order", order, "respond", {"response_id": str(uuid.uuid4()), "measures": "已清理"})
    liaison.sync()


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("role", ["sup", "alice"])
def test_generated_requests_make_no_server_error_and_every_answer_conforms(client, served, populated, role, mode):
    schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        # A fresh token per operation: one that logs out or revokes must not blind the rest.
        token = login(client, role).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}"}

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            response = case.call(base_url=served, headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            run()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing to get wrong in a request without input
        except (Exception, BaseExceptionGroup) as exc:  # collected: one run names every failing operation
            failures.append(f"{operation.label}: {exc}")
    assert operations > 60
    assert not failures, "\n\n".join(failures)
