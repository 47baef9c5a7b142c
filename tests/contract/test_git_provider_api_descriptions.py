"""Our git-host fakes and adapters against what the providers publish about their APIs.

The contract suite runs the adapters against our own loopback fakes, so a misreading of a
provider's API could be shared by both. Here every port method of the GitHub and Bitbucket
adapters runs against its fake, each request and answer is recorded, and each is checked
against the provider's published description (`tests/support/provider_apis.py`):

- the method and path are a documented operation: every request the adapters make, and every
  path written in their code must be among those requests, so a new call cannot skip the
  checks;
- every query parameter they send is documented, with a documented value;
- the fake's answer has a documented status and validates against its documented schema;
- every field the adapters read (the msgspec types they decode answers into, recorded as they
  decode) is documented, with a type they can decode (a documented ``null`` included).

GitHub's GraphQL branch search is validated against GitHub's public schema, and the fake's
answer must be exactly what that schema makes of the query. Recorded exchanges with the real
api.github.com (``@octokit/fixtures``) are replayed to the adapter's parsing where they hold
objects our endpoints answer with.

Sources: GitHub's own OpenAPI descriptions (of api.github.com, and of the oldest Enterprise
Server release they cover, as the adapter serves both) and its GraphQL schema; for Bitbucket
Cloud the ``swagger.json`` Bitbucket publishes (as collected, converted to OpenAPI 3.0, by
APIs.guru). GitLab publishes no machine-readable description on npm or PyPI (its ``openapi_v2``
document lives only in its own repository), so the GitLab fake and adapter are not checked
here.

Gaps in the descriptions, and how they are taken: Bitbucket documents ``page``/``pagelen``
paging in its guide, not per operation, so they count as documented where the answer is one of
its paginated envelopes (which have both fields); it documents no success answer for
``/user/emails``, which is held as an exemption until it does; and having come from Swagger
2.0, it can say nothing is ``null``, so the Bitbucket fake leaves out what it has no value for.
The OAuth token endpoints are in neither description and are not checked.

Like the sign-in tests, this needs Node.js with npm: the descriptions are npm packages,
installed on first use from ``tests/support/provider_api_descriptions/package-lock.json``.
"""

import ast
import asyncio
import functools
import inspect
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import msgspec
import pytest
from graphql import graphql_sync, parse, validate
from graphql.type import GraphQLObjectType

from adapters.git_providers import CloudUrls, HttpxGitProviders, create_http_client, paged_rest
from adapters.git_providers import bitbucket as bitbucket_adapter
from adapters.git_providers import github as github_adapter
from adapters.git_providers.github import _REFS_QUERY
from adapters.git_providers.http import ProviderHttp
from application.ports.git_provider import GitInstallations, GitProvider
from domain.git.entities import RepoSort
from domain.git.errors import ProviderReconnectRequiredError
from domain.git.providers import GitHost, ProviderKind
from domain.shared.errors import NotFoundError
from tests.fakes.git_hosts import FakeGitHostState, run_fake_bitbucket, run_fake_github
from tests.support.provider_apis import (
    OpenApi,
    Operation,
    bitbucket_openapi,
    github_enterprise_openapi,
    github_graphql_schema,
    github_openapi,
    octokit_fixture,
    read_field_problems,
)

pytestmark = pytest.mark.provider_apis

ALICE = "alice"
PROVIDERS = ["github", "github-enterprise", "bitbucket"]


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    """Relative to the API's base URL, as sent (percent-escapes kept)."""
    query: list[tuple[str, str]]
    body: Any
    status: int
    answer: Any
    graphql: bool


@dataclass
class Recording:
    api_prefix: str
    graphql_path: str
    exchanges: list[Exchange] = field(default_factory=list)
    decoded: list[tuple[Exchange, Any]] = field(default_factory=list)
    exercised: set[str] = field(default_factory=set)
    _answered: list[tuple[httpx.Response, Exchange]] = field(default_factory=list)

    async def on_response(self, response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        path = request.url.raw_path.decode().split("?", 1)[0]
        graphql = path == self.graphql_path
        if not graphql:
            assert path.startswith(self.api_prefix), path
            path = path.removeprefix(self.api_prefix)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        body = json.loads(request.content) if request.content else None
        exchange = Exchange(
            method=request.method,
            path=path,
            query=parse_qsl(request.url.query.decode(), keep_blank_values=True),
            body=body,
            status=response.status_code,
            answer=answer,
            graphql=graphql,
        )
        self.exchanges.append(exchange)
        self._answered.append((response, exchange))

    def exchange_of(self, response: httpx.Response) -> Exchange:
        for answered, exchange in self._answered:
            if answered is response:
                return exchange
        raise AssertionError(f"no recorded exchange for {response.request.url}")


@dataclass
class World:
    kind: str
    api: OpenApi
    recording: Recording


# ---- exercising every port method against the fakes ----------------------------------------


def _port_methods(*ports: type) -> set[str]:
    return {
        name
        for port in ports
        for name, member in inspect.getmembers(port)
        if getattr(member, "__isabstractmethod__", False) and inspect.iscoroutinefunction(member)
    }


Call = Callable[[], Awaitable[object]]


async def _run_calls(calls: dict[str, list[Call]], recording: Recording) -> None:
    for name, runs in calls.items():
        for run in runs:
            await run()
        recording.exercised.add(name)


async def _expect(error: type[Exception], call: Awaitable[object]) -> None:
    with pytest.raises(error):
        await call


def _seed_github(state: FakeGitHostState) -> None:
    state.add_user(ALICE, name="Alice", email="alice@example.com")
    state.add_user("acme", organization=True, members=[ALICE])
    state.add_repo(f"{ALICE}/app", branches=["main", "feature/login"], stars=3)
    state.add_branch(f"{ALICE}/app", "release", protected=True)
    state.add_repo(f"{ALICE}/empty", default_branch=None, branches=[])
    state.add_repo("acme/api", members=[ALICE], private=False, installation_id=7)
    state.add_installation(7, "acme", members=[ALICE])
    state.add_installation(8, "bigcorp", account_type="Enterprise", members=[ALICE])


def _seed_bitbucket(state: FakeGitHostState) -> None:
    state.add_user(ALICE, name="Alice", email="alice@example.com")
    state.add_user("nomail")
    state.add_user("acme", organization=True, members=[ALICE])
    state.add_repo(f"{ALICE}/app", branches=["main", "feature/login"])
    state.add_repo(f"{ALICE}/empty", default_branch=None, branches=[])
    state.add_repo("acme/api", members=[ALICE], private=False)


def _provider_calls(provider: GitProvider, repo: str) -> dict[str, list[Call]]:
    owner = repo.split("/", 1)[0]
    return {
        "get_account": [provider.get_account],
        "list_repositories": [
            functools.partial(provider.list_repositories, page=1, per_page=2, sort=sort)
            for sort in RepoSort
        ],
        "search_repositories": [
            functools.partial(provider.search_repositories, "ap", page=1, per_page=2, sort=sort)
            for sort in RepoSort
        ],
        "list_branches": [
            lambda: provider.list_branches(repo, page=1, per_page=1),
            lambda: provider.list_branches(f"{owner}/empty", page=1, per_page=10),
            lambda: _expect(
                NotFoundError, provider.list_branches(f"{owner}/nope", page=1, per_page=5)
            ),
        ],
        "search_branches": [
            lambda: provider.search_branches(repo, "login", per_page=10),
            lambda: _expect(
                NotFoundError, provider.search_branches(f"{owner}/nope", "x", per_page=5)
            ),
        ],
    }


async def _exercise(provider_kind: str) -> World:
    """Every port method of the provider's adapter, run against its fake and recorded."""
    runs: dict[str, Callable[[], AbstractContextManager[Any]]] = {
        "github": run_fake_github,
        "bitbucket": run_fake_bitbucket,
    }
    decoded: list[tuple[httpx.Response, Any]] = []
    original = ProviderHttp.decode

    def recording_decode(self: ProviderHttp, response: httpx.Response, type_: Any) -> Any:
        decoded.append((response, type_))
        return original(self, response, type_)

    kind = ProviderKind(provider_kind.split("-", 1)[0])
    with runs[kind.value]() as fake, pytest.MonkeyPatch.context() as patch:
        patch.setattr(ProviderHttp, "decode", recording_decode)
        if kind is ProviderKind.GITHUB:
            _seed_github(fake)
            host, urls = GitHost(kind, fake.base_url), CloudUrls()
            recording = Recording(api_prefix="/api/v3", graphql_path="/api/graphql")
            enterprise = provider_kind.endswith("-enterprise")
            api = github_enterprise_openapi() if enterprise else github_openapi()
        else:
            _seed_bitbucket(fake)
            host, urls = GitHost(kind), CloudUrls(bitbucket=fake.base_url)
            recording = Recording(api_prefix="/!api/2.0", graphql_path="")
            api = bitbucket_openapi()
        client = create_http_client(timeout_s=10.0, connect_timeout_s=5.0)
        client.event_hooks = {"request": [], "response": [recording.on_response]}
        try:
            providers = HttpxGitProviders(client, urls)
            provider = providers.open(host, fake.issue_token(ALICE))
            calls = _provider_calls(provider, f"{ALICE}/app")
            calls["get_account"].append(
                lambda: _expect(
                    ProviderReconnectRequiredError, providers.open(host, "wrong").get_account()
                )
            )
            ports: tuple[type, ...] = (GitProvider,)
            installations = providers.installations(host, fake.issue_token(ALICE))
            if installations is not None:
                ports = (GitProvider, GitInstallations)
                calls["list_installations"] = [installations.list_installations]
                calls["list_installation_repositories"] = [
                    lambda: installations.list_installation_repositories("7", page=1, per_page=5),
                    lambda: _expect(
                        NotFoundError,
                        installations.list_installation_repositories("99", page=1, per_page=5),
                    ),
                ]
            if kind is ProviderKind.BITBUCKET:
                without_email = providers.open(host, fake.issue_token("nomail"))
                calls["get_account"].append(without_email.get_account)
            await _run_calls(calls, recording)
            assert recording.exercised == _port_methods(*ports), "a port method is not exercised"
            for response, type_ in decoded:
                recording.decoded.append((recording.exchange_of(response), type_))
            return World(provider_kind, api, recording)
        finally:
            await client.aclose()


@pytest.fixture(scope="module", params=PROVIDERS)
def world(request: pytest.FixtureRequest) -> World:
    """Recorded once per provider for the module: the checks only read the recording."""
    return asyncio.run(_exercise(str(request.param)))


@pytest.fixture(scope="module")
def github_world() -> World:
    return asyncio.run(_exercise("github"))


def _rest(world: World) -> list[Exchange]:
    exchanges = [e for e in world.recording.exchanges if not e.graphql]
    assert exchanges
    return exchanges


def _operation(world: World, exchange: Exchange) -> Operation:
    operation = world.api.operation(exchange.method, exchange.path)
    assert operation is not None, f"{exchange.method} {exchange.path} is no documented operation"
    return operation


# ---- the checks ------------------------------------------------------------------------------


def test_every_request_the_adapter_makes_is_a_documented_operation(world: World) -> None:
    undocumented = [
        f"{e.method} {e.path}"
        for e in _rest(world)
        if world.api.operation(e.method, e.path) is None
    ]
    assert not undocumented


_ADAPTER_MODULES = {
    "github": [github_adapter],
    "github-enterprise": [github_adapter],
    "bitbucket": [bitbucket_adapter, paged_rest],
}


def _path_literals(module: ModuleType) -> set[str]:
    """The API paths written in an adapter module: string literals and f-strings that start
    with ``/``, each interpolation as ``{}``."""
    tree = ast.parse(inspect.getsource(module))
    inside_fstrings: set[int] = set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            inside_fstrings.update(id(part) for part in node.values)
            text = "".join(
                str(part.value) if isinstance(part, ast.Constant) else "{}" for part in node.values
            )
            if text.startswith("/"):
                found.add(text)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and id(node) not in inside_fstrings
            and isinstance(node.value, str)
            and node.value.startswith("/")
        ):
            found.add(node.value)
    return found


def test_every_path_written_in_the_adapter_is_requested_and_so_checked(world: World) -> None:
    """A path in the adapter's code that no exercised port method requested would escape the
    checks here: each must match a request the exercise made."""
    requested = [unquote(e.path) for e in _rest(world)]
    literals = set().union(*(_path_literals(m) for m in _ADAPTER_MODULES[world.kind]))
    assert literals
    missed = []
    for literal in sorted(literals):
        pattern = "[^/]+".join(re.escape(part) for part in literal.split("{}"))
        if not any(re.fullmatch(pattern, path) for path in requested):
            missed.append(literal)
    assert not missed


def _paging_parameters(world: World, operation: Operation) -> set[str]:
    """Bitbucket's ``page`` and ``pagelen``, where the answer is a paginated envelope."""
    if world.kind != "bitbucket":
        return set()
    schema = world.api.response_schema(operation, 200)
    if schema is None:
        return set()
    properties = world.api.variants(schema)[0].get("properties", {})
    return {"page", "pagelen"} if {"page", "pagelen", "values"} <= properties.keys() else set()


def _parameter_value(schema: Mapping[str, Any], raw: str) -> Any:
    """A query string value as the JSON value its documented schema describes."""
    kind = schema.get("type")
    if kind == "integer" and raw.lstrip("-").isdigit():
        return int(raw)
    if kind == "boolean" and raw in {"true", "false"}:
        return raw == "true"
    return raw


def test_every_query_parameter_sent_is_documented_with_a_documented_value(world: World) -> None:
    problems: list[str] = []
    for exchange in _rest(world):
        operation = _operation(world, exchange)
        documented = operation.query_parameters()
        paging = _paging_parameters(world, operation)
        for name, raw in exchange.query:
            if name in paging:
                continue
            parameter = documented.get(name)
            if parameter is None:
                problems.append(f"{operation.template}: ?{name} is not documented")
                continue
            schema = parameter.get("schema")
            if schema is None:
                continue
            value = _parameter_value(world.api.resolve(schema), raw)
            problems.extend(
                f"{operation.template}: ?{name}={raw}: {error.message}"
                for error in world.api.validator(schema).iter_errors(value)
            )
    assert not problems, "\n".join(problems)


def test_the_fakes_answers_validate_against_the_documented_schemas(world: World) -> None:
    problems: list[str] = []
    for exchange in _rest(world):
        operation = _operation(world, exchange)
        where = f"{exchange.method} {operation.template} -> {exchange.status}"
        if not world.api.documents_status(operation, exchange.status):
            problems.append(f"{where}: status not documented")
            continue
        schema = world.api.response_schema(operation, exchange.status)
        if schema is None:
            if exchange.status < 300:
                problems.append(f"{where}: no documented JSON body")
            continue
        for error in world.api.validator(schema).iter_errors(exchange.answer):
            path = "/".join(str(p) for p in error.instance_path)
            problems.append(f"{where} at /{path}: {error.message[:300]}")
    expected = [
        f"{method} {path} -> 200: status not documented"
        for method, path in _UNDOCUMENTED_SUCCESS.get(world.kind, [])
    ]
    assert sorted(set(problems)) == expected, "\n".join(problems)


_UNDOCUMENTED_SUCCESS = {"bitbucket": [("GET", "/user/emails")]}
"""Operations whose success answer the description leaves out, so it cannot be checked."""


def test_the_exempt_answers_are_still_undocumented(world: World) -> None:
    """The one answer the checks let through, Bitbucket's list of the user's email addresses,
    which its description documents with no success response. When it is documented, this
    fails: drop the exemption so the answer is checked."""
    for method, path in _UNDOCUMENTED_SUCCESS.get(world.kind, []):
        operation = world.api.operation(method, path)
        assert operation is not None
        assert not world.api.documents_status(operation, 200)
        assert world.api.response_schema(operation, 200) is None
        assert any(e.path == path for e in _rest(world))


def test_every_field_the_adapter_reads_is_documented_with_a_readable_type(world: World) -> None:
    problems: list[str] = []
    checked = 0
    for exchange, type_ in world.recording.decoded:
        if exchange.graphql:
            continue
        operation = _operation(world, exchange)
        schema = world.api.response_schema(operation, exchange.status)
        if schema is None:
            exempt = (exchange.method, operation.template) in _UNDOCUMENTED_SUCCESS.get(
                world.kind, []
            )
            if not exempt:
                problems.append(f"{operation.template}: read, but no answer is documented")
            continue
        checked += 1
        problems.extend(
            f"{operation.template} ({_name(type_)}): {problem}"
            for problem in read_field_problems(world.api, type_, schema)
        )
    assert checked
    assert not problems, "\n".join(problems)


def _name(type_: Any) -> str:
    return getattr(type_, "__name__", None) or str(type_)


# ---- GitHub's GraphQL branch search -------------------------------------------------------


def test_the_branch_search_query_is_valid_against_githubs_schema() -> None:
    assert validate(github_graphql_schema(), parse(_REFS_QUERY)) == []


def _type_by_fields(schema: Any) -> Callable[..., str | None]:
    def resolve(value: Any, info: Any, abstract_type: Any) -> str | None:
        if isinstance(value, dict) and "__typename" in value:
            return str(value["__typename"])
        keys = set(value) if isinstance(value, dict) else set()
        fitting = [
            t.name
            for t in schema.get_possible_types(abstract_type)
            if isinstance(t, GraphQLObjectType) and keys <= set(t.fields)
        ]
        return fitting[0] if len(fitting) == 1 else None

    return resolve


def test_the_fakes_graphql_answer_is_what_githubs_schema_makes_of_the_query(
    github_world: World,
) -> None:
    schema = github_graphql_schema()
    answers = [
        e
        for e in github_world.recording.exchanges
        if e.graphql and (e.answer.get("data") or {}).get("repository")
    ]
    assert answers
    for exchange in answers:
        executed = graphql_sync(
            schema,
            exchange.body["query"],
            root_value=exchange.answer["data"],
            variable_values=exchange.body["variables"],
            type_resolver=_type_by_fields(schema),
        )
        assert executed.errors is None, executed.errors
        assert executed.data == exchange.answer["data"]


# ---- recorded exchanges with the real api.github.com ---------------------------------------


async def test_recorded_github_answers_parse_as_the_adapter_expects() -> None:
    """A repository and an organization as api.github.com answered them, and its ``Link``
    paging header, served to the adapter in place of the fake's."""
    (repository,) = [e["response"] for e in octokit_fixture("get-repository")]
    (organization,) = [e["response"] for e in octokit_fixture("get-organization")]
    link = octokit_fixture("paginate-issues")[0]["headers"]["link"]
    user = {**repository["owner"], "type": "User", "login": "octocat", "id": 1}

    def answer(request: httpx.Request) -> httpx.Response:
        match urlsplit(str(request.url)).path:
            case "/user/repos":
                return httpx.Response(200, json=[repository], headers={"link": link})
            case "/user":
                return httpx.Response(200, json=user)
            case "/user/orgs":
                return httpx.Response(200, json=[organization])
            case "/search/repositories":
                query = dict(parse_qsl(request.url.query.decode()))["q"]
                assert query.split()[-2:] == ["user:octocat", f"org:{organization['login']}"]
                body = {"total_count": 1, "incomplete_results": False, "items": [repository]}
                return httpx.Response(200, json=body)
        return httpx.Response(404, json={"message": "Not Found"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        sut = HttpxGitProviders(client).open(GitHost(ProviderKind.GITHUB), "token")
        listed = await sut.list_repositories(page=1, per_page=3, sort=RepoSort.PUSHED)
        found = await sut.search_repositories("hello", page=1, per_page=3, sort=RepoSort.NAME)

    assert listed.next_page == 2
    for page in (listed, found):
        (repo,) = page.items
        assert repo.id_ == str(repository["id"])
        assert repo.full_name == repository["full_name"]
        assert repo.is_private is repository["private"]
        assert repo.default_branch == repository["default_branch"]
        assert repo.stars == repository["stargazers_count"]
        assert repo.owner_type == "organization"
        assert repo.pushed_at is not None
        assert (
            msgspec.json.encode(repo.pushed_at)
            .decode()
            .strip('"')
            .startswith(repository["pushed_at"][:19])
        )


# ---- the checks themselves ------------------------------------------------------------------


class _Misread(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    full_name: str
    pushed_at: datetime
    stars: int = 0
    owner: dict[str, object] | None = None


def test_the_field_check_reports_undocumented_fields_wrong_types_and_refused_nulls() -> None:
    api = github_openapi()
    operation = api.operation("GET", "/user/repos")
    assert operation is not None
    schema = api.response_schema(operation, 200)
    assert schema is not None

    problems = read_field_problems(api, list[_Misread], schema)

    assert sorted(problems) == [
        "$[].id: documented as integer, read as StrType",
        "$[].pushed_at: documented as nullable, but the adapter refuses null",
        "$[].stars: read by the adapter, not documented",
    ]


def test_nullable_becomes_a_null_alternative_in_the_json_schema() -> None:
    api = github_openapi()
    nullable = api.validator({"type": "string", "nullable": True, "enum": ["a"]})
    plain = api.validator({"type": "string"})
    composed = api.validator(
        {"allOf": [{"$ref": "#/components/schemas/simple-user"}]} | {"nullable": True}
    )

    assert nullable.is_valid(None)
    assert nullable.is_valid("a")
    assert not nullable.is_valid("b")
    assert not plain.is_valid(None)
    assert composed.is_valid(None)
    assert not composed.is_valid({"login": "x"})
