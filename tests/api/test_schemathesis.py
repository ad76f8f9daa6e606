"""Hotline's API fuzzed against its own OpenAPI description by schemathesis, over real HTTP to a live test server,
with a personal token: every operation, valid and invalid input (positive and negative modes; the examples,
coverage and fuzzing phases), bounded in examples per operation and by a time limit on the whole run.

It fails on any response that is a 500, whose status, content type, headers or body the description does not
say, or that accepts input the description rules out. An administrator's token is used so one run reaches
every operation: writes (comms) and bulk lists (analysts) alike.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
          "response_schema_conformance,negative_data_rejection")
EXAMPLES_PER_OPERATION = 10
TIME_LIMIT_S = 120  # the run takes 10-20 s here; a hang must fail the test, not stall CI


def test_it_answers_every_operation_as_its_description_says(live_server, world, token_for, make_user, settings,
                                                            tmp_path):
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000  # the fuzzer must reach the API, not its rate limit
    admin = make_user(username="fuzz-admin", role="admin")
    token = token_for(admin)
    # Path parameters aim at real objects, so operations get past their 404 to the code behind; unknown ids and
    # malformed paths are the isolation and query tests' business (tests/api/test_isolation.py).
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'[parameters]\n"path.id" = {world.incident_a.pk}\n"path.slug" = "{world.brand_a.slug}"\n')
    st = Path(sys.executable).with_name("st")
    command = [str(st), "--config-file", str(config), "run", f"{live_server.url}/api/v1/schema/",
               "--header", f"Authorization: Bearer {token}",
               # One connection per request: on a kept-alive connection the test server's small writes meet the
               # client's delayed ACK and every call waits ~40 ms, which made the run 8 times longer.
               "--header", "Connection: close", "--checks", CHECKS,
               "--max-examples", str(EXAMPLES_PER_OPERATION), "--phases", "examples,coverage,fuzzing",
               "--mode", "all", "--seed", "2026", "--workers", "1", "--no-color", "--request-timeout", "30",
               "--report", "junit", "--report-dir", str(tmp_path / "report")]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=TIME_LIMIT_S, cwd=tmp_path)
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"schemathesis ran over {TIME_LIMIT_S} s:\n{(expired.stdout or '')[-4000:]}")
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"schemathesis found problems:\n{output[-12000:]}"
    assert "Selected: 16/16" in output and "Tested: 16" in output, output[-3000:]
