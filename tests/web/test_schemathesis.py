"""Generated requests against the OpenAPI document: no 500, every answer as documented.

Each operation's Hypothesis strategy is driven from one ordinary test, so the app and its
database come from a fixture (``schemathesis.pytest.from_fixture`` does not run under the
pytest here); the examples per operation are few, to keep the run under a minute.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from tests.web.conftest import app_for


def test_api_never_answers_500_and_answers_as_documented(sqlite_db):
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app_for(sqlite_db))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 11  # every path of test_api's openapi test
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case) -> None:
            # A range whose start is after its end is a 400 the document cannot express (it is
            # a rule between two parameters), so "valid data must be accepted" cannot apply.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])
        check()
