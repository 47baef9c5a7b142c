"""`just bench`: requests/s and latency of GET /api/user/me beside a bare Litestar handler.

Both run on the production server (granian, one worker, the same defaults) in this one run,
pinned to CPU 0 while wrk runs on CPU 1 when the machine has two CPUs; the medians of several
runs and the ratio are printed as Markdown.
"""

import argparse
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pinned(cpu: int, command: list[str]) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(cpu), *command]
    return command


def wait_ready(url: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer 200 within {timeout_s:g} s")


@contextmanager
def server(command: list[str], env: dict[str, str], ready_url: str) -> Iterator[None]:
    process = subprocess.Popen(
        pinned(0, command),
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_ready(ready_url)
        time.sleep(1)
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise ValueError(f"unreadable latency {text!r}")
    return float(match[1]) * UNITS[match[2]]


def wrk(url: str, *, seconds: int, connections: int) -> Run:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    output = subprocess.run(
        pinned(1, [*command, url]), capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output)[1])  # type: ignore[index]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output)[1])  # type: ignore[index]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(non2xx[1]) if non2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Run(rps=rps, p50_ms=p50, p99_ms=p99, errors=errors)


def measure(url: str, args: argparse.Namespace) -> list[Run]:
    wrk(url, seconds=5, connections=args.connections)
    return [wrk(url, seconds=args.duration, connections=args.connections) for _ in range(args.runs)]


def summary(name: str, runs: list[Run]) -> str:
    def cell(values: list[float], digits: int) -> str:
        low, mid, high = min(values), statistics.median(values), max(values)
        return f"{mid:,.{digits}f} ({low:,.{digits}f}-{high:,.{digits}f})"

    return (
        f"| {name} | {cell([r.rps for r in runs], 0)} | {cell([r.p50_ms for r in runs], 2)} "
        f"| {cell([r.p99_ms for r in runs], 2)} | {sum(r.errors for r in runs)} |"
    )


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        model = found[1].strip() if found else model
    return f"{model}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=15, help="seconds per run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--output", type=Path, help="also write the Markdown here")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")

    ours_port, floor_port = free_port(), free_port()
    results: dict[str, list[Run]] = {}
    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            **os.environ,
            "MAESTRIST_DATA_DIR": data_dir,
            "MAESTRIST_PORT": str(ours_port),
            "MAESTRIST_ACCESS_LOG": "false",
            "MAESTRIST_LOG_LEVEL": "WARNING",
        }
        base = f"http://127.0.0.1:{ours_port}"
        with server([str(BIN / "maestrist"), "serve"], env, f"{base}/health/ready"):
            results["ours `GET /api/user/me`"] = measure(f"{base}/api/user/me", args)
            results["ours `GET /health/live`"] = measure(f"{base}/health/live", args)
    floor = [
        str(BIN / "granian"),
        "--interface", "asgi",
        "--workers", "1",
        "--host", "127.0.0.1",
        "--port", str(floor_port),
        "--no-log",
        "--factory",
        "scripts.bench_floor:create_app",
    ]  # fmt: skip
    floor_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    floor_base = f"http://127.0.0.1:{floor_port}"
    with server(floor, floor_env, f"{floor_base}/health"):
        results["floor: bare Litestar `GET /hello`"] = measure(f"{floor_base}/hello", args)

    me = results["ours `GET /api/user/me`"]
    bare = results["floor: bare Litestar `GET /hello`"]
    if any(r.errors for r in me):
        raise SystemExit("the server answered errors under load; the figures would mean nothing")
    rps_ratio = statistics.median(r.rps for r in bare) / statistics.median(r.rps for r in me)
    p99_ratio = statistics.median(r.p99_ms for r in me) / statistics.median(r.p99_ms for r in bare)
    lines = [
        f"Machine: {machine()}; litestar {version('litestar')}, granian {version('granian')}.",
        (
            f"Command: `just bench --runs {args.runs} --duration {args.duration} "
            f"--connections {args.connections}`; wrk -t1 -c{args.connections}, "
            "median (min-max) of the runs after a 5 s warm-up."
        ),
        "",
        "| target | req/s | p50 ms | p99 ms | errors |",
        "| --- | --- | --- | --- | --- |",
        *(summary(name, runs) for name, runs in results.items()),
        "",
        (
            f"Floor / ours, requests per second: **{rps_ratio:.2f}x**; "
            f"ours / floor, p99 latency: **{p99_ratio:.2f}x**."
        ),
    ]
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
