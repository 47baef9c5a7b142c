from datetime import datetime

import msgspec

from domain.resolver.entities import AppInstallation

__all__ = ("AppInstallationList", "AppInstallationOut")


class AppInstallationOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    provider: str
    installation_id: str
    account: str
    account_type: str
    repositories: list[str]
    all_repositories: bool
    suspended: bool
    updated_at: datetime

    @classmethod
    def from_entity(cls, installation: AppInstallation) -> "AppInstallationOut":
        return cls(
            provider=installation.provider.value,
            installation_id=installation.installation_id,
            account=installation.account_login,
            account_type=installation.account_type,
            repositories=list(installation.repositories),
            all_repositories=installation.all_repositories,
            suspended=installation.suspended,
            updated_at=installation.updated_at,
        )


class AppInstallationList(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    items: list[AppInstallationOut]
