"""Git's smart HTTP protocol on the fake hosts, so a runtime can really clone a repository.

``/<full name>.git/info/refs?service=git-upload-pack`` and ``/<full name>.git/git-upload-pack``
(clone and fetch; no push) are answered by the real ``git http-backend``, over a bare
repository made the first time the repository is cloned: one commit on each of its branches.
Credentials are HTTP Basic with any username (GitHub's ``x-access-token``, GitLab's
``oauth2``, Bitbucket's ``x-token-auth``) and a live access token as the password, which must
reach the repository: else 401 (and a ``WWW-Authenticate`` challenge) or 404, as the real hosts
answer. Branch commits are the bare repository's own, not the random ``commit_sha`` the API
routes report.
"""

import os
import re
import shutil
import subprocess
import tempfile
import threading
import weakref
from pathlib import Path
from urllib.parse import unquote

from tests.fakes.git_hosts.server import Request, basic_credentials
from tests.fakes.git_hosts.state import FakeGitHostState, FakeRepo, Reply

__all__ = ("git_smart_http",)

_GIT_PATH = re.compile(r"/(?P<repo>.+?)\.git/(?P<rest>info/refs|git-upload-pack)")
_IDENTITY = {
    "GIT_AUTHOR_NAME": "Fake Host",
    "GIT_AUTHOR_EMAIL": "fake@example.com",
    "GIT_COMMITTER_NAME": "Fake Host",
    "GIT_COMMITTER_EMAIL": "fake@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": tempfile.gettempdir(),
}


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **_IDENTITY},
        check=True,
        capture_output=True,
        timeout=30,
    )


class _BareRepositories:
    """Bare repositories of one fake host, made on first use under a temporary directory that
    goes with the host."""

    def __init__(self, owner: FakeGitHostState) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="fake-git-host-"))
        self._made: set[str] = set()
        self._lock = threading.Lock()
        weakref.finalize(owner, shutil.rmtree, self._root, True)

    @property
    def root(self) -> Path:
        return self._root

    def ensure(self, repo: FakeRepo) -> None:
        with self._lock:
            if repo.full_name in self._made:
                return
            bare = self._root / f"{repo.full_name}.git"
            bare.parent.mkdir(parents=True, exist_ok=True)
            _git("init", "--quiet", "--bare", str(bare), cwd=self._root)
            work = Path(tempfile.mkdtemp(prefix="fake-git-work-"))
            default = repo.default_branch or "main"
            _git("init", "--quiet", "--initial-branch", default, cwd=work)
            (work / "README.md").write_text(f"# {repo.full_name}\n")
            for name, text in repo.files.items():
                (work / name).parent.mkdir(parents=True, exist_ok=True)
                (work / name).write_text(text)
            _git("add", "--all", cwd=work)
            _git("commit", "--quiet", "-m", f"Start {repo.full_name}", cwd=work)
            for branch in repo.branches:
                if branch.name == default:
                    continue
                _git("checkout", "--quiet", "-b", branch.name, default, cwd=work)
                (work / "BRANCH").write_text(f"{branch.name}\n")
                _git("add", "BRANCH", cwd=work)
                _git("commit", "--quiet", "-m", f"Work on {branch.name}", cwd=work)
            _git("push", "--quiet", "--all", str(bare), cwd=work)
            _git("symbolic-ref", "HEAD", f"refs/heads/{default}", cwd=bare)
            self._made.add(repo.full_name)


_HOSTS: "weakref.WeakKeyDictionary[FakeGitHostState, _BareRepositories]" = (
    weakref.WeakKeyDictionary()
)
_HOSTS_LOCK = threading.Lock()


def _repositories_of(state: FakeGitHostState) -> _BareRepositories:
    with _HOSTS_LOCK:
        found = _HOSTS.get(state)
        if found is None:
            found = _HOSTS[state] = _BareRepositories(state)
        return found


def git_smart_http(state: FakeGitHostState, request: Request) -> Reply | None:
    """The answer to a git smart-HTTP request, or None when ``request`` is not one."""
    match = _GIT_PATH.fullmatch(unquote(request.raw_path))
    if match is None:
        return None
    repositories = _repositories_of(state)
    credentials = basic_credentials(request.headers.get("authorization"))
    account = None if credentials is None else state.account_for(credentials[1])
    if account is None:
        return Reply(
            401,
            b"Authentication failed",
            "text/plain",
            headers=(("WWW-Authenticate", 'Basic realm="fake git host"'),),
        )
    repo = state.readable_repo(account.login, match["repo"])
    if repo is None:
        return Reply(404, b"Repository not found", "text/plain")
    repositories.ensure(repo)
    environment = {
        **os.environ,
        "GIT_PROJECT_ROOT": str(repositories.root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": f"/{repo.full_name}.git/{match['rest']}",
        "REQUEST_METHOD": request.method,
        "QUERY_STRING": "&".join(f"{k}={v[0]}" for k, v in request.query.items()),
        "CONTENT_TYPE": request.headers.get("content-type", ""),
        "CONTENT_LENGTH": str(len(request.raw)),
        "REMOTE_USER": account.login,
        "REMOTE_ADDR": "127.0.0.1",
    }
    if "content-encoding" in request.headers:
        environment["HTTP_CONTENT_ENCODING"] = request.headers["content-encoding"]
    if "git-protocol" in request.headers:
        environment["GIT_PROTOCOL"] = request.headers["git-protocol"]
    done = subprocess.run(
        ["git", "http-backend"],
        input=request.raw,
        env=environment,
        capture_output=True,
        check=False,
        timeout=60,
    )
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    status = 200
    content_type = "application/octet-stream"
    headers: list[tuple[str, str]] = []
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        value = value.strip()
        if name.lower() == "status":
            status = int(value.split()[0])
        elif name.lower() == "content-type":
            content_type = value
        elif name:
            headers.append((name, value))
    return Reply(status, body, content_type, headers=tuple(headers))
