import asyncio

from application.errors import DependencyUnavailableError
from application.ports.dependency_probe import DependencyProbe


class FakeProbe(DependencyProbe):
    """Answers, fails or hangs, as the test sets it."""

    def __init__(self, name: str, *, up: bool = True, hang_s: float = 0.0) -> None:
        self.name = name
        self.up = up
        self.hang_s = hang_s
        self.calls = 0

    async def check(self) -> None:
        self.calls += 1
        if self.hang_s:
            await asyncio.sleep(self.hang_s)
        if not self.up:
            raise DependencyUnavailableError(f"{self.name} is down")
