"""The agent-server checkout script, run by bash as the agent-server runs it: it clones from a
fake git host through a credential helper that trades the short-lived credential at a token
endpoint, and leaves no credential behind."""

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from adapters.openhands.checkout import checkout_script
from domain.conversations.value_objects import (
    ConversationId,
    GitAccess,
    RepositoryCheckout,
    StartSpec,
)
from tests.fakes.git_hosts import FakeGitHub, run_fake_github
from tests.support.token_endpoint import CREDENTIAL, TokenEndpoint, run_token_endpoint


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with run_fake_github() as fake:
        fake.add_user("alice")
        fake.add_repo("alice/app", branches=["main", "feature"])
        yield fake


@pytest.fixture
def endpoint(github: FakeGitHub) -> Iterator[TokenEndpoint]:
    with run_token_endpoint(github.issue_token("alice")) as served:
        yield served


def spec_for(
    workspace: Path, github: FakeGitHub, endpoint: TokenEndpoint, **checkout: Any
) -> StartSpec:
    return StartSpec(
        conversation_id=ConversationId(uuid4()),
        model="openai/stub",
        workspace_dir=str(workspace),
        git=GitAccess(provider="github", token_url=endpoint.url, credential=CREDENTIAL),
        checkout=RepositoryCheckout(
            clone_url=f"{github.base_url}/alice/app.git",
            username="x-access-token",
            **checkout,
        ),
    )


def run(script: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp), "TMPDIR": str(tmp)},
    )


def test_the_branch_is_cloned_with_the_authors_name_and_no_credential_kept(
    tmp_path: Path, github: FakeGitHub, endpoint: TokenEndpoint
) -> None:
    workspace = tmp_path / "work space" / "conversation"
    spec = spec_for(
        workspace,
        github,
        endpoint,
        branch="feature",
        author_name="Ada O'Hara",
        author_email="ada@example.com",
    )
    done = run(checkout_script(spec), tmp_path)
    assert done.returncode == 0, done.stderr
    assert (workspace / "BRANCH").read_text() == "feature\n"
    config = (workspace / ".git" / "config").read_text()
    assert "Ada O'Hara" in config
    assert endpoint.token not in config
    assert CREDENTIAL not in config
    assert f"url = {github.base_url}/alice/app.git" in config
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("tmp")]  # helper removed
    # Run again (a restarted start): the clone is kept, nothing is fetched.
    calls = endpoint.calls
    again = run(checkout_script(spec), tmp_path)
    assert again.returncode == 0, again.stderr
    assert endpoint.calls == calls


def test_a_refused_credential_or_a_missing_branch_fails_without_a_partial_clone(
    tmp_path: Path, github: FakeGitHub, endpoint: TokenEndpoint
) -> None:
    endpoint.token = "not-a-live-token"
    refused = run(checkout_script(spec_for(tmp_path / "a", github, endpoint)), tmp_path)
    assert refused.returncode != 0
    assert not (tmp_path / "a" / ".git").exists()
    endpoint.token = github.issue_token("alice")
    missing = run(
        checkout_script(spec_for(tmp_path / "b", github, endpoint, branch="nope")), tmp_path
    )
    assert missing.returncode != 0
    assert "nope" in missing.stderr
