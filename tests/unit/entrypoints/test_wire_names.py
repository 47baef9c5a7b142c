"""The core names fields by attribute; clients know them by the names msgspec's
``rename="camel"`` gives every HTTP schema's fields."""

from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from domain.audit.entities import AuditAction, AuditEvent
from domain.settings import SettingField
from entrypoints.http.members.schemas import AuditEventOut
from entrypoints.http.settings.schemas import SettingsUpdate
from entrypoints.http.wire_names import wire_name


def test_every_setting_is_known_by_its_body_field() -> None:
    body = {f.name: f.encode_name for f in msgspec.structs.fields(SettingsUpdate)}
    assert {wire_name(name.value) for name in SettingField} == set(body.values())
    assert all(wire_name(name) == encoded for name, encoded in body.items())


@given(st.from_regex(r"[a-z][a-z0-9]{0,5}(_[a-z0-9]{1,5}){0,3}", fullmatch=True))
def test_attribute_names_become_camel_case(attribute: str) -> None:
    named = wire_name(attribute)
    assert "_" not in named
    assert named.lower() == attribute.replace("_", "")
    assert wire_name(named) == named


def test_names_that_are_no_attribute_stay_as_they_are() -> None:
    assert wire_name("X-Org-Id") == "X-Org-Id"
    assert wire_name("installationId") == "installationId"


def test_the_audit_trail_lists_changed_settings_by_their_wire_names() -> None:
    event = AuditEvent(
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        action=AuditAction.ORG_SETTINGS_CHANGED,
        actor_id=None,
        org_id=None,
        target_type="org_settings",
        target_id=str(uuid4()),
        details={"fields": "llm_api_key,max_budget_per_task,mcp_config"},
    )
    shown = AuditEventOut.from_entity(event)
    assert shown.details == {"fields": "llmApiKey,maxBudgetPerTask,mcpConfig"}
    older = replace(event, details={"fields": "llmApiKey,maxIterations", "other_key": "a_b"})
    assert AuditEventOut.from_entity(older).details == {
        "fields": "llmApiKey,maxIterations",
        "other_key": "a_b",
    }
