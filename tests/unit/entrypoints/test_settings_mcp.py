"""The MCP configuration as clients write it: OpenHands' JSON shape in, the typed value out,
and back with every secret masked."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.settings import MASK, InvalidSettingError, McpConfig, McpRemoteServer
from entrypoints.http.settings.mcp import decode_mcp_config, encode_mcp_config

FULL: dict[str, Any] = {
    "sse_servers": ["https://a.example/sse", {"url": "https://b.example/sse", "api_key": "k1"}],
    "stdio_servers": [
        {"name": "fetch", "command": "uvx", "args": ["mcp-server-fetch"], "env": {"T": "tok"}}
    ],
    "shttp_servers": [{"url": "https://c.example/mcp", "api_key": "k2", "timeout": 60}],
}


def test_the_openhands_shape_decodes_and_encodes_masked() -> None:
    config = decode_mcp_config(FULL)
    assert config.sse_servers[0] == McpRemoteServer(url="https://a.example/sse")
    assert config.shttp_servers[0].timeout == 60
    assert config.stdio_servers[0].env == (("T", "tok"),)
    shown = encode_mcp_config(config)
    assert shown == {
        "sse_servers": [
            {"url": "https://a.example/sse"},
            {"url": "https://b.example/sse", "api_key": MASK},
        ],
        "stdio_servers": [
            {"name": "fetch", "command": "uvx", "args": ["mcp-server-fetch"], "env": {"T": MASK}}
        ],
        "shttp_servers": [{"url": "https://c.example/mcp", "api_key": MASK, "timeout": 60}],
    }
    for secret in ("k1", "k2", "tok"):
        assert secret not in str(shown)
    assert decode_mcp_config(shown).keeping_masked_from(config) == config
    assert decode_mcp_config({}) == McpConfig()


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
        ({"shttp_servers": [{"url": "https://a", "timeout": True}]}, "shttp_servers[0].timeout"),
        ({"stdio_servers": [{"name": "x"}]}, "stdio_servers[0]"),
        ({"stdio_servers": [{"name": "x", "command": "c", "args": "a"}]}, "args"),
        ({"stdio_servers": [{"name": "x", "command": "c", "env": {"1X": "v"}}]}, "env"),
        ({"stdio_servers": [{"name": "x", "command": "c", "env": {"X": 1}}]}, "env"),
        ({"stdio_servers": [{"name": "x", "command": "c"}] * 2}, "unique"),
        ({"sse_servers": ["https://a.example"] * 33}, "at most"),
    ],
)
def test_anything_else_is_refused_naming_mcp_config(raw: object, where: str) -> None:
    with pytest.raises(InvalidSettingError) as refused:
        decode_mcp_config(raw)
    assert refused.value.field == "mcp_config"
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
        config = decode_mcp_config(raw)
    except InvalidSettingError as exc:
        assert exc.field == "mcp_config"
    else:
        assert decode_mcp_config(encode_mcp_config(config)).keeping_masked_from(config) == config
