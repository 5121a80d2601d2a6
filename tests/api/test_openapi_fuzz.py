"""Schemathesis against /api/v1/openapi.json (issue 17, item 4): generated requests to every
operation, bounded examples, in-process on the test database (the normal pytest run, so .ci/run runs
it): no 500, every response matches its documented schema and status code.

The document is read from an app built here (schemathesis parametrizes at collection time; its lazy
fixture loader does not run under pytest 9); the requests go to the test session's app."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from profreg import create_app
from tests.api.conftest import auth

MAX_EXAMPLES = 12

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", create_app("testing"))


@pytest.fixture
def fuzzed_app(app, world, tokens):
    app.config["API_RATE_LIMIT"] = "100000/minute"
    yield app
    app.config["API_RATE_LIMIT"] = "600/minute"


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_conforms_to_its_openapi_document(case, fuzzed_app, tokens):
    case.operation.schema.app = fuzzed_app
    response = case.call(headers=auth(tokens["hr"]))
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance,
                                             status_code_conformance])
