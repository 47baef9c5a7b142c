"""A loopback stand-in for the parts of Keycloak the server talks to, in Keycloak's HTTP shapes.

Keycloak itself cannot run in the test environment, so `run_keycloak_standin` serves, from a
stdlib `ThreadingHTTPServer` on a free port of 127.0.0.1:

- `POST /realms/{realm}/protocol/openid-connect/token`: the client-credentials grant. The
  client authenticates with HTTP basic (RFC 6749 2.3.1: id and secret form-encoded, then
  base64) or with `client_id`/`client_secret` in the form. It answers
  `{"access_token", "expires_in", "refresh_expires_in": 0, "token_type": "Bearer", ...}`,
  else 401 `{"error": "unauthorized_client", "error_description": ...}` or 400
  `{"error": "unsupported_grant_type", ...}`. Admin tokens are opaque; the stand-in counts
  them and can forget them all (`invalidate_admin_tokens`) as if they had expired.
- `GET` and `PUT /admin/realms/{realm}/users/{id}`: a `UserRepresentation`. Since Keycloak
  24.0.4 a PUT replaces the user's profile attributes (`email`, `firstName`, `lastName`,
  `attributes`; left out means cleared) while other fields (`emailVerified`, `enabled`, ...)
  change only when sent; the stand-in does the same. 204 on success, 404
  `{"error": "User not found"}`, 409 `{"errorMessage": "User exists with same email"}`.
- `PUT /admin/realms/{realm}/users/{id}/send-verify-email?client_id=&redirect_uri=`: 204 and
  an entry in `outbox`; 400 `{"errorMessage": ...}` for a user without email, an unknown
  client, or a redirect URI the client does not allow.
  Every admin route needs `Authorization: Bearer <a live admin token>`, else 401
  `{"error": "HTTP 401 Unauthorized"}`.
- `GET /realms/{realm}/broker/{alias}/token`: with any non-empty bearer, what the upstream
  provider sent at login, as the upstream sent it: a form for GitHub (`link_github`), JSON for
  GitLab and OpenID Connect providers (`link_gitlab`). Aliases not linked answer 400
  `{"errorMessage": "Identity Provider [alias] does not support this operation."}`.

`outage = True` makes every route answer 503, as a load balancer does in front of a Keycloak
that is down. `hold_broker(alias)` keeps broker requests unanswered until `release()`, to have
a request in flight while others run. Every request is recorded (`calls`) with its query, body
and answer.
"""

import base64
import contextlib
import json
import secrets
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, unquote_plus, urlencode, urlsplit

__all__ = ("KeycloakStandin", "RecordedCall", "SentEmail", "run_keycloak_standin")

_JSON = "application/json"
_FORM = "application/x-www-form-urlencoded"
_JOIN_TIMEOUT_S = 10.0
_PROFILE_FIELDS = ("email", "firstName", "lastName", "attributes")
"""Replaced by a PUT (Keycloak >= 24.0.4): a field left out of the body is cleared."""
_OPTIONAL_FIELDS = ("emailVerified", "enabled", "requiredActions")
"""Changed by a PUT only when the body names them."""


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One request the stand-in answered."""

    method: str
    path: str
    """Decoded path, without the query."""
    query: Mapping[str, list[str]]
    body: Any
    """The JSON or form body as parsed (a form becomes ``{name: first value}``), else None."""
    authorization: str | None
    status: int


@dataclass(frozen=True, slots=True)
class SentEmail:
    """A verification email the stand-in "sent"."""

    user_id: str
    email: str
    client_id: str | None
    redirect_uri: str | None


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    body: bytes = b""
    content_type: str = _JSON

    @classmethod
    def of_json(cls, status: int, payload: object) -> "_Reply":
        return cls(status, json.dumps(payload).encode())


class KeycloakStandin:
    """State and routing of the stand-in; thread-safe, since each request has a thread."""

    def __init__(
        self,
        *,
        realm: str,
        client_id: str,
        client_secret: str,
        admin_token_lifetime_s: int,
        redirect_uris: frozenset[str] | None,
    ) -> None:
        self.realm = realm
        self.client_id = client_id
        self.client_secret = client_secret
        self.admin_token_lifetime_s = admin_token_lifetime_s
        self.redirect_uris = redirect_uris
        self.base_url = ""
        self._lock = threading.Lock()
        self._users: dict[str, dict[str, Any]] = {}
        self._live_tokens: set[str] = set()
        self._issued = 0
        self._accept_admin_tokens = True
        self._broker: dict[str, _Reply] = {}
        self._calls: list[RecordedCall] = []
        self._outbox: list[SentEmail] = []
        self._outage = False
        self._gate = threading.Condition()
        self._holding: set[str] = set()
        self._held = 0

    # ---- what tests set up ----------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        email: str | None,
        *,
        email_verified: bool = True,
        username: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> None:
        """A user of the realm, as the admin API would return it."""
        user: dict[str, Any] = {
            "id": user_id,
            "username": username or user_id,
            "emailVerified": email_verified,
            "enabled": True,
            "requiredActions": [],
            "attributes": {},
        }
        profile = {"email": email, "firstName": first_name, "lastName": last_name}
        user.update({name: value for name, value in profile.items() if value is not None})
        with self._lock:
            self._users[user_id] = user

    def user(self, user_id: str) -> dict[str, Any] | None:
        """A copy of the user as the realm now holds it."""
        with self._lock:
            found = self._users.get(user_id)
            return json.loads(json.dumps(found)) if found is not None else None

    def link_github(
        self,
        alias: str = "github",
        *,
        access_token: str,
        scope: str = "repo,read:org",
        refresh_token: str | None = None,
        expires_in: int | None = None,
    ) -> None:
        """GitHub's answer, form-encoded: a classic OAuth app's token (no expiry or refresh
        token), or a GitHub App's user token (``expires_in`` and ``refresh_token``)."""
        fields: dict[str, str] = {"access_token": access_token}
        if expires_in is not None:
            fields["expires_in"] = str(expires_in)
        if refresh_token is not None:
            fields["refresh_token"] = refresh_token
            fields["refresh_token_expires_in"] = "15811200"
        fields["scope"] = scope
        fields["token_type"] = "bearer"
        self.set_broker_reply(alias, 200, urlencode(fields).encode(), _FORM)

    def link_gitlab(
        self,
        alias: str = "gitlab",
        *,
        access_token: str,
        refresh_token: str,
        expires_in: int = 7200,
        scope: str = "read_user api",
    ) -> None:
        """GitLab's answer (and any OpenID Connect provider's), JSON."""
        payload = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "refresh_token": refresh_token,
            "scope": scope,
            "created_at": 1_700_000_000,
        }
        self.set_broker_reply(alias, 200, json.dumps(payload).encode(), _JSON)

    def set_broker_reply(self, alias: str, status: int, body: bytes, content_type: str) -> None:
        """Any answer of the broker token endpoint for ``alias``."""
        with self._lock:
            self._broker[alias] = _Reply(status, body, content_type)

    def hold_broker(self, alias: str) -> None:
        """Keep broker requests for ``alias`` waiting, unanswered, until ``release``."""
        with self._gate:
            self._holding.add(alias)

    def wait_until_held(self, count: int, timeout_s: float = _JOIN_TIMEOUT_S) -> bool:
        """Block until ``count`` requests in all have been held (a hang guard, not a clock)."""
        with self._gate:
            return self._gate.wait_for(lambda: self._held >= count, timeout=timeout_s)

    def release(self) -> None:
        """Answer every held request, and hold no more."""
        with self._gate:
            self._holding.clear()
            self._gate.notify_all()

    def invalidate_admin_tokens(self) -> None:
        """Forget every admin token issued so far, as if they had all expired."""
        with self._lock:
            self._live_tokens.clear()

    @property
    def accept_admin_tokens(self) -> bool:
        """When False, admin tokens are issued but the admin API refuses each one (401)."""
        with self._lock:
            return self._accept_admin_tokens

    @accept_admin_tokens.setter
    def accept_admin_tokens(self, value: bool) -> None:
        with self._lock:
            self._accept_admin_tokens = value

    @property
    def outage(self) -> bool:
        """When True, every route answers 503."""
        with self._lock:
            return self._outage

    @outage.setter
    def outage(self, value: bool) -> None:
        with self._lock:
            self._outage = value

    # ---- what tests read back --------------------------------------------------------------

    @property
    def admin_tokens_issued(self) -> int:
        with self._lock:
            return self._issued

    @property
    def calls(self) -> list[RecordedCall]:
        with self._lock:
            return list(self._calls)

    @property
    def admin_calls(self) -> list[RecordedCall]:
        return [c for c in self.calls if c.path.startswith("/admin/")]

    @property
    def token_calls(self) -> list[RecordedCall]:
        return [c for c in self.calls if c.path.endswith("/protocol/openid-connect/token")]

    @property
    def broker_calls(self) -> list[RecordedCall]:
        return [c for c in self.calls if "/broker/" in c.path]

    @property
    def outbox(self) -> list[SentEmail]:
        with self._lock:
            return list(self._outbox)

    # ---- serving ---------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], raw_body: bytes
    ) -> _Reply:
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        body = _parse_body(headers.get("content-type", ""), raw_body)
        path = "/".join(unquote(segment) for segment in parts.path.split("/"))
        reply = self._route(method, parts.path, query, headers, body)
        with self._lock:
            self._calls.append(
                RecordedCall(
                    method=method,
                    path=path,
                    query=query,
                    body=body,
                    authorization=headers.get("authorization"),
                    status=reply.status,
                )
            )
        return reply

    def _route(
        self,
        method: str,
        raw_path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        body: Any,
    ) -> _Reply:
        if self.outage:
            return _Reply(503, b"503 Service Unavailable", "text/plain")
        segments = [unquote(segment) for segment in raw_path.split("/")[1:]]
        match segments:
            case ["realms", realm, "protocol", "openid-connect", "token"]:
                if realm != self.realm:
                    return _Reply.of_json(404, {"error": "Realm does not exist"})
                if method != "POST":
                    return _Reply.of_json(405, {"error": "Method Not Allowed"})
                return self._issue_token(headers, body)
            case ["realms", realm, "broker", alias, "token"]:
                if realm != self.realm:
                    return _Reply.of_json(404, {"error": "Realm does not exist"})
                if method != "GET":
                    return _Reply.of_json(405, {"error": "Method Not Allowed"})
                return self._broker_token(alias, headers)
            case ["admin", "realms", realm, "users", user_id, *rest] if rest in (
                [],
                ["send-verify-email"],
            ):
                return self._admin(method, realm, user_id, rest, query, headers, body)
        return _Reply.of_json(
            404,
            {
                "error": "Unable to find matching target resource method",
                "error_description": "For more on this error consult the server log.",
            },
        )

    def _issue_token(self, headers: Mapping[str, str], body: Any) -> _Reply:
        form = body if isinstance(body, dict) else {}
        client = _basic_credentials(headers.get("authorization")) or (
            form.get("client_id"),
            form.get("client_secret"),
        )
        if client != (self.client_id, self.client_secret):
            return _Reply.of_json(
                401,
                {
                    "error": "unauthorized_client",
                    "error_description": "Invalid client or Invalid client credentials",
                },
            )
        if form.get("grant_type") != "client_credentials":
            return _Reply.of_json(
                400,
                {"error": "unsupported_grant_type", "error_description": "Unsupported grant_type"},
            )
        token = f"kc-admin-{secrets.token_urlsafe(24)}"
        with self._lock:
            self._live_tokens.add(token)
            self._issued += 1
        return _Reply.of_json(
            200,
            {
                "access_token": token,
                "expires_in": self.admin_token_lifetime_s,
                "refresh_expires_in": 0,
                "token_type": "Bearer",
                "not-before-policy": 0,
                "scope": "profile email",
            },
        )

    def _broker_token(self, alias: str, headers: Mapping[str, str]) -> _Reply:
        if not _bearer(headers.get("authorization")):
            return _Reply.of_json(
                401, {"error": "invalid_token", "error_description": "Token verification failed"}
            )
        with self._gate:
            if alias in self._holding:
                self._held += 1
                self._gate.notify_all()
                self._gate.wait_for(lambda: alias not in self._holding, timeout=_JOIN_TIMEOUT_S)
        with self._lock:
            reply = self._broker.get(alias)
        if reply is None:
            return _Reply.of_json(
                400,
                {"errorMessage": f"Identity Provider [{alias}] does not support this operation."},
            )
        return reply

    def _admin(
        self,
        method: str,
        realm: str,
        user_id: str,
        rest: list[str],
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        body: Any,
    ) -> _Reply:
        token = _bearer(headers.get("authorization"))
        with self._lock:
            authorized = self._accept_admin_tokens and token in self._live_tokens
        if not authorized:
            return _Reply.of_json(401, {"error": "HTTP 401 Unauthorized"})
        if realm != self.realm:
            return _Reply.of_json(404, {"error": "Realm not found."})
        if rest == ["send-verify-email"]:
            if method != "PUT":
                return _Reply.of_json(405, {"error": "Method Not Allowed"})
            return self._send_verify_email(user_id, query)
        if method == "GET":
            found = self.user(user_id)
            if found is None:
                return _Reply.of_json(404, {"error": "User not found"})
            return _Reply.of_json(200, found)
        if method == "PUT":
            return self._update_user(user_id, body)
        return _Reply.of_json(405, {"error": "Method Not Allowed"})

    def _update_user(self, user_id: str, body: Any) -> _Reply:
        if not isinstance(body, dict):
            return _Reply.of_json(400, {"error": "unknown_error"})
        with self._lock:
            user = self._users.get(user_id)
            if user is None:
                return _Reply.of_json(404, {"error": "User not found"})
            email = body.get("email")
            if email is not None and any(
                str(other.get("email", "")).lower() == str(email).lower()
                for key, other in self._users.items()
                if key != user_id
            ):
                return _Reply.of_json(409, {"errorMessage": "User exists with same email"})
            for name in _PROFILE_FIELDS:
                if name in body:
                    user[name] = body[name]
                elif name == "attributes":
                    user[name] = {}
                else:
                    user.pop(name, None)
            for name in _OPTIONAL_FIELDS:
                if name in body:
                    user[name] = body[name]
        return _Reply(204)

    def _send_verify_email(self, user_id: str, query: Mapping[str, list[str]]) -> _Reply:
        client_id = _first(query, "client_id")
        redirect_uri = _first(query, "redirect_uri")
        if redirect_uri is not None and client_id is None:
            return _Reply.of_json(400, {"errorMessage": "Client id missing"})
        if client_id is not None and client_id != self.client_id:
            return _Reply.of_json(400, {"errorMessage": "Client doesn't exist"})
        if (
            redirect_uri is not None
            and self.redirect_uris is not None
            and redirect_uri not in self.redirect_uris
        ):
            return _Reply.of_json(400, {"errorMessage": "Invalid redirect uri."})
        with self._lock:
            user = self._users.get(user_id)
            if user is None:
                return _Reply.of_json(404, {"error": "User not found"})
            email = user.get("email")
            if not email:
                return _Reply.of_json(400, {"errorMessage": "User email missing"})
            if not user.get("enabled", True):
                return _Reply.of_json(400, {"errorMessage": "User is disabled"})
            self._outbox.append(SentEmail(user_id, email, client_id, redirect_uri))
        return _Reply(204)


def _parse_body(content_type: str, raw: bytes) -> Any:
    if not raw:
        return None
    if content_type.startswith(_JSON):
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode(errors="replace")
    if content_type.startswith(_FORM):
        return {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
    return raw.decode(errors="replace")


def _first(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except ValueError:
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True  # server_close() joins the request threads
    request_queue_size = 64

    def __init__(self, standin: KeycloakStandin) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.standin = standin


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = _JOIN_TIMEOUT_S  # a silent client cannot hold a request thread forever
    server_version = "keycloak-standin"

    def _serve(self) -> None:
        server = self.server
        assert isinstance(server, _Server)
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = server.standin.handle(self.command, self.path, headers, raw)
        self.send_response(reply.status)
        if reply.body:
            self.send_header("Content-Type", reply.content_type)
        if reply.status != 204:  # RFC 9110 8.6: no Content-Length on a 204
            self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Connection", "close")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client hung up
            self.end_headers()
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: tests read ``calls`` instead."""


@contextlib.contextmanager
def run_keycloak_standin(
    realm: str,
    client_id: str,
    client_secret: str,
    *,
    admin_token_lifetime_s: int = 300,
    redirect_uris: frozenset[str] | None = None,
) -> Iterator[KeycloakStandin]:
    """Serve a Keycloak stand-in for ``realm`` on a free loopback port for the ``with`` block.

    ``client_id``/``client_secret`` is the one confidential client whose service account may
    use the admin API. ``redirect_uris``, if given, are the ones its verification links may
    return to.
    """
    standin = KeycloakStandin(
        realm=realm,
        client_id=client_id,
        client_secret=client_secret,
        admin_token_lifetime_s=admin_token_lifetime_s,
        redirect_uris=redirect_uris,
    )
    server = _Server(standin)
    host, port = server.server_address[:2]
    standin.base_url = f"http://{host!s}:{port}"
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="keycloak-standin",
        daemon=True,
    )
    thread.start()
    try:
        yield standin
    finally:
        standin.release()
        server.shutdown()
        server.server_close()
        thread.join(timeout=_JOIN_TIMEOUT_S)
