"""Fakes of ConversationRuntime and RuntimeHost for use-case tests. The scripted runtime is the
fake: the contract suite holds it to the agent-server's event sequences, so tests written
against it see what production sees. Script the agent's answers on its world."""

from adapters.scripted import Finish, Reply, ScriptedHost, ScriptedRuntime, ScriptedWorld, Slow
from adapters.scripted import ToolCall as ScriptedToolCall

__all__ = (
    "FakeConversationRuntime",
    "FakeRuntimeHost",
    "Finish",
    "Reply",
    "ScriptedToolCall",
    "ScriptedWorld",
    "Slow",
)

FakeConversationRuntime = ScriptedRuntime
FakeRuntimeHost = ScriptedHost
