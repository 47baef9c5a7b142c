"""Loopback fakes of GitHub, GitLab and Bitbucket Cloud that speak their real HTTP shapes.

Each runs a stdlib ``ThreadingHTTPServer`` on a free port of 127.0.0.1 for a ``with`` block::

    with run_fake_github() as github:            # also run_fake_gitlab(), run_fake_bitbucket()
        github.add_user("alice", name="Alice", email="alice@example.com")
        token = github.issue_token("alice", expires_in=3600)      # None: never expires
        refresh = github.issue_refresh_token("alice")             # works once, then rotates
        github.add_repo("alice/app", branches=["main", "dev"])    # owner sees it
        github.add_repo("acme/api", members=["alice"], installation_id=7)
        github.add_installation(7, "acme", members=["alice"])
        github.base_url          # http://127.0.0.1:<port>: the web URL of the host

Point the adapters at it either as the public cloud (``CloudUrls(github=github.base_url)``)
or as a self-hosted instance (``GitHost(ProviderKind.GITHUB, github.base_url)``, GitHub
Enterprise / self-managed GitLab; Bitbucket is cloud-only). Paths served:

- GitHub: REST under ``/api/v3`` (``/user``, ``/user/repos``, ``/user/orgs``,
  ``/user/installations``, ``/user/installations/{id}/repositories``,
  ``/search/repositories`` (``user:``/``org:`` qualifiers are alternatives),
  ``/repos/{owner}/{repo}/branches``; ``Link`` paging), GraphQL ``POST /api/graphql`` (the
  ``refs(query:)`` branch search only), OAuth ``POST /login/oauth/access_token`` (errors as
  200 ``{"error": "bad_refresh_token"}``, JSON with ``Accept: application/json``).
- GitLab: ``/api/v4`` (``/user``, ``/projects``, ``/projects/{id or encoded path}/repository/
  branches``; ``X-Next-Page``/``X-Total``/``Link`` paging), OAuth ``POST /oauth/token``.
- Bitbucket: ``/!api/2.0`` (``/user``, ``/user/emails``, ``/repositories``,
  ``/repositories/{ws}/{slug}/refs/branches``; ``{values, page, pagelen, size, next}``
  bodies, ``q=name~"..."`` filters),
  OAuth ``POST /site/oauth2/access_token`` (HTTP Basic client auth).

Every API route answers 401 to an unknown, revoked or expired token and 404 for a private
repository the token's user is not a member of. OAuth clients are ``client_id`` /
``client_secret`` (defaults ``fake-client-id`` / ``fake-client-secret``); a refresh redeems a
refresh token once, issues a new access token (``access_lifetime_s``) and a new refresh
token, and counts itself in ``refresh_calls`` (thread-safe, counted on arrival).

Switches, settable at any time: ``outage = 500`` (or 502, 503: every route, the token
endpoint included, answers that), ``rate_limited`` (GitHub 403 with ``x-ratelimit-remaining:
0``, others 429), ``malformed`` (API answers 200 with a body that is not JSON),
``refuse_refresh`` (the token endpoint refuses every refresh token) and ``token_delay_s``
(the token endpoint sleeps that long before answering, so racing refreshes overlap). ``now``
(constructor argument) is the fake's clock for token expiry; ``calls`` records every request.
"""

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TypeVar

from tests.fakes.git_hosts.bitbucket import FakeBitbucket
from tests.fakes.git_hosts.github import FakeGitHub
from tests.fakes.git_hosts.gitlab import FakeGitLab
from tests.fakes.git_hosts.server import serve
from tests.fakes.git_hosts.state import (
    FakeAccount,
    FakeBranch,
    FakeGitHostState,
    FakeInstallation,
    FakeRepo,
    RecordedCall,
)

__all__ = (
    "FakeAccount",
    "FakeBitbucket",
    "FakeBranch",
    "FakeGitHostState",
    "FakeGitHub",
    "FakeGitLab",
    "FakeInstallation",
    "FakeRepo",
    "RecordedCall",
    "run_fake_bitbucket",
    "run_fake_github",
    "run_fake_gitlab",
)

H = TypeVar("H", FakeGitHub, FakeGitLab, FakeBitbucket)


@contextlib.contextmanager
def _run(host: H) -> Iterator[H]:
    with serve(host, f"fake-{host.kind.value}"):
        yield host


def run_fake_github(
    *,
    client_id: str = "fake-client-id",
    client_secret: str = "fake-client-secret",
    now: Callable[[], datetime] | None = None,
) -> contextlib.AbstractContextManager[FakeGitHub]:
    """A fake GitHub (github.com or an Enterprise server) on loopback for a ``with`` block."""
    return _run(FakeGitHub(client_id=client_id, client_secret=client_secret, now=now))


def run_fake_gitlab(
    *,
    client_id: str = "fake-client-id",
    client_secret: str = "fake-client-secret",
    now: Callable[[], datetime] | None = None,
) -> contextlib.AbstractContextManager[FakeGitLab]:
    """A fake GitLab (gitlab.com or a self-managed instance) on loopback."""
    return _run(FakeGitLab(client_id=client_id, client_secret=client_secret, now=now))


def run_fake_bitbucket(
    *,
    client_id: str = "fake-client-id",
    client_secret: str = "fake-client-secret",
    now: Callable[[], datetime] | None = None,
) -> contextlib.AbstractContextManager[FakeBitbucket]:
    """A fake Bitbucket Cloud on loopback."""
    return _run(FakeBitbucket(client_id=client_id, client_secret=client_secret, now=now))
