"""Settings value objects, the MCP configuration's shape, and how levels combine."""

import math
import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.settings import (
    DEFAULTS,
    MASK,
    AgentName,
    Budget,
    GitAuthorEmail,
    GitAuthorName,
    InvalidSettingError,
    Language,
    LlmApiKey,
    LlmBaseUrl,
    LlmModel,
    MaxIterations,
    McpConfig,
    SettingField,
    SettingSource,
    SettingsValues,
    effective_settings,
)

# ---- value objects: valid input round-trips, anything else names its field ------------------


@given(st.integers(min_value=1, max_value=MaxIterations.MAX))
def test_max_iterations_in_bounds_round_trip(raw: int) -> None:
    assert MaxIterations(raw).value == raw


@given(st.integers().filter(lambda n: not 1 <= n <= MaxIterations.MAX) | st.booleans())
def test_max_iterations_out_of_bounds_are_refused(raw: int) -> None:
    with pytest.raises(InvalidSettingError) as refused:
        MaxIterations(raw)
    assert refused.value.field == "maxIterations"


@given(st.floats(min_value=0, max_value=Budget.MAX) | st.integers(0, int(Budget.MAX)))
def test_budgets_in_bounds_are_kept_as_floats(raw: float) -> None:
    assert Budget(raw).value == float(raw)


@given(
    st.floats(max_value=-1e-9)
    | st.floats(min_value=Budget.MAX + 1)
    | st.sampled_from([math.nan, math.inf, -math.inf, True])
)
def test_negative_huge_or_non_finite_budgets_are_refused(raw: float) -> None:
    with pytest.raises(InvalidSettingError) as refused:
        Budget(raw)
    assert refused.value.field == "maxBudgetPerTask"


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [("en", "en"), ("PT-br", "pt-BR"), ("zh-hant-tw", "zh-Hant-TW"), ("es-419", "es-419")],
)
def test_languages_are_bcp47_tags_in_conventional_case(raw: str, canonical: str) -> None:
    assert Language(raw).value == canonical


@pytest.mark.parametrize("raw", ["", "e", "english", "en_US", "en-", "-en", "en US", "x" * 40])
def test_malformed_languages_are_refused(raw: str) -> None:
    with pytest.raises(InvalidSettingError) as refused:
        Language(raw)
    assert refused.value.field == "language"


@given(st.text(max_size=40))
def test_any_language_is_a_tag_or_refused(raw: str) -> None:
    try:
        language = Language(raw)
    except InvalidSettingError:
        return
    assert Language(language.value) == language


@pytest.mark.parametrize(
    "raw",
    ["https://api.openai.com/v1", "http://127.0.0.1:11434", "https://llm.example.com:8443/x?y=1"],
)
def test_base_urls_are_http_or_https_with_a_host(raw: str) -> None:
    assert LlmBaseUrl(raw).value == raw


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "api.openai.com",
        "ftp://llm.example.com",
        "https://",
        "https://user:pass@llm.example.com",
        "https://llm.example.com/#x",
        "https://llm.example.com:99999",
        "https://llm example.com",
        "javascript:alert(1)",
        "https://" + "a" * 2048 + ".com",
    ],
)
def test_other_base_urls_are_refused(raw: str) -> None:
    with pytest.raises(InvalidSettingError) as refused:
        LlmBaseUrl(raw)
    assert refused.value.field == "llmBaseUrl"


@given(st.text(max_size=300))
def test_any_text_is_a_model_an_agent_or_refused_with_its_field(raw: str) -> None:
    for kind, field in ((LlmModel, "llmModel"), (AgentName, "agent")):
        try:
            kind(raw)
        except InvalidSettingError as exc:
            assert exc.field == field
        else:
            assert raw
            assert raw.strip() == raw


@given(st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=200))
def test_api_keys_of_printable_characters_are_kept_and_never_shown(raw: str) -> None:
    key = LlmApiKey(raw)
    assert key.value == raw
    assert repr(key) == "LlmApiKey(...)"


@pytest.mark.parametrize("raw", ["", "sk 123", "sk\n123", "x" * 4097])
def test_malformed_api_keys_are_refused(raw: str) -> None:
    with pytest.raises(InvalidSettingError) as refused:
        LlmApiKey(raw)
    assert refused.value.field == "llmApiKey"


def test_git_author_fields() -> None:
    assert GitAuthorName("  Ada   Lovelace ").value == "Ada Lovelace"
    assert GitAuthorEmail("Ada@EXAMPLE.com").value == "Ada@example.com"
    for bad_name in ("", "Ada <ada@example.com>", "x" * 101, "a\x00b"):
        with pytest.raises(InvalidSettingError) as refused:
            GitAuthorName(bad_name)
        assert refused.value.field == "gitAuthorName"
    for bad_email in ("ada", "ada@", "a b@example.com", "<a>@example.com"):
        with pytest.raises(InvalidSettingError) as refused:
            GitAuthorEmail(bad_email)
        assert refused.value.field == "gitAuthorEmail"


# ---- MCP configuration ------------------------------------------------------------------------

FULL: dict[str, Any] = {
    "sse_servers": ["https://a.example/sse", {"url": "https://b.example/sse", "api_key": "k1"}],
    "stdio_servers": [
        {"name": "fetch", "command": "uvx", "args": ["mcp-server-fetch"], "env": {"T": "tok"}}
    ],
    "shttp_servers": [{"url": "https://c.example/mcp", "api_key": "k2", "timeout": 60}],
}


def test_the_openhands_shape_parses_and_round_trips() -> None:
    config = McpConfig.parse(FULL)
    document = config.to_document()
    assert document["sse_servers"][0] == {"url": "https://a.example/sse"}
    assert McpConfig.parse(document) == config
    assert McpConfig.parse({}) == McpConfig()


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ([], ""),
        ("servers", ""),
        ({"servers": []}, "servers"),
        ({"sse_servers": {}}, "sse_servers"),
        ({"sse_servers": [1]}, "sse_servers[0]"),
        ({"sse_servers": ["not a url"]}, "sse_servers[0].url"),
        ({"sse_servers": [{"url": "https://a", "timeout": 5}]}, "timeout"),
        ({"shttp_servers": [{"url": "https://a", "timeout": 0}]}, "shttp_servers[0].timeout"),
        ({"stdio_servers": [{"name": "x"}]}, "stdio_servers[0]"),
        ({"stdio_servers": [{"name": "x", "command": "c", "args": "a"}]}, "args"),
        ({"stdio_servers": [{"name": "x", "command": "c", "env": {"1X": "v"}}]}, "env"),
        ({"stdio_servers": [{"name": "x", "command": "c", "env": {"X": 1}}]}, "env.X"),
        ({"stdio_servers": [{"name": "x", "command": "c"}] * 2}, "unique"),
        ({"sse_servers": ["https://a.example"] * 33}, "at most"),
    ],
)
def test_anything_else_is_refused_naming_mcp_config(raw: object, where: str) -> None:
    with pytest.raises(InvalidSettingError) as refused:
        McpConfig.parse(raw)
    assert refused.value.field == "mcpConfig"
    assert where in refused.value.message


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["sse_servers", "stdio_servers", "url", "name", "command", "env", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=10,
)


@given(json_values)
def test_any_json_is_a_configuration_or_refused_naming_mcp_config(raw: object) -> None:
    try:
        config = McpConfig.parse(raw)
    except InvalidSettingError as exc:
        assert exc.field == "mcpConfig"
    else:
        assert McpConfig.parse(config.to_document()) == config


def test_masked_documents_hide_secrets_and_give_them_back_on_write() -> None:
    stored = McpConfig.parse(FULL)
    masked = stored.to_document(masked=True)
    for secret in ("k1", "k2", "tok"):
        assert secret not in str(masked)
    assert masked["stdio_servers"][0]["env"] == {"T": MASK}
    assert McpConfig.parse(masked).keeping_masked_from(stored) == stored
    with pytest.raises(InvalidSettingError, match="masked"):
        McpConfig.parse(masked).keeping_masked_from(None)
    moved = dict(masked, shttp_servers=[{"url": "https://elsewhere", "api_key": MASK}])
    with pytest.raises(InvalidSettingError, match="masked"):
        McpConfig.parse(moved).keeping_masked_from(stored)
    assert "k1" not in repr(stored)


# ---- levels -------------------------------------------------------------------------------------


def _values(**raw: object) -> SettingsValues:
    return SettingsValues().changed({SettingField(k): v for k, v in raw.items()})


def test_user_values_win_over_org_values_over_defaults_field_by_field() -> None:
    user = _values(llmModel="openai/gpt-4o", language="fr")
    org = _values(llmModel="anthropic/claude", maxIterations=50, confirmationMode=True)
    effective = effective_settings(user, org)
    assert effective.values.llm_model == LlmModel("openai/gpt-4o")
    assert effective.values.language == Language("fr")
    assert effective.values.max_iterations == MaxIterations(50)
    assert effective.values.confirmation_mode is True
    assert effective.values.agent == DEFAULTS.agent
    assert effective.sources[SettingField.LLM_MODEL] is SettingSource.USER
    assert effective.sources[SettingField.MAX_ITERATIONS] is SettingSource.ORG
    assert effective.sources[SettingField.AGENT] is SettingSource.DEFAULT
    assert list(effective.sources) == list(SettingField)


def test_the_llm_key_and_base_url_come_as_a_pair_from_one_level() -> None:
    org = _values(llmApiKey="org-key", llmBaseUrl="https://proxy.acme.example")
    alone = effective_settings(SettingsValues(), org)
    assert alone.values.llm_api_key == LlmApiKey("org-key")
    assert alone.sources[SettingField.LLM_API_KEY] is SettingSource.ORG

    own_url = effective_settings(_values(llmBaseUrl="https://evil.example"), org)
    assert own_url.values.llm_api_key is None, "the org's key never goes to a member's URL"
    assert own_url.values.llm_base_url == LlmBaseUrl("https://evil.example")
    assert own_url.sources[SettingField.LLM_API_KEY] is SettingSource.USER

    own_key = effective_settings(_values(llmApiKey="mine"), org)
    assert own_key.values.llm_api_key == LlmApiKey("mine")
    assert own_key.values.llm_base_url is None, "a member's key never goes to the org's URL"


@given(
    st.sampled_from([None, "u"]),
    st.sampled_from([None, "https://u.example"]),
    st.sampled_from([None, "o"]),
    st.sampled_from([None, "https://o.example"]),
)
def test_the_endpoint_pair_never_mixes_levels(
    user_key: str | None, user_url: str | None, org_key: str | None, org_url: str | None
) -> None:
    user = _values(llmApiKey=user_key, llmBaseUrl=user_url)
    org = _values(llmApiKey=org_key, llmBaseUrl=org_url)
    values = effective_settings(user, org).values
    pair = (
        None if values.llm_api_key is None else values.llm_api_key.value,
        None if values.llm_base_url is None else values.llm_base_url.value,
    )
    assert pair in {(user_key, user_url), (org_key, org_url)}


def test_changes_set_clear_and_keep() -> None:
    values = _values(llmModel="a/b", language="de", llmApiKey="k")
    changed = values.changed({SettingField.LANGUAGE: None, SettingField.AGENT: "Browser"})
    assert changed.language is None
    assert changed.agent == AgentName("Browser")
    assert changed.llm_model == values.llm_model
    assert changed.llm_api_key == values.llm_api_key
    assert "'k'" not in repr(changed)
    with pytest.raises(InvalidSettingError) as refused:
        values.changed({SettingField.CONFIRMATION_MODE: "yes"})
    assert refused.value.field == "confirmationMode"
    with pytest.raises(InvalidSettingError) as refused:
        values.changed({SettingField.LLM_MODEL: 5})
    assert refused.value.field == "llmModel"
