"""What the agent's LLM answers, step by step: the scripted runtime plays these itself, and the
test stub LLM serves them to the real agent-server as OpenAI chat completions."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ("Fail", "Finish", "Reply", "Slow", "Step", "ToolCall")


@dataclass(frozen=True, slots=True, kw_only=True)
class Finish:
    """The ``finish`` tool: the run ends with this message."""

    message: str = "Done"


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """Plain assistant text with no tool call: the run ends too."""

    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCall:
    """A call of a registered tool; ``output`` is what the scripted runtime says it printed."""

    tool: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    output: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Fail:
    """The LLM call fails and the run ends in error, as the agent-server reports it: a
    ``ConversationErrorEvent`` with ``code`` and ``detail``. The stub LLM answers the call
    with HTTP ``status`` (401: the agent-server's ``LLMAuthenticationError``)."""

    code: str = "LLMAuthenticationError"
    detail: str = "Your LLM API key appears to be invalid or has expired."
    status: int = 401


@dataclass(frozen=True, slots=True, kw_only=True)
class Slow:
    """``then``, after ``seconds`` (or sooner when released): for pause and stop."""

    seconds: float
    then: "Fail | Finish | Reply | ToolCall"


Step = Fail | Finish | Reply | ToolCall | Slow
