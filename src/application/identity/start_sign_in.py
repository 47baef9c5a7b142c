import base64
import secrets
from dataclasses import dataclass

from application.errors import TooManySignInsError
from application.identity.sign_in_policy import SignInPolicy, safe_return_path
from application.ports.clock import Clock
from application.ports.identity_provider import AuthorizationRequest, IdentityProvider
from application.ports.login_attempts import LoginAttemptStore, PendingLogin

__all__ = ("SIGN_IN_COOKIE", "StartSignIn", "StartSignInRequest", "StartSignInResult")

SIGN_IN_COOKIE = "maestrist_sign_in"
"""Holds the ``state`` of the sign-in this browser started; the callback must present it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StartSignInRequest:
    return_to: str | None = None
    provider_hint: str | None = None
    client: str | None = None
    """The caller's address (an IPv6 one by its /64), counted against the policy's limit."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StartSignInResult:
    authorization_url: str
    """Where to send the browser."""
    state: str
    """For the browser to keep (``SIGN_IN_COOKIE``): only the browser that started a sign-in
    may finish it."""


def _random() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


class StartSignIn:
    """Begin a sign-in: where to send the browser. Public.

    A fresh state, nonce and PKCE verifier are kept for ten minutes and can finish one sign-in
    only, in the browser that started it (it keeps the state in a cookie). The return path
    must be a path of this site of at most 512 characters; anything else returns to ``/``
    (a longer one is refused before this runs). One client may start ``starts_per_client``
    sign-ins within the ten minutes; more are refused (429) until that window ends.
    """

    def __init__(
        self,
        provider: IdentityProvider,
        attempts: LoginAttemptStore,
        clock: Clock,
        policy: SignInPolicy,
    ) -> None:
        self._provider = provider
        self._attempts = attempts
        self._clock = clock
        self._policy = policy

    async def execute(self, request: StartSignInRequest) -> StartSignInResult:
        if request.client is not None:
            started = await self._attempts.count_start(request.client, self._policy.attempt_ttl)
            if started.count > self._policy.starts_per_client:
                raise TooManySignInsError(retry_after=started.resets_in)
        state, nonce, verifier = _random(), _random(), _random()
        hint = (request.provider_hint or "").strip() or None
        await self._attempts.put(
            state,
            PendingLogin(
                code_verifier=verifier,
                nonce=nonce,
                return_to=safe_return_path(request.return_to),
                idp_hint=hint,
                started_at=self._clock.now(),
            ),
            self._policy.attempt_ttl,
        )
        url = await self._provider.authorization_url(
            AuthorizationRequest(
                state=state,
                nonce=nonce,
                code_verifier=verifier,
                redirect_uri=self._policy.redirect_uri,
                idp_hint=hint,
            )
        )
        return StartSignInResult(authorization_url=url, state=state)
