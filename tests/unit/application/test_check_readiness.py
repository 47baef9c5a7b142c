from application.errors import (
    DependencyFailedError,
    DependencyPreparingError,
    DependencyUnavailableError,
)
from application.health import CheckReadiness, CheckReadinessRequest, DependencyState
from tests.fakes import FakeProbe


async def test_ready_when_every_probe_answers() -> None:
    probes = [FakeProbe("database"), FakeProbe("redis")]
    report = await CheckReadiness(probes, timeout_s=1).execute(CheckReadinessRequest())
    assert report.ready
    assert [(d.name, d.up, d.error) for d in report.dependencies] == [
        ("database", True, None),
        ("redis", True, None),
    ]
    assert all(p.calls == 1 for p in probes)


async def test_a_failing_probe_is_named_and_the_others_still_run() -> None:
    report = await CheckReadiness(
        [FakeProbe("database"), FakeProbe("redis", up=False)], timeout_s=1
    ).execute(CheckReadinessRequest())
    assert not report.ready
    statuses = {d.name: d for d in report.dependencies}
    assert statuses["database"].up
    assert not statuses["redis"].up
    assert statuses["redis"].error == "redis is down"


async def test_a_hanging_probe_is_cut_off_at_the_time_limit() -> None:
    report = await CheckReadiness(
        [FakeProbe("database"), FakeProbe("redis", hang_s=30)], timeout_s=0.05
    ).execute(CheckReadinessRequest())
    statuses = {d.name: d for d in report.dependencies}
    assert not report.ready
    assert statuses["redis"].error == "no answer within 0.05 s"
    assert statuses["database"].up


class _SettingUpProbe:
    def __init__(self, name: str, error: DependencyUnavailableError) -> None:
        self.name = name
        self._error = error

    async def check(self) -> None:
        raise self._error


async def test_a_dependency_being_prepared_keeps_the_server_ready_and_says_so() -> None:
    preparing = _SettingUpProbe("runtime", DependencyPreparingError("installing"))
    report = await CheckReadiness([FakeProbe("database"), preparing], timeout_s=1).execute(
        CheckReadinessRequest()
    )
    assert report.ready
    statuses = {d.name: d for d in report.dependencies}
    assert statuses["runtime"].state is DependencyState.PREPARING
    assert statuses["runtime"].error == "installing"


async def test_a_dependency_that_failed_to_set_up_makes_the_server_unready_with_the_reason() -> (
    None
):
    failed = _SettingUpProbe("runtime", DependencyFailedError("pip said no"))
    report = await CheckReadiness([FakeProbe("database"), failed], timeout_s=1).execute(
        CheckReadinessRequest()
    )
    assert not report.ready
    statuses = {d.name: d for d in report.dependencies}
    assert statuses["runtime"].state is DependencyState.FAILED
    assert statuses["runtime"].error == "pip said no"
