from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_db_errors
from adapters.sqlalchemy.mcp_json import mcp_config_from_json, mcp_config_to_json
from adapters.sqlalchemy.models import OrgSettingsRow, SettingsColumns, UserSettingsRow
from adapters.sqlalchemy.session_repository import UNOPENABLE
from application.errors import DependencyUnavailableError
from application.ports.cipher import Cipher, CipherError
from application.ports.settings_store import SettingsStore
from domain.identity.entities import UserId
from domain.organizations.entities import OrgId
from domain.settings.entities import OrgSettings, SettingsValues, UserSettings
from domain.settings.value_objects import (
    AgentName,
    Budget,
    GitAuthorEmail,
    GitAuthorName,
    Language,
    LlmApiKey,
    LlmBaseUrl,
    LlmModel,
    MaxIterations,
)

__all__ = ("SEALED_SETTINGS_COLUMNS", "SqlaSettingsStore", "settings_context")

SEALED_SETTINGS_COLUMNS = ("llm_api_key", "mcp_config")


def settings_context(level: str, owner_id: object, field: str) -> str:
    """What a sealed setting is bound to: its level (``user``, ``org``), row and column."""
    return f"settings:{level}:{owner_id}:{field}"


class SqlaSettingsStore(SettingsStore):
    """User settings and org defaults; the LLM API key and the MCP configuration sealed by the
    cipher, each bound to its row and column."""

    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self._session = session
        self._cipher = cipher

    async def get_user(self, user_id: UserId) -> UserSettings | None:
        # a plain row, not an ORM instance: a read that changes nothing skips the identity map
        query = select(UserSettingsRow.__table__).where(UserSettingsRow.user_id == user_id)
        async with translate_db_errors():
            row = (await self._session.execute(query)).first()
        if row is None:
            return None
        values = self._values(row, "user", row.user_id)
        return UserSettings(user_id=user_id, values=values, updated_at=row.updated_at)

    async def put_user(self, settings: UserSettings) -> None:
        async with translate_db_errors():
            row = await self._session.get(UserSettingsRow, settings.user_id)
            if row is None:
                row = UserSettingsRow(user_id=settings.user_id)
                self._session.add(row)
            self._fill(row, settings.values, "user", settings.user_id)
            assert settings.updated_at is not None
            row.updated_at = settings.updated_at
            await self._session.flush()

    async def get_org(self, org_id: OrgId) -> OrgSettings | None:
        query = select(OrgSettingsRow.__table__).where(OrgSettingsRow.org_id == org_id)
        async with translate_db_errors():
            row = (await self._session.execute(query)).first()
        if row is None:
            return None
        values = self._values(row, "org", row.org_id)
        return OrgSettings(org_id=org_id, values=values, updated_at=row.updated_at)

    async def put_org(self, settings: OrgSettings) -> None:
        async with translate_db_errors():
            row = await self._session.get(OrgSettingsRow, settings.org_id)
            if row is None:
                row = OrgSettingsRow(org_id=settings.org_id)
                self._session.add(row)
            self._fill(row, settings.values, "org", settings.org_id)
            assert settings.updated_at is not None
            row.updated_at = settings.updated_at
            await self._session.flush()

    def _seal(self, value: str | None, level: str, owner: object, field: str) -> str | None:
        if value is None:
            return None
        return self._cipher.encrypt(value, context=settings_context(level, owner, field))

    def _open(self, value: str | None, level: str, owner: object, field: str) -> str | None:
        if value is None:
            return None
        try:
            return self._cipher.decrypt(value, context=settings_context(level, owner, field))
        except CipherError as exc:
            raise DependencyUnavailableError(UNOPENABLE) from exc

    def _fill(
        self, row: SettingsColumns, values: SettingsValues, level: str, owner: object
    ) -> None:
        v = values
        row.llm_model = None if v.llm_model is None else v.llm_model.value
        api_key = None if v.llm_api_key is None else v.llm_api_key.value
        row.llm_api_key = self._seal(api_key, level, owner, "llm_api_key")
        row.llm_base_url = None if v.llm_base_url is None else v.llm_base_url.value
        row.agent = None if v.agent is None else v.agent.value
        row.max_iterations = None if values.max_iterations is None else values.max_iterations.value
        row.confirmation_mode = values.confirmation_mode
        row.language = None if v.language is None else v.language.value
        row.max_budget_per_task = (
            None if values.max_budget_per_task is None else values.max_budget_per_task.value
        )
        row.analytics_consent = values.analytics_consent
        row.git_author_name = None if v.git_author_name is None else v.git_author_name.value
        row.git_author_email = None if v.git_author_email is None else v.git_author_email.value
        mcp = None if values.mcp_config is None else mcp_config_to_json(values.mcp_config)
        row.mcp_config = self._seal(mcp, level, owner, "mcp_config")

    def _values(self, row: Row[Any], level: str, owner: object) -> SettingsValues:
        api_key = self._open(row.llm_api_key, level, owner, "llm_api_key")
        mcp = self._open(row.mcp_config, level, owner, "mcp_config")
        return SettingsValues(
            llm_model=None if row.llm_model is None else LlmModel(row.llm_model),
            llm_api_key=None if api_key is None else LlmApiKey(api_key),
            llm_base_url=None if row.llm_base_url is None else LlmBaseUrl(row.llm_base_url),
            agent=None if row.agent is None else AgentName(row.agent),
            max_iterations=(
                None if row.max_iterations is None else MaxIterations(row.max_iterations)
            ),
            confirmation_mode=row.confirmation_mode,
            language=None if row.language is None else Language(row.language),
            max_budget_per_task=(
                None if row.max_budget_per_task is None else Budget(row.max_budget_per_task)
            ),
            analytics_consent=row.analytics_consent,
            git_author_name=(
                None if row.git_author_name is None else GitAuthorName(row.git_author_name)
            ),
            git_author_email=(
                None if row.git_author_email is None else GitAuthorEmail(row.git_author_email)
            ),
            mcp_config=None if mcp is None else mcp_config_from_json(mcp),
        )
