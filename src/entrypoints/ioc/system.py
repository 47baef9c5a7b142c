"""The system's clock."""

from dishka import Provider, Scope, provide

from adapters.system import SystemClock
from application.ports.clock import Clock

__all__ = ("SystemProvider",)


class SystemProvider(Provider):
    """What the operating system gives: the time."""

    clock = provide(SystemClock, provides=Clock, scope=Scope.APP)
