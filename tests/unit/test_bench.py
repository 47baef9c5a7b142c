"""The benchmarks' parsing and bookkeeping: what they report has to be what wrk measured."""

import math

import pytest
from scripts.bench import cpu_set, parse_wrk, wrk_command
from scripts.bench_clustered import percentile
from scripts.profile_clustered import STDLIB, fold

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:8000/api/user/me
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20s   300.00ms   2.00s    70.00%
  Latency Distribution
     50%  950.50ms
     75%    1.40s
     90%    1.80s
     99%    2.41s
  260 requests in 5.01s, 61.00KB read
  Non-2xx or 3xx responses: 17
Requests/sec:     51.90
Transfer/sec:     12.18KB
"""


def test_parse_wrk_reads_rate_percentiles_in_their_units_and_non_2xx() -> None:
    sut = parse_wrk(WRK_OUTPUT)

    assert sut.rps == pytest.approx(51.9)
    assert sut.p50_ms == pytest.approx(950.5)
    assert sut.p99_ms == pytest.approx(2410.0)
    assert sut.non2xx == 17
    assert sut.socket_errors == 0


def test_parse_wrk_adds_up_every_kind_of_socket_error() -> None:
    output = WRK_OUTPUT.replace(
        "Requests/sec", "  Socket errors: connect 1, read 2, write 3, timeout 4\nRequests/sec"
    )

    assert parse_wrk(output).socket_errors == 10


@pytest.mark.parametrize(
    ("cpus", "expected"), [(0, {0}), ("0-1", {0, 1}), ("0,2-3", {0, 2, 3}), ("1", {1})]
)
def test_cpu_set_reads_taskset_lists(cpus: int | str, expected: set[int]) -> None:
    assert cpu_set(cpus) == expected


def test_wrk_command_sends_each_header_with_its_own_flag() -> None:
    sut = wrk_command(
        "http://127.0.0.1:1/x", seconds=5, connections=64, headers=("A: 1", "Cookie: s=2")
    )

    assert sut[-5:] == ["-H", "A: 1", "-H", "Cookie: s=2", "http://127.0.0.1:1/x"]


def test_percentile_picks_the_value_below_which_that_share_lies() -> None:
    values = [float(n) for n in range(100, 0, -1)]

    assert percentile(values, 0.5) == 51.0
    assert percentile(values, 0.99) == 100.0
    assert math.isnan(percentile([], 0.99))  # nothing was measured


def test_a_profile_counts_waiting_apart_and_busy_time_by_package_and_function() -> None:
    site = "/venv/lib/python3.11/site-packages"
    loop = f"BaseEventLoop._run_once ({STDLIB}/asyncio/base_events.py:1922)"
    handle = f"Handle._run ({STDLIB}/asyncio/events.py:84)"
    handler = f"{loop};{handle};App.__call__ ({site}/litestar/app.py:1)"
    raw = "\n".join(
        [
            f"{loop};EpollSelector.select ({STDLIB}/selectors.py:468) 60",
            f"{handler};execute ({site}/sqlalchemy/orm/session.py:2) 30",
            f"{handler};get_user (/repo/src/adapters/x.py:5) 10",
            "",
        ]
    )

    samples, busy, by_package, inclusive = fold(raw)

    assert (samples, busy) == (100, 40)
    assert by_package == {"sqlalchemy": 30, "ours: adapters": 10}
    assert inclusive["App.__call__ (litestar/app.py)"] == 40
    assert inclusive["get_user (adapters/x.py)"] == 10
    assert inclusive["BaseEventLoop._run_once (asyncio/base_events.py)"] == 40
