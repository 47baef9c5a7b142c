# Maestrist Enterprise Server tasks. Run `just --list` for the menu.

set shell := ["bash", "-euo", "pipefail", "-c"]

venv := ".venv"
bin := venv / "bin"

# Start the server on the embedded defaults (SQLite, single local user); it builds the
# agent-server's virtualenv in the background on first use.
serve: install sandbox-tools
    {{bin}}/maestrist serve

# Run every test tier (needs the loopback PostgreSQL and Redis, and the agent-server venv).
test *args: install agent-server-env sandbox-tools promtool
    {{bin}}/pytest -n 2 {{args}}

# Only the tests that need no PostgreSQL, Redis or child server.
test-unit *args: install
    {{bin}}/pytest tests/unit {{args}}

# Check formatting, lint rules, layer contracts and types; changes nothing.
lint: install
    {{bin}}/ruff format --check .
    {{bin}}/ruff check .
    {{bin}}/lint-imports
    {{bin}}/mypy

# Apply the formatter and the automatic lint fixes.
fix: install
    {{bin}}/ruff format .
    {{bin}}/ruff check --fix .

# Apply pending migrations to the database the settings point at.
migrate: install
    {{bin}}/maestrist migrate

# Write a new migration revision: just revision "add widgets"
revision message: install
    {{bin}}/python scripts/new_revision.py "{{message}}"

# Measure GET /api/user/me against a bare Litestar handler on the same server.
bench *args: install
    command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
    {{bin}}/python scripts/bench.py {{args}}

# Measure the clustered binding (PostgreSQL, Redis, sign-in) against the bare Litestar floor.
bench-clustered *args: install
    command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
    {{bin}}/python -m scripts.bench_clustered {{args}}

# A conversation's start to the agent's first event, with its sandbox warm and cold.
bench-start *args: install agent-server-env sandbox-tools
    {{bin}}/python -m scripts.bench_start {{args}}

# The job queue's throughput on PostgreSQL and SQLite (docs/decisions.md, decision 8).
bench-jobs *args: install
    {{bin}}/python -m scripts.bench_jobs {{args}}

# Sample one clustered worker with py-spy under load: just profile-clustered list settings
profile-clustered *args: install
    command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
    {{bin}}/python -m scripts.profile_clustered {{args}}

# Print the settings reference as Markdown (the README table).
settings-table: install
    {{bin}}/maestrist settings-table

# Create the OpenHands agent-server's own virtualenv (Python 3.12+) with the pinned release.
agent-server-env: install
    {{bin}}/python scripts/agent_server_env.py --quiet

# Install bubblewrap, which confines each organization's agents, when it is missing and this
# user may (root, or password-less sudo); otherwise say how, and go on.
sandbox-tools:
    #!/usr/bin/env bash
    set -euo pipefail
    command -v bwrap >/dev/null && exit 0
    if [ "$(id -u)" = 0 ]; then as=(); elif sudo -n true 2>/dev/null; then as=(sudo); else as=(none); fi
    if [ "${as[*]}" != none ] && command -v apt-get >/dev/null; then
        "${as[@]}" apt-get install -y -q bubblewrap >/dev/null 2>&1 \
            || { "${as[@]}" apt-get update -q >/dev/null 2>&1 \
                && "${as[@]}" apt-get install -y -q bubblewrap >/dev/null 2>&1; } || true
    fi
    command -v bwrap >/dev/null || echo "bubblewrap (bwrap) is missing: install it (Debian package bubblewrap) for agents' sandboxes, or set MAESTRIST_SANDBOX=off" >&2

# Put Prometheus' promtool in .tools/bin (the e2e test checks the /metrics exposition with it),
# taken from Debian's prometheus package without installing it on the system.
promtool:
    #!/usr/bin/env bash
    set -euo pipefail
    test -x .tools/bin/promtool && exit 0
    work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
    if ! (cd "$work" && apt-get download -q prometheus >/dev/null 2>&1); then
        if [ "$(id -u)" = 0 ]; then as=(); else as=(sudo -n); fi
        "${as[@]}" apt-get update -q >/dev/null
        (cd "$work" && apt-get download -q prometheus >/dev/null)
    fi
    dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
    mkdir -p .tools/bin && cp "$work/root/usr/bin/promtool" .tools/bin/promtool
    .tools/bin/promtool --version 2>&1 | head -1

# Create the virtualenv and install the project with its development tools.
install:
    @test -x {{bin}}/python || python3 -m venv {{venv}}
    @{{bin}}/python scripts/ensure_installed.py

# Mutation testing of the security- and data-critical modules (slow; never in CI): just mutate
# auth; no group runs them all. `just mutate --report` prints the last results. docs/testing.md
mutate *args: install
    {{bin}}/python scripts/mutate.py {{args}}

# Kill, restart and cut off conversation owners on the real agent-server, and time the takeover.
failover *args: install agent-server-env sandbox-tools
    {{bin}}/python -m scripts.failover {{args}}
