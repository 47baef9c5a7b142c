from functools import partial

from application.errors import SignInRejectedError
from application.identity.authenticator import Authenticator
from application.identity.principal_cache import CacheTicket, PrincipalCache
from application.identity.sign_in_policy import SignInPolicy
from application.ports.clock import Clock
from application.ports.identity_provider import IdentityProvider
from application.ports.locks import Locks
from application.ports.unit_of_work import UnitOfWork, UnitsOfWork
from domain.identity.principals import AuthMethod, Credentials, Principal
from domain.identity.sessions import Session, session_token_hash

__all__ = ("SESSION_COOKIE", "SessionAuthenticator")

SESSION_COOKIE = "maestrist_session"


class SessionAuthenticator(Authenticator):
    """The session cookie: a live session acts as its user with every scope.

    An access token near expiry is refreshed at the provider first, exactly once however many
    requests of the session arrive together: one holds the session's lock and refreshes, the
    others wait for it and read what it stored. A refresh the provider refuses ends the session.
    Credentials that do not need fresh tokens skip the refresh.

    It reads and writes in units of work of its own, never the request's: the refreshed tokens,
    or the ended session, are committed there; none is held open across the wait for the lock.
    What a session proved is reused from the ``PrincipalCache`` for a few seconds, never past
    the session's end or the time its access token is due for a refresh.
    """

    def __init__(
        self,
        units: UnitsOfWork,
        provider: IdentityProvider,
        locks: Locks,
        clock: Clock,
        policy: SignInPolicy,
        cache: PrincipalCache,
    ) -> None:
        self._units = units
        self._provider = provider
        self._locks = locks
        self._clock = clock
        self._policy = policy
        self._cache = cache

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        token = credentials.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        token_hash = session_token_hash(token)
        cache_key = f"session:{token_hash}"
        read = partial(self._read, token_hash, cache_key, fresh_tokens=credentials.fresh_tokens)
        if credentials.reuse_recent:
            return await self._cache.recall(cache_key, read)
        return await read()

    async def _read(
        self, token_hash: str, cache_key: str, *, fresh_tokens: bool
    ) -> Principal | None:
        ticket = self._cache.ticket()
        async with self._units.begin() as uow:
            session = await uow.sessions.get_by_token_hash(token_hash)
            if session is None or not session.is_live(self._clock.now()):
                return None
            if not fresh_tokens or not session.needs_refresh(
                self._clock.now(), self._policy.refresh_margin
            ):
                return await self._principal(uow, session, cache_key, ticket)
        async with (
            self._locks.hold(
                f"session-refresh:{token_hash}",
                ttl=self._policy.refresh_lock_ttl,
                wait=self._policy.refresh_lock_ttl,
            ),
            self._units.begin() as uow,
        ):
            refreshed = await self._refreshed(uow, token_hash)
            if refreshed is None:
                return None
            return await self._principal(uow, refreshed, cache_key, ticket)

    async def _principal(
        self, uow: UnitOfWork, session: Session, cache_key: str, ticket: CacheTicket | None
    ) -> Principal | None:
        user = await uow.users.get(session.user_id)
        if user is None:
            return None
        principal = Principal(user=user, method=AuthMethod.SESSION, credential_id=session.id_)
        until = session.proof_valid_until(self._policy.refresh_margin)
        self._cache.put(cache_key, principal, until=until, ticket=ticket)
        return principal

    async def _refreshed(self, uow: UnitOfWork, token_hash: str) -> Session | None:
        """The session read again under its lock, refreshed unless another request did it."""
        session = await uow.sessions.get_by_token_hash(token_hash)
        now = self._clock.now()
        if session is None or not session.is_live(now):
            return None
        if not session.needs_refresh(now, self._policy.refresh_margin):
            return session
        if session.tokens.refresh_token is None:
            await self._end(uow, session)
            return None
        try:
            tokens = await self._provider.refresh(session.tokens.refresh_token)
        except SignInRejectedError:
            await self._end(uow, session)
            return None
        refreshed = session.refreshed(tokens, self._clock.now())
        await uow.sessions.save(refreshed)
        await uow.commit()
        return refreshed

    async def _end(self, uow: UnitOfWork, session: Session) -> None:
        await uow.sessions.save(session.revoked(self._clock.now()))
        await uow.commit()
