"""Settings value objects, the MCP configuration's limits, and how levels combine."""

import math
import string
from collections.abc import Callable
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
    McpRemoteServer,
    McpStdioServer,
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
    assert refused.value.field == "max_iterations"


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
    assert refused.value.field == "max_budget_per_task"


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
    assert refused.value.field == "llm_base_url"


@given(st.text(max_size=300))
def test_any_text_is_a_model_an_agent_or_refused_with_its_field(raw: str) -> None:
    for kind, field in ((LlmModel, "llm_model"), (AgentName, "agent")):
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
    assert refused.value.field == "llm_api_key"


def test_git_author_fields() -> None:
    assert GitAuthorName("  Ada   Lovelace ").value == "Ada Lovelace"
    assert GitAuthorEmail("Ada@EXAMPLE.com").value == "Ada@example.com"
    for bad_name in ("", "Ada <ada@example.com>", "x" * 101, "a\x00b"):
        with pytest.raises(InvalidSettingError) as refused:
            GitAuthorName(bad_name)
        assert refused.value.field == "git_author_name"
    for bad_email in ("ada", "ada@", "a b@example.com", "<a>@example.com"):
        with pytest.raises(InvalidSettingError) as refused:
            GitAuthorEmail(bad_email)
        assert refused.value.field == "git_author_email"


# ---- MCP configuration ------------------------------------------------------------------------

FULL = McpConfig(
    sse_servers=(
        McpRemoteServer(url="https://a.example/sse"),
        McpRemoteServer(url="https://b.example/sse", api_key="k1"),
    ),
    stdio_servers=(
        McpStdioServer(
            name="fetch",
            command="uvx",
            args=("mcp-server-fetch",),
            env=(("T", "tok"), ("A", "a-tok")),
        ),
    ),
    shttp_servers=(McpRemoteServer(url="https://c.example/mcp", api_key="k2", timeout=60),),
)


def test_a_configuration_keeps_its_servers_with_their_environment_sorted() -> None:
    assert FULL.stdio_servers[0].env == (("A", "a-tok"), ("T", "tok"))
    assert FULL.sse_servers[1].api_key == "k1"
    assert McpConfig() == McpConfig(sse_servers=(), stdio_servers=(), shttp_servers=())


def _stdio(**changes: Any) -> McpConfig:
    return McpConfig(stdio_servers=(McpStdioServer(**{"name": "x", "command": "c", **changes}),))


def _remote(kind: str, **server: Any) -> McpConfig:
    servers = (McpRemoteServer(**{"url": "https://a.example", **server}),)
    return McpConfig(sse_servers=servers) if kind == "sse" else McpConfig(shttp_servers=servers)


@pytest.mark.parametrize(
    ("build", "where"),
    [
        (lambda: _remote("sse", url="not a url"), "sse_servers[0].url"),
        (lambda: _remote("sse", url="x" * 2049), "sse_servers[0].url"),
        (lambda: _remote("sse", timeout=5), "sse_servers[0].timeout"),
        (lambda: _remote("sse", api_key=""), "sse_servers[0].api_key"),
        (lambda: _remote("shttp", timeout=0), "shttp_servers[0].timeout"),
        (lambda: _remote("shttp", timeout=True), "shttp_servers[0].timeout"),
        (lambda: _remote("shttp", timeout=3601), "shttp_servers[0].timeout"),
        (lambda: _stdio(name="a b"), "stdio_servers[0].name"),
        (lambda: _stdio(command=""), "stdio_servers[0].command"),
        (lambda: _stdio(args=("ok", "")), "stdio_servers[0].args[1]"),
        (lambda: _stdio(args=("a",) * 65), "stdio_servers[0].args"),
        (lambda: _stdio(env=(("1X", "v"),)), "stdio_servers[0].env"),
        (lambda: _stdio(env=(("X", "v\x00"),)), "stdio_servers[0].env.X"),
        (lambda: _stdio(env=tuple((f"V{i}", "v") for i in range(65))), "stdio_servers[0].env"),
        (
            lambda: McpConfig(stdio_servers=(McpStdioServer(name="x", command="c"),) * 2),
            "stdio_servers",
        ),
        (
            lambda: McpConfig(sse_servers=(McpRemoteServer(url="https://a.example"),) * 33),
            "sse_servers",
        ),
    ],
)
def test_anything_out_of_bounds_is_refused_naming_where(
    build: Callable[[], McpConfig], where: str
) -> None:
    with pytest.raises(InvalidSettingError) as refused:
        build()
    assert refused.value.field == "mcp_config"
    assert refused.value.path == where
    assert refused.value.message.startswith(f"mcp_config.{where}: ")


def test_masked_configurations_hide_secrets_and_give_them_back_on_write() -> None:
    masked = FULL.masked()
    for secret in ("k1", "k2", "tok", "a-tok"):
        assert secret not in repr((masked.sse_servers, masked.stdio_servers, masked.shttp_servers))
    assert masked.stdio_servers[0].env == (("A", MASK), ("T", MASK))
    assert masked.sse_servers[0].api_key is None
    assert masked.keeping_masked_from(FULL) == FULL
    with pytest.raises(InvalidSettingError, match="masked"):
        masked.keeping_masked_from(None)
    moved = _remote("shttp", url="https://elsewhere.example", api_key=MASK)
    with pytest.raises(InvalidSettingError, match="masked") as refused:
        moved.keeping_masked_from(FULL)
    assert refused.value.path == "shttp_servers[0].api_key"
    assert "k1" not in repr(FULL)


def test_a_configuration_is_a_setting_only_as_a_typed_value() -> None:
    assert SettingsValues().changed({SettingField.MCP_CONFIG: FULL}).mcp_config == FULL
    with pytest.raises(InvalidSettingError) as refused:
        SettingsValues().changed({SettingField.MCP_CONFIG: {"sse_servers": []}})
    assert refused.value.field == "mcp_config"


# ---- levels -------------------------------------------------------------------------------------


def _values(**raw: object) -> SettingsValues:
    return SettingsValues().changed({SettingField(k): v for k, v in raw.items()})


def test_user_values_win_over_org_values_over_defaults_field_by_field() -> None:
    user = _values(llm_model="openai/gpt-4o", language="fr")
    org = _values(llm_model="anthropic/claude", max_iterations=50, confirmation_mode=True)
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
    org = _values(llm_api_key="org-key", llm_base_url="https://proxy.acme.example")
    alone = effective_settings(SettingsValues(), org)
    assert alone.values.llm_api_key == LlmApiKey("org-key")
    assert alone.sources[SettingField.LLM_API_KEY] is SettingSource.ORG

    own_url = effective_settings(_values(llm_base_url="https://evil.example"), org)
    assert own_url.values.llm_api_key is None, "the org's key never goes to a member's URL"
    assert own_url.values.llm_base_url == LlmBaseUrl("https://evil.example")
    assert own_url.sources[SettingField.LLM_API_KEY] is SettingSource.USER

    own_key = effective_settings(_values(llm_api_key="mine"), org)
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
    user = _values(llm_api_key=user_key, llm_base_url=user_url)
    org = _values(llm_api_key=org_key, llm_base_url=org_url)
    values = effective_settings(user, org).values
    pair = (
        None if values.llm_api_key is None else values.llm_api_key.value,
        None if values.llm_base_url is None else values.llm_base_url.value,
    )
    assert pair in {(user_key, user_url), (org_key, org_url)}


def test_changes_set_clear_and_keep() -> None:
    values = _values(llm_model="a/b", language="de", llm_api_key="k")
    changed = values.changed({SettingField.LANGUAGE: None, SettingField.AGENT: "Browser"})
    assert changed.language is None
    assert changed.agent == AgentName("Browser")
    assert changed.llm_model == values.llm_model
    assert changed.llm_api_key == values.llm_api_key
    assert "'k'" not in repr(changed)
    with pytest.raises(InvalidSettingError) as refused:
        values.changed({SettingField.CONFIRMATION_MODE: "yes"})
    assert refused.value.field == "confirmation_mode"
    with pytest.raises(InvalidSettingError) as refused:
        values.changed({SettingField.LLM_MODEL: 5})
    assert refused.value.field == "llm_model"
