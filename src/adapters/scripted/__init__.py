from adapters.scripted.host import ScriptedHost
from adapters.scripted.runtime import SCRIPTED_TOOLS, ScriptedRuntime, ScriptedWorld
from adapters.scripted.script import Fail, Finish, Reply, Slow, Step, ToolCall

__all__ = (
    "SCRIPTED_TOOLS",
    "Fail",
    "Finish",
    "Reply",
    "ScriptedHost",
    "ScriptedRuntime",
    "ScriptedWorld",
    "Slow",
    "Step",
    "ToolCall",
)
