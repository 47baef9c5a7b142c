"""The settings and secrets wire schemas: round trips, absent versus null, nothing secret out."""

from datetime import UTC
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from msgspec import UNSET

from application.settings import SettingsView
from domain.organizations.entities import OrgId
from domain.settings import SettingField, SettingsValues, effective_settings
from entrypoints.http.secrets.schemas import SecretCreate, SecretList, SecretOut, SecretUpdate
from entrypoints.http.settings.mcp import decode_mcp_config
from entrypoints.http.settings.schemas import SettingsOut, SettingsUpdate
from entrypoints.http.wire_names import wire_name

aware = st.datetimes(timezones=st.just(UTC))
text = st.text(max_size=30)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.just(UNSET) | st.none() | strategy


def updates_with(mcp: st.SearchStrategy[Any]) -> st.SearchStrategy[SettingsUpdate]:
    return st.builds(
        SettingsUpdate,
        llm_model=maybe(text),
        llm_api_key=maybe(text),
        max_iterations=maybe(st.integers(-(2**40), 2**40)),
        confirmation_mode=maybe(st.booleans()),
        max_budget_per_task=maybe(st.floats(allow_nan=False, allow_infinity=False)),
        mcp_config=maybe(mcp),
    )


updates = updates_with(st.dictionaries(text, st.lists(text, max_size=2), max_size=2))
mcp_configs: st.SearchStrategy[dict[str, list[str]]] = st.builds(
    dict, sse_servers=st.lists(st.sampled_from(["https://a.example", "http://b:1/x"]), max_size=2)
)

SCHEMAS: dict[type[Any], st.SearchStrategy[Any]] = {
    SettingsUpdate: updates,
    SecretCreate: st.builds(SecretCreate, name=text, value=text, description=st.none() | text),
    SecretUpdate: st.builds(SecretUpdate, value=st.just(UNSET) | text, description=maybe(text)),
    SecretList: st.builds(
        SecretList,
        items=st.lists(st.builds(SecretOut, created_at=aware, updated_at=aware), max_size=3),
    ),
}


@pytest.mark.parametrize("schema", list(SCHEMAS), ids=lambda s: s.__name__)
@given(data=st.data())
def test_round_trip(schema: type[Any], data: st.DataObject) -> None:
    value = data.draw(SCHEMAS[schema])
    assert msgspec.json.decode(msgspec.json.encode(value), type=schema) == value


@given(updates_with(mcp_configs))
def test_changes_name_exactly_the_fields_sent(update: SettingsUpdate) -> None:
    sent = msgspec.json.decode(msgspec.json.encode(update))
    assert {wire_name(name.value) for name in update.changes()} == set(sent)


def test_absent_is_unchanged_and_null_is_cleared() -> None:
    update = msgspec.json.decode(b'{"llmModel": null, "language": "de"}', type=SettingsUpdate)
    assert update.changes() == {SettingField.LLM_MODEL: None, SettingField.LANGUAGE: "de"}
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.json.decode(b'{"llmApiKeySet": true}', type=SettingsUpdate)


def test_the_settings_answer_never_carries_secrets() -> None:
    values = SettingsValues().changed(
        {
            SettingField.LLM_API_KEY: "sk-very-secret",
            SettingField.MCP_CONFIG: decode_mcp_config(
                {
                    "sse_servers": [{"url": "https://m.example", "api_key": "mcp-secret"}],
                    "stdio_servers": [{"name": "x", "command": "y", "env": {"T": "env-secret"}}],
                }
            ),
        }
    )
    view = SettingsView(
        org_id=OrgId(uuid4()),
        effective=effective_settings(values, SettingsValues()),
        own=values,
    )
    encoded = msgspec.json.encode(SettingsOut.from_view(view)).decode()
    for secret in ("sk-very-secret", "mcp-secret", "env-secret"):
        assert secret not in encoded
    decoded = msgspec.json.decode(encoded)
    assert decoded["llmApiKeySet"] is True
    assert decoded["own"]["llmApiKeySet"] is True
    assert decoded["sources"]["llmApiKey"] == "user"
