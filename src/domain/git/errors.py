from domain.git.providers import ProviderKind
from domain.shared.errors import ConflictError, NotFoundError

__all__ = ("ProviderNotConnectedError", "ProviderReconnectRequiredError")


class ProviderNotConnectedError(NotFoundError):
    """The user has no token for this provider."""

    code = "git-provider-not-connected"

    def __init__(self, provider: ProviderKind, *, field: str = "provider") -> None:
        super().__init__(f"Connect your {provider.value} account first.", field=field)
        self.provider = provider


class ProviderReconnectRequiredError(ConflictError):
    """The provider refused the stored token and its refresh token: only the user can fix it,
    by connecting the account again. The stored token is kept until they do."""

    code = "git-provider-reconnect-required"

    def __init__(self, provider: ProviderKind, reason: str | None = None) -> None:
        detail = f"{provider.value} no longer accepts the stored token; connect the account again."
        if reason:
            detail = f"{detail} ({reason})"
        super().__init__(detail, field="provider")
        self.provider = provider
