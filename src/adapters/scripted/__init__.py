from adapters.scripted.host import ScriptedHost
from adapters.scripted.runtime import SCRIPTED_TOOLS, ScriptedRuntime, ScriptedWorld
from adapters.scripted.script import Finish, Reply, Slow, Step, ToolCall

__all__ = (
    "SCRIPTED_TOOLS",
    "Finish",
    "Reply",
    "ScriptedHost",
    "ScriptedRuntime",
    "ScriptedWorld",
    "Slow",
    "Step",
    "ToolCall",
)
