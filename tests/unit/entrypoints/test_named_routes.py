"""Every ``METHOD /path`` the code or the documentation tells people to call is a real route.

Error messages and the README name routes as advice ("set it with POST /api/settings"); a route
that moved or a method that was never right would send people to a 404 or a 405.
"""

import re
from pathlib import Path

import pytest
from litestar.routes import HTTPRoute

from domain.conversations.errors import LlmNotConfiguredError
from entrypoints.ioc import create_app
from entrypoints.settings import Settings
from tests.conftest import TEST_ENCRYPTION_KEYS, TEST_SIGNING_KEYS

ROOT = Path(__file__).resolve().parents[3]
NAMED = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) (/(?:api|health|ws|schema)\b[\w{}|/.:-]*)")
"""A method and a path of ours; a path ends at a query string, a space or a backtick."""
CURL = re.compile(r"\bcurl -s(?: -X([A-Z]+))? localhost:\d+(/[\w{}|/.:-]*)")
"""A request the README's examples make; without ``-X`` a GET."""
PARAMETER = re.compile(r"\{[^}]*\}")

# Every route exists only with sign-in and Keycloak on; building the app connects to nothing.
EVERY_ROUTE = {
    "MAESTRIST_BINDING": "clustered",
    "MAESTRIST_DATABASE_URL": "postgresql+asyncpg://maestrist@127.0.0.1:1/maestrist",
    "MAESTRIST_REDIS_URL": "redis://127.0.0.1:1/0",
    "MAESTRIST_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEYS,
    "MAESTRIST_SIGNING_KEYS": TEST_SIGNING_KEYS,
    "MAESTRIST_OIDC_ISSUER": "https://sso.example.com/realms/maestrist",
    "MAESTRIST_OIDC_CLIENT_ID": "maestrist",
    "MAESTRIST_OIDC_CLIENT_SECRET": "client-secret",
    "MAESTRIST_KEYCLOAK_URL": "https://sso.example.com",
    "MAESTRIST_KEYCLOAK_REALM": "maestrist",
    "MAESTRIST_RUNTIME": "scripted",
}


def _shape(path: str) -> str:
    """``/api/orgs/{org_id:uuid}/members`` and ``/api/orgs/{id}/members`` alike."""
    return PARAMETER.sub("{}", path.rstrip(".,:")).rstrip("/") or "/"


Routes = list[tuple[str, re.Pattern[str]]]


@pytest.fixture(scope="module")
def routes() -> Routes:
    """Each method and route of the app, a path parameter matching any one segment."""
    app = create_app(Settings.from_env(EVERY_ROUTE))
    return [
        (method, re.compile(re.escape(_shape(route.path)).replace(r"\{\}", "[^/]+")))
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for method in route.methods
    ]


def _exists(named: tuple[str, str], routes: Routes) -> bool:
    method, path = named
    return any(method == known and pattern.fullmatch(path) for known, pattern in routes)


def _named_in(text: str) -> list[tuple[str, str]]:
    return [(match[1], _shape(match[2])) for match in NAMED.finditer(text)] + [
        (match[1] or "GET", _shape(match[2])) for match in CURL.finditer(text)
    ]


def _sources() -> list[Path]:
    """The source files and documents that name a route."""
    every = [*(ROOT / "src").rglob("*.py"), ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
    return sorted(path for path in every if _named_in(path.read_text()))


def test_the_readme_examples_are_found() -> None:
    examples = _named_in((ROOT / "README.md").read_text())
    assert {("GET", "/api/user/me"), ("POST", "/api/settings"), ("POST", "/api/orgs")} <= set(
        examples
    )


def test_the_missing_llm_message_names_a_route_that_takes_the_settings(
    routes: Routes,
) -> None:
    named = _named_in(LlmNotConfiguredError(("llmModel", "llmApiKey")).message)
    assert named
    assert all(_exists(one, routes) for one in named), named


@pytest.mark.parametrize("source", _sources(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_route_named_in_code_and_documents_exists(source: Path, routes: Routes) -> None:
    missing = [named for named in _named_in(source.read_text()) if not _exists(named, routes)]
    assert not missing, f"{source.name} names routes the app does not have: {missing}"
