"""The fake git hosts serve real clones over git's smart HTTP, guarded like the real hosts."""

import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.fakes.git_hosts import (
    FakeGitHostState,
    run_fake_bitbucket,
    run_fake_github,
    run_fake_gitlab,
)

HOSTS: dict[str, tuple[Callable[[], AbstractContextManager[FakeGitHostState]], str]] = {
    "github": (run_fake_github, "x-access-token"),
    "gitlab": (run_fake_gitlab, "oauth2"),
    "bitbucket": (run_fake_bitbucket, "x-token-auth"),
}


@pytest.fixture(params=sorted(HOSTS))
def host(request: pytest.FixtureRequest) -> Iterator[tuple[FakeGitHostState, str]]:
    run, username = HOSTS[request.param]
    with run() as fake:
        fake.add_user("alice")
        fake.add_user("bob")
        fake.add_repo("alice/app", branches=["main", "feature"])
        yield fake, username


def clone(url: str, into: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "clone", "--quiet", *args, url, str(into)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"},
    )


def with_credentials(base_url: str, username: str, token: str, path: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{username}:{token}@{parts.netloc}/{path}"


def test_a_member_clones_every_branch(host: tuple[FakeGitHostState, str], tmp_path: Path) -> None:
    fake, username = host
    token = fake.issue_token("alice")
    url = with_credentials(fake.base_url, username, token, "alice/app.git")
    done = clone(url, tmp_path / "app", "--branch", "feature")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "app" / "README.md").read_text() == "# alice/app\n"
    assert (tmp_path / "app" / "BRANCH").read_text() == "feature\n"
    branches = subprocess.run(
        ["git", "-C", str(tmp_path / "app"), "branch", "-r"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "origin/main" in branches
    assert "origin/feature" in branches


def test_no_token_a_bad_token_or_a_stranger_cannot_clone(
    host: tuple[FakeGitHostState, str], tmp_path: Path
) -> None:
    fake, username = host
    anonymous = clone(f"{fake.base_url}/alice/app.git", tmp_path / "a")
    assert anonymous.returncode != 0
    forged = clone(
        with_credentials(fake.base_url, username, "nope", "alice/app.git"), tmp_path / "b"
    )
    assert forged.returncode != 0
    stranger = fake.issue_token("bob")
    refused = clone(
        with_credentials(fake.base_url, username, stranger, "alice/app.git"), tmp_path / "c"
    )
    assert refused.returncode != 0
    assert not (tmp_path / "c" / "README.md").exists()
