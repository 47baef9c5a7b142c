"""What the agent's LLM answers, step by step: the scripted runtime plays these itself, and the
test stub LLM serves them to the real agent-server as OpenAI chat completions."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ("Finish", "Reply", "Slow", "Step", "ToolCall")


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
class Slow:
    """``then``, after ``seconds`` (or sooner when released): for pause and stop."""

    seconds: float
    then: "Finish | Reply | ToolCall"


Step = Finish | Reply | ToolCall | Slow
