from datetime import timedelta

from application.errors import DependencyUnavailableError
from application.ports.clock import Clock
from application.ports.git_app import GitApps
from application.ports.locks import Locks
from application.ports.unit_of_work import UnitsOfWork
from domain.resolver.entities import (
    AppInstallation,
    InstallationNotFoundError,
    InstallationToken,
)

__all__ = ("InstallationTokens",)

_LOCK_TTL = timedelta(seconds=30)
_LOCK_WAIT = timedelta(seconds=20)


class InstallationTokens:
    """The current token of an app installation: the one cached, sealed, while it has more
    than a few minutes left, else one minted anew. Minting happens once across servers: under
    the installation's lock, and cached only if no other server cached a newer one (which is
    then used), so two servers racing mint at most one token each and agree on one."""

    def __init__(self, units: UnitsOfWork, apps: GitApps, locks: Locks, clock: Clock) -> None:
        self._units = units
        self._apps = apps
        self._locks = locks
        self._clock = clock

    async def token_for(self, installation: AppInstallation) -> str:
        if installation.token is not None and installation.token.fresh_at(self._clock.now()):
            return installation.token.token
        app = self._apps.app(installation.provider)
        if app is None:
            raise DependencyUnavailableError(
                f"No {installation.provider.value} app is configured on this server."
            )
        key = f"app-installation-token:{installation.provider.value}:{installation.installation_id}"
        async with (
            self._locks.hold(key, ttl=_LOCK_TTL, wait=_LOCK_WAIT),
            self._units.begin() as tx,
        ):
            kept = await tx.app_installations.get(
                installation.provider, installation.installation_id
            )
            if kept is None:
                raise InstallationNotFoundError
            if kept.token is not None and kept.token.fresh_at(self._clock.now()):
                return kept.token.token
            minted = await app.mint_token(installation.installation_id)
            stored = await tx.app_installations.store_token(
                installation.provider,
                installation.installation_id,
                minted,
                replacing=None if kept.token is None else kept.token.expires_at,
            )
            if not stored:
                await tx.rollback()
                newer = await tx.app_installations.get(
                    installation.provider, installation.installation_id
                )
                if newer is not None and newer.token is not None:
                    return newer.token.token
            await tx.commit()
            return minted.token

    async def discard(self, installation: AppInstallation, token: str) -> None:
        """Stop using ``token``, which the provider refused (the app was reinstalled, its key
        rotated): the next caller mints another. A token another caller already replaced is
        left alone."""
        async with self._units.begin() as tx:
            kept = await tx.app_installations.get(
                installation.provider, installation.installation_id
            )
            if kept is None or kept.token is None or kept.token.token != token:
                return
            spent = InstallationToken(token=token, expires_at=self._clock.now())
            if await tx.app_installations.store_token(
                installation.provider,
                installation.installation_id,
                spent,
                replacing=kept.token.expires_at,
            ):
                await tx.commit()
