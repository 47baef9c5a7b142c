"""A real OpenID Connect provider on loopback for sign-in tests, and a browser-less user.

`run_oidc_provider` starts `tests/support/oidc_provider/server.mjs` (the npm package
oidc-provider, installed from that folder's package-lock.json by `ensure_node_modules`) on a
free port of 127.0.0.1. `drive_login` plays the user at its development login and consent
pages with httpx and hands back the callback URL meant for the app; `drive_logout` confirms
its logout prompt.

Accounts: any login name signs in with any password. `alice`, `bob` (verified emails) and
`unverified` (email_verified false) are built in; any other name becomes an account too. The
subject is always `sub-<login name>`, the email `<login name>@example.com`.

Refresh tokens come with every code exchange, `offline_access` or not; without it they end
with the provider's session (RP-initiated logout revokes them). They rotate on every use.
"""

import contextlib
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from tests.support.npm_packages import NpmInstallError, ensure_npm_packages

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc_provider"
CLIENT_ID = "maestrist"
CLIENT_SECRET = "maestrist-secret"  # a fixed secret of a loopback-only test provider
DEFAULT_PASSWORD = "any-password"  # the dev login page accepts any password

READY_TIMEOUT_S = 30.0
MAX_BROWSER_STEPS = 20


@dataclass(frozen=True)
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    post_logout_redirect_uri: str

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"


class OidcProviderError(RuntimeError):
    """The test provider could not be installed or started, or a page was not what we expect."""


# ---- installing and running ------------------------------------------------------------


def ensure_node_modules() -> None:
    """Install the provider's npm packages from its lockfile unless the pinned ones are there."""
    try:
        ensure_npm_packages(PROVIDER_DIR, purpose="the OIDC test provider")
    except NpmInstallError as error:
        raise OidcProviderError(str(error)) from error


def _pump(stream: Iterable[str], output: list[str], ready: queue.Queue[str]) -> None:
    """Read the server's output to its end; hand over the issuer from its READY line."""
    announced = False
    for line in stream:
        output.append(line)
        if not announced and line.startswith("READY "):
            announced = True
            ready.put(line.removeprefix("READY ").strip())


@contextlib.contextmanager
def run_oidc_provider(
    redirect_uri: str,
    post_logout_redirect_uri: str,
    access_ttl_s: int = 60,
    refresh_ttl_s: int = 86400,
    *,
    id_token_ttl_s: int | None = None,
    accounts: Mapping[str, Mapping[str, object]] | None = None,
    token_auth_method: str | None = None,
) -> Iterator[OidcProvider]:
    """Run the test provider on a free loopback port for the `with` block.

    `access_ttl_s` sets the lifetime of access tokens and (unless `id_token_ttl_s` is given)
    of id_tokens. `accounts` adds or overrides accounts: login name -> claims (`sub`, `email`,
    `email_verified`, `name`, ...). `token_auth_method` (`client_secret_basic` or
    `client_secret_post`) is then the only client authentication the provider takes and
    advertises.
    """
    node = shutil.which("node")
    if node is None:
        raise OidcProviderError("Node.js (`node`) is needed to run the OIDC test provider")
    ensure_node_modules()
    env = {
        **os.environ,
        "OIDC_PORT": "0",
        "OIDC_REDIRECT_URIS": redirect_uri,
        "OIDC_POST_LOGOUT_REDIRECT_URIS": post_logout_redirect_uri,
        "OIDC_ACCESS_TOKEN_TTL": str(access_ttl_s),
        "OIDC_ID_TOKEN_TTL": str(id_token_ttl_s if id_token_ttl_s is not None else access_ttl_s),
        "OIDC_REFRESH_TOKEN_TTL": str(refresh_ttl_s),
        "OIDC_ACCOUNTS": json.dumps(dict(accounts or {})),
        "OIDC_EXIT_WITH_PARENT": "1",
        "OIDC_TOKEN_AUTH_METHOD": token_auth_method or "",
    }
    process = subprocess.Popen(
        [node, "server.mjs"],
        cwd=PROVIDER_DIR,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    assert process.stdout is not None
    output: list[str] = []
    ready: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(
        target=_pump, args=(process.stdout, output, ready), name="oidc-provider-output", daemon=True
    )
    reader.start()
    try:
        issuer = _wait_until_ready(process, ready)
        if issuer is None:
            state = (
                f"exited with {process.returncode}"
                if process.poll() is not None
                else f"not ready after {READY_TIMEOUT_S:.0f} s"
            )
            _stop(process)
            reader.join(timeout=READY_TIMEOUT_S)  # its output to the end, the last lines too
            raise OidcProviderError(
                f"the OIDC test provider {state}; its output:\n{''.join(output)}"
            )
        yield OidcProvider(
            issuer=issuer,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            redirect_uri=redirect_uri,
            post_logout_redirect_uri=post_logout_redirect_uri,
        )
    finally:
        _stop(process)
        reader.join(timeout=5)
        process.stdout.close()


def _wait_until_ready(process: subprocess.Popen[str], ready: queue.Queue[str]) -> str | None:
    """The issuer the server announced, or ``None`` when it exited or stayed silent."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            return ready.get(timeout=0.1)
        except queue.Empty:
            if process.poll() is not None and ready.empty():
                break
    return None


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()


# ---- a browser-less user ---------------------------------------------------------------


@dataclass
class _Form:
    id: str | None
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    # submit buttons: (name, value); buttons outside the form that name it by `form=` count too
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _FormParser(HTMLParser):
    """The forms of a page: their fields and submit buttons."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self._current: _Form | None = None
        self._loose_buttons: list[tuple[str, str, str]] = []  # (form id, name, value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._current = _Form(
                id=attributes.get("id"),
                action=attributes.get("action", ""),
                method=attributes.get("method", "get").lower(),
            )
            self.forms.append(self._current)
            return
        if tag not in {"input", "button"} or "name" not in attributes:
            return
        name, value = attributes["name"], attributes.get("value", "")
        kind = attributes.get("type", "submit" if tag == "button" else "text").lower()
        owner = attributes.get("form")
        if owner is not None and (self._current is None or self._current.id != owner):
            if kind == "submit":
                self._loose_buttons.append((owner, name, value))
            return
        if self._current is None:
            return
        if kind == "submit":
            self._current.buttons.append((name, value))
        elif kind not in {"button", "reset", "image", "file"}:
            self._current.fields[name] = value

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None

    def close(self) -> None:
        super().close()
        for owner, name, value in self._loose_buttons:
            for form in self.forms:
                if form.id == owner:
                    form.buttons.append((name, value))


def _forms(html: str) -> list[_Form]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def _same_endpoint(url: str, registered: str) -> bool:
    """Whether `url` is `registered` with parameters added (as an authorization response is)."""
    a, b = urlsplit(url), urlsplit(registered)
    return (a.scheme, a.netloc, a.path) == (b.scheme, b.netloc, b.path)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _page_problem(response: httpx.Response, doing: str) -> OidcProviderError:
    return OidcProviderError(
        f"{doing}: unexpected {response.status_code} from {response.request.method} "
        f"{response.url}:\n{response.text[:2000]}"
    )


@contextlib.asynccontextmanager
async def _browser(client: httpx.AsyncClient | None) -> AsyncIterator[httpx.AsyncClient]:
    if client is not None:
        yield client
        return
    async with httpx.AsyncClient(timeout=10) as own:
        yield own


async def drive_login(
    authorization_url: str,
    login: str,
    *,
    password: str = DEFAULT_PASSWORD,
    client: httpx.AsyncClient | None = None,
) -> str:
    """Sign in at the test provider as `login` and consent; return the app's callback URL.

    Follows the provider's redirects through its login and consent pages until it redirects to
    the `redirect_uri` of the authorization request, and returns that URL (with `code` and
    `state`, or `error`) without requesting it. Pass `client` to keep the provider's session
    cookies (for single sign-on, or to log that session out with `drive_logout`).
    """
    redirect_uris = parse_qs(urlsplit(authorization_url).query).get("redirect_uri")
    if not redirect_uris:
        raise ValueError("the authorization URL has no redirect_uri")
    redirect_uri = redirect_uris[0]
    async with _browser(client) as browser:
        method, url, data = "GET", authorization_url, None
        for _ in range(MAX_BROWSER_STEPS):
            response = await browser.request(method, url, data=data, follow_redirects=False)
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if _same_endpoint(location, redirect_uri):
                    return location
                method, url, data = "GET", location, None
                continue
            if response.status_code != httpx.codes.OK:
                raise _page_problem(response, "sign-in")
            method, url, data = _next_login_step(response, login, password)
        raise OidcProviderError(
            f"sign-in did not reach {redirect_uri} in {MAX_BROWSER_STEPS} steps"
        )


def _next_login_step(
    response: httpx.Response, login: str, password: str
) -> tuple[str, str, dict[str, str]]:
    for form in _forms(response.text):
        action = urljoin(str(response.url), form.action)
        if "login" in form.fields:
            return "POST", action, {**form.fields, "login": login, "password": password}
        if form.fields.get("prompt") == "consent":
            return "POST", action, dict(form.fields)
    raise _page_problem(response, "sign-in (no login or consent form)")


async def drive_logout(end_session_url: str, *, client: httpx.AsyncClient | None = None) -> str:
    """Confirm the test provider's logout prompt; return where it sends the user afterwards.

    That is the `post_logout_redirect_uri` (with `state`) of the request, or the provider's own
    "signed out" page; it is not requested. Pass the `client` that signed in with `drive_login`
    to end that provider session too.
    """
    async with _browser(client) as browser:
        provider_origin = _origin(end_session_url)
        method, url, data = "GET", end_session_url, None
        confirmed = False
        for _ in range(MAX_BROWSER_STEPS):
            response = await browser.request(method, url, data=data, follow_redirects=False)
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if confirmed or _origin(location) != provider_origin:
                    return location
                method, url, data = "GET", location, None
                continue
            if response.status_code != httpx.codes.OK:
                raise _page_problem(response, "logout")
            method, url, data = _logout_step(response)
            confirmed = True
        raise OidcProviderError(f"logout did not finish in {MAX_BROWSER_STEPS} steps")


def _logout_step(response: httpx.Response) -> tuple[str, str, dict[str, str]]:
    for form in _forms(response.text):
        if "xsrf" not in form.fields:
            continue
        # the "Yes, sign me out" button (logout=yes); "No, stay signed in" has no name
        confirm = dict(button for button in form.buttons if button[0] == "logout")
        data = {"logout": "yes", **form.fields, **confirm}
        return "POST", urljoin(str(response.url), form.action), data
    raise _page_problem(response, "logout (no logout form)")
