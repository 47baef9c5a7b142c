"""`just bench`: requests/s and latency of our server beside a bare Litestar floor.

In one run it starts our server with the production CLI (`maestrist serve`: granian, one
worker, embedded binding on a fresh SQLite directory, access log off) and measures
`GET /api/user/me` and `GET /health/live`; then it starts `scripts/bench_floor.py` on the same
server (granian, one worker, default loop and runtime) and measures `GET /hello`, a constant
profile of the same shape. Each server and its children run on CPU 0 and wrk on CPU 1 when
`taskset` exists and both CPUs are available. Every target gets one 5 s warm-up and then
`--runs` wrk runs; the Markdown report gives the median and min-max of each metric, the
ratios to the floor, the machine and the exact commands. Only loopback addresses are used,
and every server started here is stopped on the way out, Ctrl-C and errors included.
"""

import argparse
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sysconfig.get_path("scripts"))
HOST = "127.0.0.1"
SERVER_CPU = 0
WRK_CPU = 1
WARMUP_S = 5
SETTLE_S = 2.0
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
PROBE_TIMEOUT_S = 180.0
WRK_TIMEOUT = "10s"
VERSIONED = ("litestar", "granian", "msgspec", "dishka", "sqlalchemy", "aiosqlite", "uvloop")
_MS_PER_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# Loopback only, whatever proxy the environment names.
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class BenchError(Exception):
    """The benchmark could not produce trustworthy figures."""


@dataclass(frozen=True, slots=True)
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    socket_errors: int
    server_cpu: float | None = None  # server CPU seconds per wall second, over the run
    other_cpu: float | None = None  # the same for every process but the server and wrk
    steal: float | None = None  # share of the server's CPU the hypervisor gave elsewhere


@dataclass(frozen=True, slots=True)
class Target:
    label: str
    path: str
    headers: tuple[str, ...] = ()  # "Name: value", sent with every request


@dataclass(slots=True)
class Result:
    target: Target
    body_bytes: int
    warmup: Run
    runs: list[Run] = field(default_factory=list)

    def median(self, metric: str) -> float:
        return float(statistics.median(getattr(run, metric) for run in self.runs))


ME = Target("ours `GET /api/user/me`", "/api/user/me")
LIVE = Target("ours `GET /health/live`", "/health/live")
HELLO = Target("floor `GET /hello`", "/hello")


# --- processes -------------------------------------------------------------------------------


def pinning() -> str | None:
    """Why the processes cannot be pinned, or None when they can."""
    if shutil.which("taskset") is None:
        return "taskset not found"
    if not hasattr(os, "sched_getaffinity"):
        return "no CPU affinity on this platform"
    if not {SERVER_CPU, WRK_CPU} <= os.sched_getaffinity(0):
        return f"CPUs {SERVER_CPU} and {WRK_CPU} are not both available"
    return None


def pinned(cpus: int | str, command: list[str]) -> list[str]:
    """`command` run on `cpus` (a CPU number or a taskset list such as `0-1`)."""
    return command if pinning() else ["taskset", "-c", str(cpus), *command]


def cpu_set(cpus: int | str) -> set[int]:
    """The CPUs of a taskset list: `0`, `0-1`, `0,2`."""
    found: set[int] = set()
    for part in str(cpus).split(","):
        first, _, last = part.partition("-")
        found.update(range(int(first), int(last or first) + 1))
    return found


def free_port(taken: Sequence[int] = ()) -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((HOST, 0))
            port = int(probe.getsockname()[1])
        if port not in taken:
            return port


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without settings that would change what is measured."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MAESTRIST_", "GRANIAN_"))
    }
    return {**env, **extra}


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state is [0], pgrp [2])."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group."""
    if not Path("/proc/self/stat").exists():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat is not None and int(stat[2]) == pgid and stat[0] != "Z":
                members.append(int(entry.name))
    return members


def group_rss_bytes(pgid: int) -> list[int]:
    """Resident memory (VmRSS) of each live member of a process group (Linux only)."""
    sizes = []
    for pid in group_members(pgid):
        with suppress(OSError):
            status = Path(f"/proc/{pid}/status").read_text()
            found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
            if found:
                sizes.append(int(found[1]) * 1024)
    return sizes


def cpu_seconds(pids: Sequence[int]) -> float | None:
    """User + system CPU time of live processes (Linux only)."""
    if not Path("/proc/self/stat").exists():
        return None
    total = 0
    for pid in pids:
        stat = _proc_stat(pid)
        if stat is not None:
            total += int(stat[11]) + int(stat[12])  # utime, stime
    return total / _CLOCK_TICKS


def group_cpu_seconds(pgid: int) -> float | None:
    """User + system CPU time of the live members of a process group (Linux only)."""
    return cpu_seconds(group_members(pgid))


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no output)"
    return "\n".join(text.splitlines()[-lines:]) or "(no output)"


def get(url: str, timeout_s: float = 2.0, headers: Sequence[str] = ()) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=dict(header.split(": ", 1) for header in headers))
    try:
        with _HTTP.open(request, timeout=timeout_s) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


class Server:
    """A server in a session of its own, so that it and all its workers stop together."""

    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        log: Path,
        *,
        cpus: int | str = SERVER_CPU,
        settle_s: float = SETTLE_S,
    ) -> None:
        self.name = name
        self.cpus = cpus
        self.command = pinned(cpus, command)
        self.ready_s: float | None = None  # process start to the first 200 of `ready_url`
        self._env = env
        self._log = log
        self._settle_s = settle_s
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pgid(self) -> int:
        assert self._process is not None
        return self._process.pid  # start_new_session: the leader's pid is the group id

    def start(self, ready_url: str) -> None:
        started = time.monotonic()
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if self._process.poll() is not None:
                raise BenchError(
                    f"{self.name} exited with {self._process.returncode} before it was ready:\n"
                    f"{_tail(self._log)}"
                )
            try:
                if get(ready_url, timeout_s=1.0)[0] == 200:
                    self.ready_s = time.monotonic() - started
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(
                    f"{self.name}: {ready_url} did not answer 200 within {READY_TIMEOUT_S:g} s:\n"
                    f"{_tail(self._log)}"
                )
            time.sleep(0.01)
        time.sleep(self._settle_s)
        self._check_pinning()

    def _check_pinning(self) -> None:
        if pinning() is not None:
            return
        for pid in group_members(self.pgid):
            try:
                cpus = os.sched_getaffinity(pid)
            except OSError:
                continue
            if cpus != cpu_set(self.cpus):
                raise BenchError(f"{self.name}: process {pid} runs on CPUs {sorted(cpus)}")

    def stop(self) -> None:
        if self._process is None:
            return
        # A second Ctrl-C or SIGTERM must not cut the stop short and leave servers behind.
        stopping = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in stopping}
        try:
            self._stop()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _stop(self) -> None:
        self._signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        if not self._wait_until(deadline):
            print(f"{self.name} did not stop on SIGTERM; sending SIGKILL", file=sys.stderr)
            self._signal(signal.SIGKILL)
            if not self._wait_until(time.monotonic() + 10.0):
                left = group_members(self.pgid)
                raise BenchError(f"{self.name}: processes {left} survived SIGKILL")
        self._process = None

    def _signal(self, signum: signal.Signals) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.pgid, signum)

    def _wait_until(self, deadline: float) -> bool:
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None and not group_members(self.pgid):
                return True
            time.sleep(0.05)
        return self._process.poll() is not None and not group_members(self.pgid)


@contextmanager
def running(server: Server, ready_url: str) -> Iterator[Server]:
    try:
        server.start(ready_url)
        yield server
    finally:
        server.stop()


# --- wrk -------------------------------------------------------------------------------------


def wrk_command(
    url: str, *, seconds: int, connections: int, headers: Sequence[str] = ()
) -> list[str]:
    return pinned(
        WRK_CPU,
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            WRK_TIMEOUT,
            "--latency",
            *(part for header in headers for part in ("-H", header)),
            url,
        ],
    )


def _ms(value: str, unit: str) -> float:
    return float(value) * _MS_PER_UNIT[unit]


def _find(pattern: str, output: str) -> re.Match[str]:
    found = re.search(pattern, output, re.MULTILINE)
    if found is None:
        raise BenchError(f"wrk output without {pattern!r}:\n{output}")
    return found


def parse_wrk(output: str) -> Run:
    """Requests/s, the 50th and 99th percentile of the latency distribution, and errors."""
    percentile = r"^\s*{}%\s+([\d.]+)(us|ms|s|m|h)\s*$"
    p50 = _find(percentile.format(50), output)
    p99 = _find(percentile.format(99), output)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return Run(
        rps=float(_find(r"Requests/sec:\s+([\d.]+)", output)[1]),
        p50_ms=_ms(p50[1], p50[2]),
        p99_ms=_ms(p99[1], p99[2]),
        non2xx=int(non2xx[1]) if non2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def machine_seconds() -> tuple[float, float] | None:
    """CPU seconds since boot: all CPUs busy, and stolen by the hypervisor from the server's
    CPU (Linux only)."""
    try:
        lines = Path("/proc/stat").read_text().splitlines()
    except OSError:
        return None
    times = {line.split()[0]: [int(n) for n in line.split()[1:]] for line in lines}
    total, server = times.get("cpu"), times.get(f"cpu{SERVER_CPU}")
    if total is None or server is None or len(server) < 8:
        return None
    user, nice, system, _idle, _iowait, irq, softirq = total[:7]
    return (user + nice + system + irq + softirq) / _CLOCK_TICKS, server[7] / _CLOCK_TICKS


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(
    url: str, *, seconds: int, connections: int, server: Server, headers: Sequence[str] = ()
) -> Run:
    """One wrk run, with the CPU the server and everything else used meanwhile."""
    command = wrk_command(url, seconds=seconds, connections=connections, headers=headers)
    server_before, machine_before = group_cpu_seconds(server.pgid), machine_seconds()
    wrk_before, started = children_cpu_seconds(), time.monotonic()
    completed = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=seconds + 60
    )
    elapsed = time.monotonic() - started
    wrk_cpu = children_cpu_seconds() - wrk_before  # the server is not reaped yet: only wrk
    server_after, machine_after = group_cpu_seconds(server.pgid), machine_seconds()
    if completed.returncode != 0:
        raise BenchError(f"{shlex.join(command)} failed:\n{completed.stderr}{completed.stdout}")
    run = parse_wrk(completed.stdout)
    if server_before is None or server_after is None:
        return run
    server_cpu = server_after - server_before
    other_cpu = steal = None
    if machine_before is not None and machine_after is not None:
        busy = machine_after[0] - machine_before[0]
        other_cpu = max(0.0, busy - server_cpu - wrk_cpu) / elapsed
        steal = (machine_after[1] - machine_before[1]) / elapsed
    return Run(
        rps=run.rps,
        p50_ms=run.p50_ms,
        p99_ms=run.p99_ms,
        non2xx=run.non2xx,
        socket_errors=run.socket_errors,
        server_cpu=server_cpu / elapsed,
        other_cpu=other_cpu,
        steal=steal,
    )


def probe(label: str, url: str, headers: Sequence[str]) -> bytes:
    """The body of a 200 from `url`, once the server has worked off what the load before
    left queued (until then it may be slow, or answer 503 while its pool is busy)."""
    deadline = time.monotonic() + PROBE_TIMEOUT_S
    while True:
        try:
            status, body = get(url, timeout_s=30.0, headers=headers)
        except OSError as error:
            status, body = 0, str(error).encode()
        if status == 200:
            return body
        if time.monotonic() > deadline:
            raise BenchError(f"{label}: {url} answered {status or 'nothing'}: {body!r}")
        time.sleep(0.1)


def measure(
    target: Target,
    base: str,
    server: Server,
    *,
    runs: int,
    duration: int,
    connections: int,
    warmup: int = WARMUP_S,
) -> Result:
    url = base + target.path
    body = probe(target.label, url, target.headers)
    print(f"{target.label}: warm-up {warmup} s", file=sys.stderr)

    def load(seconds: int) -> Run:
        return wrk(
            url, seconds=seconds, connections=connections, server=server, headers=target.headers
        )

    result = Result(target=target, body_bytes=len(body), warmup=load(warmup))
    for number in range(1, runs + 1):
        run = load(duration)
        print(
            f"{target.label}: run {number}/{runs}: {run.rps:,.0f} req/s, "
            f"p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms, non-2xx {run.non2xx}, "
            f"socket errors {run.socket_errors}, server CPU {percent([run.server_cpu])}, "
            f"other CPU {percent([run.other_cpu])}, steal {percent([run.steal], 1)}",
            file=sys.stderr,
        )
        result.runs.append(run)
    return result


# --- report ----------------------------------------------------------------------------------


def shown(path: Path) -> str:
    """A path as the report shows it: relative to the repository, never absolute."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return path.name


def cpu_model() -> str:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine() or "unknown CPU"
    found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    return found[1].strip() if found else platform.machine() or "unknown CPU"


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def load_average() -> str | None:
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return None


def wrk_version() -> str:
    completed = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    found = re.search(r"wrk (\S+)", completed.stdout + completed.stderr)
    return found[1] if found else "unknown"


def _range(values: list[float], digits: int) -> tuple[str, str]:
    def fmt(value: float) -> str:
        return f"{value:,.{digits}f}"

    return fmt(statistics.median(values)), f"{fmt(min(values))}-{fmt(max(values))}"


def percent(values: list[float | None], digits: int = 0) -> str:
    known = [value for value in values if value is not None]
    return f"{statistics.median(known):.{digits}%}" if known else "n/a"


def table(results: list[Result]) -> list[str]:
    lines = [
        (
            "| target | median req/s | req/s range | median p50 ms | p50 range "
            "| median p99 ms | p99 range | non-2xx | socket errors | server CPU | other CPU "
            "| steal | body bytes |"
        ),
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for result in results:
        rps = _range([r.rps for r in result.runs], 0)
        p50 = _range([r.p50_ms for r in result.runs], 2)
        p99 = _range([r.p99_ms for r in result.runs], 2)
        cpu = percent([r.server_cpu for r in result.runs])
        other = percent([r.other_cpu for r in result.runs])
        steal = percent([r.steal for r in result.runs], digits=1)
        lines.append(
            f"| {result.target.label} | **{rps[0]}** | {rps[1]} | {p50[0]} | {p50[1]} "
            f"| {p99[0]} | {p99[1]} | {sum(r.non2xx for r in result.runs)} "
            f"| {sum(r.socket_errors for r in result.runs)} | {cpu} | {other} | {steal} "
            f"| {result.body_bytes} |"
        )
    return lines


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}x" if denominator else "n/a"


def ratios(results: dict[Target, Result]) -> list[str]:
    floor = results[HELLO]
    lines = []
    for ours in (ME, LIVE):
        mine = results[ours]
        lines.append(
            f"- {ours.label} against {HELLO.label}: floor/ours req/s "
            f"**{ratio(floor.median('rps'), mine.median('rps'))}**, ours/floor p99 "
            f"**{ratio(mine.median('p99_ms'), floor.median('p99_ms'))}** "
            f"(p50 {ratio(mine.median('p50_ms'), floor.median('p50_ms'))})"
        )
    return lines


def environment(
    placement: str,
    started_load: str | None,
    protocol: str,
    packages: Sequence[str] = VERSIONED,
) -> list[str]:
    """The table of what the figures were measured on and how."""
    versions = ", ".join(f"{name} {package_version(name)}" for name in packages)
    machine = (
        f"{cpu_model()}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"
    )
    return [
        "| item | value |",
        "|---|---|",
        f"| machine | {machine} |",
        f"| placement | {placement} |",
        f"| load average before the run (1, 5, 15 min) | {started_load or 'n/a'} |",
        f"| Python | {platform.python_implementation()} {platform.python_version()} |",
        f"| packages | {versions} |",
        f"| load generator | wrk {wrk_version()}, loopback, HTTP/1.1 keep-alive |",
        f"| protocol | {protocol} |",
    ]


def report(
    results: dict[Target, Result],
    args: argparse.Namespace,
    commands: dict[str, str],
    when: str,
    started_load: str | None,
) -> str:
    why_not_pinned = pinning()
    placement = (
        f"each server and all its processes on CPU {SERVER_CPU} (`taskset -c {SERVER_CPU}`), "
        f"wrk on CPU {WRK_CPU} (`taskset -c {WRK_CPU}`)"
        if why_not_pinned is None
        else f"not pinned ({why_not_pinned})"
    )
    protocol = (
        f"per target one {WARMUP_S} s warm-up (not counted), then {args.runs} x "
        f"{args.duration} s runs with {args.connections} connections; median and min-max of "
        "each metric on its own; server CPU = CPU seconds of the server's process group per "
        "wall second (100% = one CPU); other CPU = the same for everything on the machine but "
        "the server and wrk; steal = time the hypervisor took from the server's CPU; the "
        "last two show noise from other work"
    )
    invocation = ["just", "bench", *args.argv]
    python_cmd = [".venv/bin/python", "scripts/bench.py", *args.argv]
    return "\n".join(
        [
            f"Measured {when} by `{shlex.join(invocation)}` (`{shlex.join(python_cmd)}`).",
            "",
            *table(list(results.values())),
            "",
            *ratios(results),
            "",
            *environment(placement, started_load, protocol),
            "",
            "Commands (ports are picked free on each run):",
            "",
            "```",
            *(f"{command}  # {name}" for name, command in commands.items()),
            "```",
        ]
    )


# --- main ------------------------------------------------------------------------------------


class StopRequestedError(Exception):
    """SIGTERM or SIGHUP: unwinds through every `finally`, so the servers stop."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def interrupt(signum: int, _frame: FrameType | None) -> None:
    raise StopRequestedError(signum)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="just bench", description=(__doc__ or "").split("\n\n", 1)[1]
    )
    parser.add_argument("--runs", type=int, default=3, help="measured runs per target")
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured run")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--output", type=Path, help="also write the Markdown report here")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.duration < 1 or args.connections < 1:
        parser.error("--runs, --duration and --connections must be at least 1")
    args.argv = [
        f"--runs={args.runs}",
        f"--duration={args.duration}",
        f"--connections={args.connections}",
    ]
    return args


def bench(args: argparse.Namespace, workdir: Path) -> tuple[dict[Target, Result], str]:
    for tool in ("wrk", str(BIN / "maestrist"), str(BIN / "granian")):
        if shutil.which(tool) is None:
            raise BenchError(
                f"{tool} not found (wrk: `apt-get install wrk`; the rest: `just install`)"
            )
    ours_port = free_port()
    floor_port = free_port(taken=[ours_port])
    ours_base, floor_base = f"http://{HOST}:{ours_port}", f"http://{HOST}:{floor_port}"
    data_dir = workdir / "data"
    data_dir.mkdir()
    ours_env = {
        "MAESTRIST_DATA_DIR": str(data_dir),
        "MAESTRIST_HOST": HOST,
        "MAESTRIST_PORT": str(ours_port),
        "MAESTRIST_ACCESS_LOG": "false",
        "MAESTRIST_LOG_LEVEL": "WARNING",
        "MAESTRIST_RATE_LIMIT_ENABLED": "false",  # one user at full speed, not the limits
    }
    ours = Server(
        "our server",
        [str(BIN / "maestrist"), "serve"],
        clean_env(**ours_env),
        workdir / "ours.log",
    )
    floor_command = [
        str(BIN / "granian"),
        "--interface", "asgi",
        "--workers", "1",
        "--host", HOST,
        "--port", str(floor_port),
        "--no-ws",
        "--no-log",
        "--factory",
        "scripts.bench_floor:create_app",
    ]  # fmt: skip
    floor = Server("the floor", floor_command, clean_env(), workdir / "floor.log")

    def display(command: list[str]) -> str:
        return shlex.join(shown(Path(part)) if part.startswith("/") else part for part in command)

    shown_env = [f"{k}={v}" for k, v in ours_env.items() if k != "MAESTRIST_DATA_DIR"]
    commands = {
        "our server": f'MAESTRIST_DATA_DIR="$(mktemp -d)" {display([*shown_env, *ours.command])}',
        "the floor, from the repository root": display(floor.command),
    }
    for target, base in ((ME, ours_base), (LIVE, ours_base), (HELLO, floor_base)):
        commands[f"load: {target.label}"] = display(
            wrk_command(base + target.path, seconds=args.duration, connections=args.connections)
        )
    results: dict[Target, Result] = {}
    load = {"runs": args.runs, "duration": args.duration, "connections": args.connections}
    when, started_load = time.strftime("%Y-%m-%d"), load_average()
    with running(ours, f"{ours_base}/health/ready"):
        results[ME] = measure(ME, ours_base, ours, **load)
        results[LIVE] = measure(LIVE, ours_base, ours, **load)
    with running(floor, f"{floor_base}/health"):
        results[HELLO] = measure(HELLO, floor_base, floor, **load)
    return results, report(results, args, commands, when, started_load)


def run_stoppably(body: Callable[[Path], None]) -> int | None:
    """Run ``body`` in a temporary directory, stopping on SIGTERM and SIGHUP as on Ctrl-C;
    the exit status when it failed or was stopped (every server it started is stopped by
    then), else ``None``."""
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
    try:
        with tempfile.TemporaryDirectory(prefix="maestrist-bench-") as workdir:
            body(Path(workdir))
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted; every server it started is stopped", file=sys.stderr)
        return 128 + signal.SIGINT
    except StopRequestedError as stop:
        print(f"bench: {stop}; every server it started is stopped", file=sys.stderr)
        return 128 + stop.signum
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    measured: list[tuple[dict[Target, Result], str]] = []
    if (status := run_stoppably(lambda workdir: measured.append(bench(args, workdir)))) is not None:
        return status
    [(results, text)] = measured
    print(text)
    failed = [
        f"{result.target.label}: {sum(r.non2xx for r in [*result.runs, result.warmup])} "
        "non-2xx responses"
        for result in results.values()
        if any(r.non2xx for r in [*result.runs, result.warmup])
    ]
    if failed:
        print(
            "bench: FAILED, the figures measure error responses, not the route: "
            + "; ".join(failed),
            file=sys.stderr,
        )
        return 1
    if args.output is not None:
        args.output.write_text(text + "\n")
        print(f"bench: report written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
