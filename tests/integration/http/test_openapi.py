"""The OpenAPI document says what the server does.

The first tests read the promises one by one off the document the app serves and hold the
server to the ones about error locations. The last two run schemathesis, every check on,
against a ``maestrist serve`` process: embedded with no credential (the local user answers),
and clustered with an API key holding every scope. It must find nothing.
"""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.scripted import Finish, ScriptedWorld, Slow
from domain.identity.scopes import ALL_SCOPES
from tests.conftest import NO_RATE_LIMITS, REDIS_URL
from tests.db import add_user, sqla_ports
from tests.e2e.test_server import RunningServer, clustered, running_server
from tests.factories import create_api_key
from tests.integration.http.conftest import Client, serve
from tests.integration.http.test_conversations import (
    ScriptedRuntimeOverride,
    configure_llm,
    embedded,
    start,
    status_is,
)
from tests.support.ports import closed_port

Document = dict[str, Any]
OPERATION_METHODS = ("get", "put", "post", "patch", "delete")
PROVIDERS = ["github", "gitlab", "bitbucket"]


@pytest.fixture
async def document(embedded_client: Client) -> Document:
    answer = await embedded_client.get("/schema/openapi.json")
    assert answer.status_code == 200
    found: Document = answer.json()
    return found


def operations(document: Document) -> Iterator[tuple[str, str, Document]]:
    for path, item in document["paths"].items():
        for method in OPERATION_METHODS:
            if method in item:
                yield path, method.upper(), item[method]


def operation(document: Document, operation_id: str) -> Document:
    for _path, _method, found in operations(document):
        if found["operationId"] == operation_id:
            return found
    raise AssertionError(f"no operation {operation_id}")


def parameter(document: Document, operation_id: str, name: str) -> Document:
    for found in operation(document, operation_id).get("parameters", []):
        if found["name"] == name:
            schema: Document = found["schema"]
            return schema
    raise AssertionError(f"{operation_id} has no parameter {name}")


def component(document: Document, schema: Document) -> Document:
    """The component ``schema`` refers to, directly or as the one member of an ``allOf``."""
    ref: str = schema["$ref"] if "$ref" in schema else schema["allOf"][0]["$ref"]
    found: Document = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return found


def takes_input(op: Document) -> bool:
    return bool(op.get("parameters")) or "requestBody" in op


async def test_every_error_an_operation_may_give_is_a_problem_document(
    document: Document,
) -> None:
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, method, op in operations(document):
        statuses = set(op["responses"])
        if takes_input(op):
            assert {"400", "422", "503"} <= statuses, (method, path)
        if "requestBody" in op:
            assert "413" in statuses, (method, path)
        if op.get("security"):
            assert {"401", "403", "404", "503"} <= statuses, (method, path)
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")) and path != "/health/ready":
                assert response["content"] == {"application/problem+json": {"schema": problem}}, (
                    method,
                    path,
                    status,
                )
    errors = document["components"]["schemas"]["Problem"]["properties"]["errors"]
    assert errors["oneOf"][0]["items"] == {"$ref": "#/components/schemas/FieldProblem"}
    source = document["components"]["schemas"]["FieldProblem"]["properties"]["source"]
    assert source["enum"] == ["path", "query", "header", "cookie", "body", None]
    readiness = operation(document, "CheckReadiness")["responses"]["503"]
    assert readiness["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Readiness"
    }


@pytest.mark.postgres
@pytest.mark.redis
async def test_the_bearer_credential_is_optional_only_where_the_local_user_serves(
    document: Document, clustered_client: Client
) -> None:
    clustered: Document = (await clustered_client.get("/schema/openapi.json")).json()
    optional: list[dict[str, list[str]]] = [{}, {"bearer": []}]
    required: list[dict[str, list[str]]] = [{"bearer": []}]
    for found, expected in ((document, optional), (clustered, required)):
        assert operation(found, "GetCurrentUser")["security"] == expected
        assert operation(found, "CheckLiveness").get("security") is None


async def test_git_providers_are_an_enum_wherever_they_are_named(document: Document) -> None:
    for operation_id in ("ConnectGitProvider", "DisconnectGitProvider", "GetGitAccount"):
        assert (
            component(document, parameter(document, operation_id, "provider"))["enum"] == PROVIDERS
        )
    for operation_id in ("ListRepositories", "SearchBranches", "ListInstallations"):
        assert (
            component(document, parameter(document, operation_id, "provider"))["enum"] == PROVIDERS
        )
    created = document["components"]["schemas"]["ConversationCreate"]["properties"]
    choices = created["gitProvider"]["oneOf"]
    assert {"$ref": "#/components/schemas/ProviderKind"} in choices


async def test_bounded_query_parameters_document_their_bounds(document: Document) -> None:
    bounds = {
        ("SearchConversations", "limit"): (1, 100),
        ("ListConversationEvents", "limit"): (1, 1000),
        ("ListRepositories", "page"): (1, 10_000),
        ("ListRepositories", "perPage"): (1, 100),
        ("SearchBranches", "perPage"): (1, 100),
    }
    for (operation_id, name), (low, high) in bounds.items():
        schema = parameter(document, operation_id, name)
        assert (schema["minimum"], schema["maximum"]) == (low, high), (operation_id, name)


async def test_every_request_body_refuses_unknown_fields(document: Document) -> None:
    bodies = 0
    for path, method, op in operations(document):
        if "requestBody" in op:
            bodies += 1
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            assert component(document, schema)["additionalProperties"] is False, (
                method,
                path,
            )
    assert bodies >= 10


async def test_accepted_actions_document_no_body(document: Document) -> None:
    """Actions answer 202 with no body; a start answered at once answers with the
    conversation it recorded."""
    accepted = {
        op["operationId"]: op["responses"]["202"]
        for _p, _m, op in operations(document)
        if "202" in op["responses"]
    }
    started = accepted.pop("StartConversation")
    assert started["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ConversationOut"
    }
    assert len(accepted) >= 5
    for operation, answer in accepted.items():
        assert "content" not in answer, operation


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "expected"),
    [
        ("GET", "/api/conversations?limit=abc", None, {}, ("limit", "query")),
        ("GET", "/api/conversations?limit=0", None, {}, ("limit", "query")),
        (
            "GET",
            "/api/user/repositories?provider=github&perPage=101",
            None,
            {},
            ("perPage", "query"),
        ),
        ("GET", "/api/user/repositories?provider=svn", None, {}, ("provider", "query")),
        ("PUT", "/api/user/git-providers/svn", {"token": "t"}, {}, ("provider", "path")),
        ("GET", "/api/conversations", None, {"X-Org-Id": "not-an-id"}, ("X-Org-Id", "header")),
        ("POST", "/api/orgs", {"name": "Acme", "colour": "red"}, {}, ("colour", "body")),
        ("POST", "/api/conversations", {"gitProvider": "svn"}, {}, ("gitProvider", "body")),
        ("POST", "/api/conversations", {"images": ["ftp://x"]}, {}, ("images", "body")),
        ("POST", "/api/settings", {"analyticsConsent": 0}, {}, ("analyticsConsent", "body")),
        ("POST", "/api/settings", {"confirmationMode": "true"}, {}, ("confirmationMode", "body")),
        ("POST", "/api/settings", {"maxIterations": "5"}, {}, ("maxIterations", "body")),
    ],
)
async def test_a_refused_input_is_named_with_where_it_was(
    embedded_client: Client,
    method: str,
    path: str,
    body: object,
    headers: dict[str, str],
    expected: tuple[str, str],
) -> None:
    answer = await embedded_client.request(method, path, json=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert [(e.get("field"), e.get("source")) for e in answer.json()["errors"]] == [expected]


async def test_options_lists_every_method_of_its_path(embedded_client: Client) -> None:
    for path, methods in {
        "/api/conversations": "GET, OPTIONS, POST",
        "/api/orgs": "GET, OPTIONS, POST",
        "/api/secrets/NAME": "DELETE, OPTIONS, PUT",
        "/api/user/git-providers/github": "DELETE, OPTIONS, PUT",
    }.items():
        answer = await embedded_client.options(path)
        assert answer.status_code == 204
        assert answer.headers["allow"] == methods, path


async def test_an_accepted_action_answers_an_empty_body(tmp_path: Path) -> None:
    world = ScriptedWorld(default=Slow(seconds=30, then=Finish()))
    async with serve(embedded(tmp_path), ScriptedRuntimeOverride(world)) as client:
        await configure_llm(client)
        cid = (await start(client, message="Take your time"))["id"]
        await status_is(client, cid, "running")
        stopped = await client.post(f"/api/conversations/{cid}/stop")
        assert stopped.status_code == 202
        assert stopped.content == b""


# --- schemathesis against the production server ------------------------------------------------

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def accepting(*statuses: str) -> str:
    """positive_data_acceptance's default statuses, plus ``statuses``, as a TOML array."""
    return json.dumps(["2xx", "3xx", "401", "403", "404", "409", "429", "5xx", *statuses])


# The first [[operations]] entry that matches an operation configures it.
CONFIG = f"""
[checks]
# All of them, as `--checks all`. What follows only widens what a check accepts where the
# document cannot say all the server does, each saying why.
enabled = true

[[operations]]
# No LLM is configured in this run: starting a conversation is the documented
# 400 llm-not-configured (docs/conversations.md).
include-operation-id = "StartConversation"
checks.positive_data_acceptance.expected-statuses = {accepting("400", "422")}

[[operations]]
# Connecting checks the token at the git provider. The providers point at a closed port here,
# so the server rightly answers the documented 503, neither a success nor a failure of its own.
include-operation-id = "ConnectGitProvider"
checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "503"]
checks.positive_data_acceptance.expected-statuses = {accepting("422")}

[[operations]]
# A body's fields are documented with their types, bounds and enums; the rules a JSON Schema
# cannot state exactly (an email address, a BCP 47 tag, visible characters, an expiry within a
# year) the use cases check, refusing with a 422 that names the field and its source.
include-method = ["POST", "PUT", "PATCH"]
checks.positive_data_acceptance.expected-statuses = {accepting("422")}

[[operations]]
# An opaque page cursor is any string to the document, but only one the server handed out is
# accepted: a made-up one is rightly a 422, which no schema can rule out. installationId names
# a GitHub App installation, so another provider refuses it: a rule between two parameters.
include-operation-id = ["SearchConversations", "ListAuditEvents", "ListRepositories"]
checks.positive_data_acceptance.expected-statuses = {accepting("422")}

[[operations]]
# A usage window ends no earlier than it starts and spans at most 366 days: a rule between
# `since` and `until` (and today, their default) that no schema can state.
include-operation-id = ["ShowMyUsage", "ShowOrgUsage"]
checks.positive_data_acceptance.expected-statuses = {accepting("422")}
"""


def unreachable_providers() -> dict[str, str]:
    """Git providers at a closed port: connecting one answers the documented 503."""
    unreachable = f"http://127.0.0.1:{closed_port()}"
    return {
        "MAESTRIST_ACCESS_LOG": "false",
        **NO_RATE_LIMITS,
        "MAESTRIST_GITHUB_URL": unreachable,
        "MAESTRIST_GITLAB_URL": unreachable,
        "MAESTRIST_BITBUCKET_URL": unreachable,
    }


async def api_token(url: str) -> str:
    """An API key of a new user's personal organization, holding every scope."""
    user = await add_user(url, "schemathesis")
    async with sqla_ports(url) as open_ports, open_ports() as ports:
        personal = (await ports.orgs.list_for_member(user.id_))[0].organization
        key, token = create_api_key(user, personal.id_, scopes=ALL_SCOPES, expires_at=None)
        await ports.api_keys.add(key)
        await ports.uow.commit()
    return str(token)


def schemathesis(server: RunningServer, config: Path, *extra: str) -> None:
    """Every phase but the stateful one, whose links the document does not declare."""
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(config),
        "run",
        f"{server.base_url}/schema/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "5",
        "--workers",
        "1",
        "--seed",
        "9",
        "--output-truncate",
        "false",
        *extra,
    ]
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, env=env, cwd=config.parent
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.server
def test_schemathesis_finds_nothing_serving_the_local_user(tmp_path: Path) -> None:
    """The embedded binding, with no credential: the local user answers."""
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG, encoding="utf-8")
    settings = {"MAESTRIST_DATA_DIR": str(tmp_path / "data"), **unreachable_providers()}
    with running_server(tmp_path / "server.log", settings) as server:
        schemathesis(server, config)


@pytest.mark.server
@pytest.mark.postgres
@pytest.mark.redis
def test_schemathesis_finds_nothing_with_an_api_key_holding_every_scope(
    tmp_path: Path, postgres_url: str
) -> None:
    """The clustered binding, where every API route requires the credential: checks that a
    missing or wrong one is refused run too."""
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG, encoding="utf-8")
    token = asyncio.run(api_token(postgres_url))
    settings = {**clustered(tmp_path, postgres_url, REDIS_URL), **unreachable_providers()}
    with running_server(tmp_path / "server.log", settings) as server:
        bearer = {"Authorization": f"Bearer {token}"}
        assert server.http.get("/api/user/me", headers=bearer).is_success
        schemathesis(server, config, "--header", f"Authorization: Bearer {token}")
