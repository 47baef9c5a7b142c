"""`just profile-clustered`: where one worker of the clustered binding spends its time under load.

It sets up what `just bench-clustered` does (a fresh PostgreSQL database, an empty Redis
database, the OpenID Connect stand-in, a migrated clustered binding provisioned through the API),
serves one worker on CPU 0, and for each route asked for loads it with wrk on CPU 1 while py-spy
samples the worker's thread that holds the GIL, which is where its Python code spends CPU. The
report gives, per route, the rate, the worker's CPU, the share of time the GIL was held, that
time by package (the innermost frame's package: ours by layer, each library, the standard
library) and the functions of ours and of the libraries with the largest inclusive share
(granian's own I/O runs in Rust without the GIL and is not sampled). Requires py-spy (a development
dependency) and, like the benchmark, PostgreSQL, Redis, Node.js with npm and wrk.
"""

import argparse
import subprocess
import sys
import sysconfig
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.bench import (
    BIN,
    HOST,
    SERVER_CPU,
    Run,
    Server,
    free_port,
    group_members,
    run_stoppably,
    running,
    wrk,
)
from scripts.bench_clustered import LIVE, clustered_stack, credentials, routes

STDLIB = Path(sysconfig.get_path("stdlib")).resolve()
RAMP_S = 2.0
RATE = 250
IDLE = ("select", "poll", "_run_once")
"""Innermost functions (bare names) that mean the worker's event loop was waiting."""


@dataclass(frozen=True, slots=True)
class Profile:
    route: str
    run: Run
    seconds: int
    samples: int
    busy: int
    by_package: Counter[str]
    inclusive: Counter[str]


def _parts(frame: str) -> tuple[str, str]:
    """``Class.function (/full/path.py:line)`` to the function and the path."""
    name, _, where = frame.partition(" (")
    return name, where.rsplit(":", 1)[0]


def _package(path: str) -> str:
    """What a file belongs to: a layer of ours, a library, the standard library."""
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/src/" in path:
        return "ours: " + path.split("/src/", 1)[1].split("/", 1)[0]
    if path.startswith((str(STDLIB), "<")):
        return "stdlib"
    return "other"


def _function(frame: str) -> str:
    """The function and its file from its package on (no line)."""
    name, path = _parts(frame)
    for marker in ("/site-packages/", "/src/", f"{STDLIB}/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"


def _idle(frame: str) -> bool:
    name, path = _parts(frame)
    return name.rpartition(".")[2] in IDLE and _package(path) == "stdlib"


def fold(raw: str) -> tuple[int, int, Counter[str], Counter[str]]:
    """py-spy's raw (collapsed) stacks to samples, busy samples, busy samples by the innermost
    frame's package, and busy samples by every function on the stack (each counted once)."""
    samples = busy = 0
    by_package: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame for frame in stack.split(";") if "(" in frame]
        samples += count
        if not frames or _idle(frames[-1]):
            continue
        busy += count
        by_package[_package(_parts(frames[-1])[1])] += count
        for function in {_function(frame) for frame in frames}:
            inclusive[function] += count
    return samples, busy, by_package, inclusive


def _worker(server: Server) -> int:
    """The granian worker: the member of the server's group that is not its leader."""
    members = [pid for pid in group_members(server.pgid) if pid != server.pgid]
    if len(members) != 1:
        raise SystemExit(f"expected one worker process, found {members}")
    return members[0]


def profile(
    server: Server,
    url: str,
    route: str,
    headers: Sequence[str],
    seconds: int,
    out: Path,
) -> Profile:
    results: list[Run] = []
    load = threading.Thread(
        target=lambda: results.append(
            wrk(
                url,
                seconds=seconds + 2 * int(RAMP_S),
                connections=64,
                server=server,
                headers=headers,
            )
        )
    )
    load.start()
    time.sleep(RAMP_S)
    command = [
        str(BIN / "py-spy"), "record", "--pid", str(_worker(server)),
        "--duration", str(seconds), "--rate", str(RATE), "--format", "raw", "--gil",
        "--full-filenames", "--nonblocking", "--output", str(out),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    load.join()
    samples, busy, by_package, inclusive = fold(out.read_text())
    return Profile(route, results[0], seconds, samples, busy, by_package, inclusive)


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def _shown(function: str) -> bool:
    """A function worth a row: not the process's start-up path nor the event loop's."""
    path = function[function.rfind("(") + 1 : -1]
    startup = ("multiprocessing/", "asyncio/", "entrypoints/cli/", "granian/server/", "/")
    return not path.startswith(startup)


def report(profiles: Sequence[Profile], top: int) -> str:
    lines = [
        "| route | req/s | p99 ms | worker CPU | GIL held |",
        "|---|--:|--:|--:|--:|",
    ]
    for p in profiles:
        cpu = "-" if p.run.server_cpu is None else f"{100 * p.run.server_cpu:.0f} %"
        held = _share(p.busy, RATE * p.seconds)
        lines.append(f"| {p.route} | {p.run.rps:,.0f} | {p.run.p99_ms:,.1f} | {cpu} | {held} |")
    for p in profiles:
        lines += ["", f"### {p.route}", "", "Where the GIL was held, by package:", ""]
        lines += ["| package (innermost frame) | share |", "|---|--:|"]
        lines += [
            f"| {package} | {_share(count, p.busy)} |"
            for package, count in p.by_package.most_common(top)
        ]
        lines += ["", "Functions by inclusive share:", ""]
        lines += ["| function | inclusive |", "|---|--:|"]
        shown = [(f, count) for f, count in p.inclusive.most_common() if _shown(f)]
        lines += [f"| `{f}` | {_share(count, p.busy)} |" for f, count in shown[: top * 2]]
    return "\n".join(lines)


ROUTE_NAMES = {
    "list": 0,
    "conversation": 1,
    "events": 2,
    "settings": 3,
    "secrets": 4,
    "user-me": 5,
}


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="just profile-clustered", description=__doc__.split("\n\n")[1] if __doc__ else None
    )
    parser.add_argument(
        "routes",
        nargs="*",
        default=["list", "settings", "user-me", "live"],
        help=f"of {', '.join([*ROUTE_NAMES, 'live'])}",
    )
    parser.add_argument("--seconds", type=int, default=10, help="sampled per route")
    parser.add_argument("--auth", choices=["key", "session"], default="key")
    parser.add_argument("--top", type=int, default=12, help="rows per table")
    parser.add_argument("--output", type=Path, help="also write the Markdown report here")
    args = parser.parse_args(argv)
    unknown = [name for name in args.routes if name not in {*ROUTE_NAMES, "live"}]
    if unknown:
        parser.error(f"unknown route {', '.join(unknown)}")
    return args


def run(args: argparse.Namespace, workdir: Path, profiles: list[Profile]) -> None:
    port = free_port()
    base = f"http://{HOST}:{port}"
    with clustered_stack(workdir, base) as stack:
        provisioned = stack.provision(port)
        table = routes(provisioned)
        with running(stack.server("ours", port, 1, SERVER_CPU), f"{base}/health/ready") as server:
            for name in args.routes:
                headers: tuple[str, ...] = ()
                if name == "live":
                    label, path = LIVE[0], LIVE[1]
                else:
                    label, path, _ = table[ROUTE_NAMES[name]]
                    headers = credentials(provisioned, args.auth)
                print(f"profile: {label}", file=sys.stderr)
                out = workdir / f"{name}.pyspy"
                profiles.append(profile(server, f"{base}{path}", label, headers, args.seconds, out))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    profiles: list[Profile] = []
    if (status := run_stoppably(lambda workdir: run(args, workdir, profiles))) is not None:
        return status
    text = report(profiles, args.top)
    print(text)
    if args.output is not None:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
