from inspect import getdoc
from typing import Annotated
from urllib.parse import urlsplit
from uuid import UUID

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Redirect

from application.errors import SignInRejectedError
from application.identity.complete_sign_in import CompleteSignIn, CompleteSignInRequest
from application.identity.session_authenticator import SESSION_COOKIE
from application.identity.sign_in_policy import RETURN_TO_MAX_LENGTH, SignInPolicy
from application.identity.start_sign_in import SIGN_IN_COOKIE, StartSignIn, StartSignInRequest
from application.ports.clock import Clock
from application.sessions import (
    GetCurrentSession,
    GetCurrentSessionRequest,
    ListSessions,
    ListSessionsRequest,
    RevokeSession,
    RevokeSessionRequest,
    SignOut,
    SignOutRequest,
)
from domain.identity.principals import AuthMethod, Principal
from domain.identity.sessions import SessionId
from entrypoints.http.auth import NO_TOKEN_REFRESH, OPEN_BEFORE_GATES, PEOPLE_ONLY
from entrypoints.http.client_address import TrustedProxies
from entrypoints.http.sign_in.schemas import SessionList, SessionOut, SignOutIn, SignOutOut

__all__ = ("SessionController", "SignInController", "clear_session_cookie")

Query = Annotated[str | None, QueryParameter(max_length=2048)]


def session_cookie(value: str, *, max_age: int, secure: bool) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=secure,
        samesite="lax",
    )


def clear_session_cookie(*, secure: bool) -> Cookie:
    return session_cookie("", max_age=0, secure=secure)


def sign_in_cookie(value: str, *, max_age: int, policy: SignInPolicy) -> Cookie:
    """The started sign-in's state, sent back only to the callback (by the path the browser
    sees, which a reverse proxy may prefix)."""
    return Cookie(
        key=SIGN_IN_COOKIE,
        value=value,
        max_age=max_age,
        path=urlsplit(policy.redirect_uri).path or "/",
        httponly=True,
        secure=policy.secure_cookies,
        samesite="lax",
    )


class SignInController(Controller):
    """Public: the browser's way in."""

    path = "/api/auth"
    tags = ["sign-in"]  # noqa: RUF012

    @get("/login", operation_id="StartSignIn", description=getdoc(StartSignIn), status_code=302)
    @inject
    async def login(
        self,
        request: Request,  # type: ignore[type-arg]
        use_case: FromDishka[StartSignIn],
        policy: FromDishka[SignInPolicy],
        proxies: FromDishka[TrustedProxies],
        provider: Annotated[str | None, QueryParameter(max_length=64)] = None,
        # named as on the wire, so a 422 names the query parameter the caller sent
        returnTo: Annotated[  # noqa: N803
            str | None, QueryParameter(max_length=RETURN_TO_MAX_LENGTH)
        ] = None,
    ) -> Redirect:
        started = await use_case.execute(
            StartSignInRequest(
                return_to=returnTo, provider_hint=provider, client=proxies.client_of(request)
            )
        )
        return Redirect(
            started.authorization_url,
            status_code=302,
            cookies=[
                sign_in_cookie(
                    started.state,
                    max_age=int(policy.attempt_ttl.total_seconds()),
                    policy=policy,
                )
            ],
            headers={"Cache-Control": "no-store"},
        )

    @get(
        "/callback",
        operation_id="CompleteSignIn",
        description=getdoc(CompleteSignIn),
        status_code=302,
    )
    @inject
    async def callback(
        self,
        request: Request,  # type: ignore[type-arg]
        use_case: FromDishka[CompleteSignIn],
        policy: FromDishka[SignInPolicy],
        clock: FromDishka[Clock],
        code: Query = None,
        state_: Annotated[str | None, QueryParameter(name="state", max_length=2048)] = None,
        error: Query = None,
    ) -> Redirect:
        if error is not None or not code or not state_:
            raise SignInRejectedError(
                f"The identity provider ended the sign-in: {error}." if error else None
            )
        result = await use_case.execute(
            CompleteSignInRequest(
                state=state_,
                code=code,
                browser_state=request.cookies.get(SIGN_IN_COOKIE),
                user_agent=request.headers.get("user-agent"),
            )
        )
        max_age = max(0, int((result.expires_at - clock.now()).total_seconds()))
        return Redirect(
            result.return_to,
            status_code=302,
            cookies=[
                session_cookie(result.session_token, max_age=max_age, secure=policy.secure_cookies),
                sign_in_cookie("", max_age=0, policy=policy),
            ],
            headers={"Cache-Control": "no-store"},
        )


class SessionController(Controller):
    """Signed in as a person: the caller's own sessions; an API key cannot see or end them."""

    path = "/api/auth"
    tags = ["sign-in"]  # noqa: RUF012
    opt = PEOPLE_ONLY

    @get("/sessions", operation_id="ListSessions", description=getdoc(ListSessions))
    @inject
    async def list_sessions(
        self, actor: FromDishka[Principal], use_case: FromDishka[ListSessions]
    ) -> SessionList:
        current = actor.credential_id if actor.method is AuthMethod.SESSION else None
        listed = await use_case.execute(ListSessionsRequest(actor=actor))
        return SessionList(items=[SessionOut.from_entity(s, current) for s in listed.sessions])

    @get(
        "/session",
        operation_id="GetCurrentSession",
        description=getdoc(GetCurrentSession),
        opt=OPEN_BEFORE_GATES,
    )
    @inject
    async def current_session(
        self, actor: FromDishka[Principal], use_case: FromDishka[GetCurrentSession]
    ) -> SessionOut:
        found = await use_case.execute(GetCurrentSessionRequest(actor=actor))
        return SessionOut.from_entity(found.session, found.session.id_)

    @delete(
        "/sessions/{session_id:uuid}",
        operation_id="RevokeSession",
        description=getdoc(RevokeSession),
    )
    @inject
    async def revoke_session(
        self,
        session_id: FromPath[UUID],
        actor: FromDishka[Principal],
        use_case: FromDishka[RevokeSession],
    ) -> None:
        await use_case.execute(RevokeSessionRequest(actor=actor, session_id=SessionId(session_id)))

    @post(
        "/logout",
        operation_id="SignOut",
        description=getdoc(SignOut),
        status_code=200,
        opt={**OPEN_BEFORE_GATES, **NO_TOKEN_REFRESH},
    )
    @inject
    async def logout(
        self,
        actor: FromDishka[Principal],
        use_case: FromDishka[SignOut],
        policy: FromDishka[SignInPolicy],
        data: JSONBody[SignOutIn | None] = None,
    ) -> Response[SignOutOut]:
        everywhere = data is not None and data.everywhere
        result = await use_case.execute(SignOutRequest(actor=actor, everywhere=everywhere))
        return Response(
            SignOutOut(logout_url=result.logout_url, sessions_ended=result.sessions_ended),
            cookies=[clear_session_cookie(secure=policy.secure_cookies)],
            headers={"Cache-Control": "no-store"},
        )
