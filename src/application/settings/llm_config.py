from dataclasses import dataclass

from application.ports.unit_of_work import UnitOfWork
from domain.billing.usage import LlmPayer
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.organizations.errors import OrgNotFoundError
from domain.settings.entities import SettingsValues, effective_settings
from domain.settings.mcp import McpConfig

__all__ = ("LlmConfig", "LlmConfigResolver")


@dataclass(frozen=True, slots=True, kw_only=True)
class LlmConfig:
    """What the runtime needs to call the LLM, the API key opened. Never sent to a client."""

    model: str | None
    api_key: str | None
    base_url: str | None
    agent: str | None
    max_iterations: int | None
    max_budget_per_task: float | None
    confirmation_mode: bool = False
    """The agent asks before it acts."""
    git_author_name: str | None = None
    git_author_email: str | None = None
    """Who the agent's commits are by."""
    language: str | None = None
    """The language the agent writes to the user in (a BCP 47 tag)."""
    mcp: McpConfig | None = None
    """The MCP servers the agent may use, their secrets opened."""
    payer: LlmPayer | None = None
    """Whose key it is: the organization's (its defaults; it pays) or the member's own;
    None without a key."""

    def __repr__(self) -> str:
        key = "None" if self.api_key is None else "'...'"
        return f"LlmConfig(model={self.model!r}, api_key={key}, base_url={self.base_url!r})"


def _payer(mine: SettingsValues | None, effective: SettingsValues) -> LlmPayer | None:
    if effective.llm_api_key is None:
        return None
    if mine is not None and mine.llm_api_key is not None:
        return LlmPayer.USER
    return LlmPayer.ORG


class LlmConfigResolver:
    """The effective LLM configuration of a member in an organization, with its API key
    opened, for the code that starts conversations; it reads within the caller's unit of work
    and writes nothing."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def resolve(self, user_id: UserId, org_id: OrgId) -> LlmConfig:
        if await self._uow.orgs.get_for_member(org_id, user_id) is None:
            raise OrgNotFoundError
        mine = await self._uow.settings.get_user(user_id)
        defaults = await self._uow.settings.get_org(org_id)
        values = effective_settings(
            mine.values if mine is not None else SettingsValues(),
            defaults.values if defaults is not None else SettingsValues(),
        ).values

        return LlmConfig(
            model=None if values.llm_model is None else values.llm_model.value,
            api_key=None if values.llm_api_key is None else values.llm_api_key.value,
            base_url=None if values.llm_base_url is None else values.llm_base_url.value,
            agent=None if values.agent is None else values.agent.value,
            max_iterations=None if values.max_iterations is None else values.max_iterations.value,
            max_budget_per_task=(
                None if values.max_budget_per_task is None else values.max_budget_per_task.value
            ),
            confirmation_mode=bool(values.confirmation_mode),
            git_author_name=None
            if values.git_author_name is None
            else values.git_author_name.value,
            git_author_email=(
                None if values.git_author_email is None else values.git_author_email.value
            ),
            language=None if values.language is None else values.language.value,
            mcp=values.mcp_config,
            payer=_payer(mine.values if mine is not None else None, values),
        )
