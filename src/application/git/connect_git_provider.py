from dataclasses import dataclass

from application.audit_trail import audit_in_every_org
from application.git.connections import GitConnection
from application.ports.clock import Clock
from application.ports.git_provider import GitProviders
from application.ports.unit_of_work import UnitOfWork
from domain.audit.entities import AuditAction
from domain.git.entities import ProviderToken
from domain.git.errors import ProviderReconnectRequiredError
from domain.git.providers import GitHost, ProviderKind
from domain.identity.principals import Principal
from domain.resolver.entities import GitIdentity
from domain.shared.errors import InvalidValueError, NotFoundError

__all__ = (
    "MAX_TOKEN_LENGTH",
    "ConnectGitProvider",
    "ConnectGitProviderRequest",
    "ConnectGitProviderResult",
    "SelfHostedGitPolicy",
)

MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectGitProviderRequest:
    actor: Principal
    provider: ProviderKind
    token: str
    base_url: str | None = None

    def __repr__(self) -> str:
        return f"ConnectGitProviderRequest(provider={self.provider!r}, base_url={self.base_url!r})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectGitProviderResult:
    connection: GitConnection


@dataclass(frozen=True, slots=True)
class SelfHostedGitPolicy:
    """Which GitHub Enterprise and self-managed GitLab servers users may connect: the server
    sends their tokens there and calls them on their behalf, so in a shared deployment only
    the ones operators list (``allowed``, normalised base URLs); ``None`` allows any (a
    one-person install)."""

    allowed: frozenset[str] | None = None

    def check(self, host: GitHost) -> None:
        if host.base_url is None or self.allowed is None or host.base_url in self.allowed:
            return
        raise InvalidValueError(
            f"This server does not connect to {host.base_url}; an operator can add it to "
            "MAESTRIST_GIT_SELF_HOSTED_URLS.",
            field="base_url",
        )


def _checked_token(provider: ProviderKind, raw: str) -> str:
    token = raw.strip()
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidValueError(
            f"The token must have 1 to {MAX_TOKEN_LENGTH} characters.", field="token"
        )
    if not token.isascii() or not token.isprintable() or any(ch.isspace() for ch in token):
        raise InvalidValueError("The token must be printable ASCII without spaces.", field="token")
    if provider is ProviderKind.BITBUCKET and ":" in token:
        username, _, password = token.partition(":")
        if not username or not password:
            raise InvalidValueError(
                "A Bitbucket app password is written username:app_password.", field="token"
            )
    return token


class ConnectGitProvider:
    """Connect a git provider with a token the user made there, replacing any earlier one.

    GitHub (or GitHub Enterprise at ``base_url``) and GitLab (or a self-hosted GitLab at
    ``base_url``) take a personal access token. Bitbucket takes an access token (workspace,
    project or repository token), or an app password written ``username:app_password`` (an API
    token: ``email:api_token``), the form Bitbucket expects as HTTP Basic credentials. The
    token is checked at the provider before it is stored, sealed and without expiry; one the
    provider refuses is a 422 naming ``token``. The account it belongs to at a provider's
    cloud becomes the user's there: a webhook naming that account acts as this user.
    """

    def __init__(
        self,
        providers: GitProviders,
        uow: UnitOfWork,
        clock: Clock,
        policy: SelfHostedGitPolicy,
    ) -> None:
        self._policy = policy
        self._providers = providers
        self._uow = uow
        self._clock = clock

    async def execute(self, request: ConnectGitProviderRequest) -> ConnectGitProviderResult:
        token = _checked_token(request.provider, request.token)
        host = GitHost(request.provider, request.base_url)
        self._policy.check(host)
        try:
            account = await self._providers.open(host, token).get_account()
        except ProviderReconnectRequiredError:
            raise InvalidValueError(
                f"{request.provider.value} refused this token.", field="token"
            ) from None
        except NotFoundError:
            raise InvalidValueError(
                f"No {request.provider.value} API answers at this address.", field="base_url"
            ) from None
        now = self._clock.now()
        user_id = request.actor.user.id_
        stored = ProviderToken(
            user_id=user_id,
            host=host,
            access_token=token,
            refresh_token=None,
            expires_at=None,
            scopes=None,
            updated_at=now,
        )
        await self._uow.provider_tokens.put(stored)
        if host.base_url is None:  # the cloud: the account its app's webhooks name
            await self._uow.git_identities.link(
                GitIdentity(
                    user_id=user_id,
                    provider=request.provider,
                    account_id=account.id_,
                    login=account.login,
                    linked_at=now,
                )
            )
        await audit_in_every_org(
            self._uow.orgs,
            self._uow.audit,
            user_id=user_id,
            action=AuditAction.GIT_PROVIDER_CONNECTED,
            occurred_at=now,
            target_type="git_provider",
            target_ids=[request.provider.value],
            details={"host": host.web_url, "account": account.login},
        )
        await self._uow.commit()
        return ConnectGitProviderResult(connection=GitConnection.of(stored))
