"""The ``maestrist`` command as a newcomer meets it: in a terminal, through a pipe, in ``$(...)``.

Each command prints its result, and only that, on stdout; logs and errors go to stderr, as
console text on a terminal and JSON elsewhere.
"""

import contextlib
import errno
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REDIS_URL, TEST_ENCRYPTION_KEYS, TEST_SIGNING_KEYS
from tests.e2e.test_server import STOP_DEADLINE_S, clustered, running_server, server_env
from tests.support.ports import closed_port

pytestmark = pytest.mark.server

MAESTRIST = str(Path(sys.executable).with_name("maestrist"))
TOKEN = re.compile(r"mst_[A-Za-z0-9_-]+")


def embedded(tmp_path: Path, **more: str) -> dict[str, str]:
    return server_env(
        {"MAESTRIST_DATA_DIR": str(tmp_path / "data"), "MAESTRIST_RUNTIME": "scripted", **more}
    )


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MAESTRIST, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_in_terminal(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run with stdout and stderr on a pseudo-terminal, as in an interactive shell."""
    controller, terminal = os.openpty()
    try:
        process = subprocess.Popen(
            [MAESTRIST, *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=terminal,
            stderr=terminal,
            start_new_session=True,
        )
    finally:
        os.close(terminal)
    chunks = []
    with contextlib.closing(os.fdopen(controller, "rb", buffering=0)) as reader:
        while True:
            try:
                chunk = reader.read(65536)
            except OSError as exc:  # Linux: EIO once the last writer has closed the terminal
                if exc.errno != errno.EIO:
                    raise
                break
            if not chunk:
                break
            chunks.append(chunk)
    return process.wait(timeout=STOP_DEADLINE_S), b"".join(chunks).decode(errors="replace")


def json_records(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# --- logs --------------------------------------------------------------------------------------


def test_logs_read_as_console_text_in_a_terminal(tmp_path: Path) -> None:
    code, shown = run_in_terminal(embedded(tmp_path), "migrate")

    assert code == 0, shown
    lines = [line for line in shown.splitlines() if line.strip()]
    assert any("Running upgrade" in line for line in lines), shown
    assert not any(line.lstrip().startswith("{") for line in lines), shown


def test_logs_are_json_on_stderr_through_a_pipe_and_stdout_stays_empty(tmp_path: Path) -> None:
    done = run(embedded(tmp_path), "migrate")

    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    records = json_records(done.stderr)
    assert any("Running upgrade" in str(record["event"]) for record in records)


def test_a_configured_log_format_wins_over_the_terminal(tmp_path: Path) -> None:
    code, shown = run_in_terminal(embedded(tmp_path, MAESTRIST_LOG_FORMAT="json"), "migrate")

    assert code == 0, shown
    assert any("Running upgrade" in str(r["event"]) for r in json_records(shown)), shown


def test_a_server_stopped_by_sigterm_exits_0_without_an_error_line(tmp_path: Path) -> None:
    with running_server(tmp_path / "server.log", {"MAESTRIST_DATA_DIR": str(tmp_path)}) as server:
        assert server.stop(whole_group=False) == 0
        log = server.log()
    said = [line for line in log.splitlines() if not line.startswith("{")]
    assert said == [f"maestrist embedded server listening on {server.base_url}"], log
    assert not [r for r in server.log_records() if r.get("level") == "error"], log


# --- every command's stdout is its result ------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "result"),
    [
        (("new-key",), re.compile(r"k\d{8}:[A-Za-z0-9_-]{43}\n")),
        (("settings-table",), re.compile(r"\| Variable \| Default \| Meaning \|\n(\| .+ \|\n)+")),
        (("migrate",), re.compile(r"")),
        (("check-config",), re.compile(r"configuration is valid\n([A-Za-z -]+: .+\n)+")),
        (
            ("agent-server", "status"),
            re.compile(r"(up|down)\n(  [a-z0-9-]+: (up|starting|down)\n)+"),
        ),
        (("api-key", "create"), re.compile(r"mst_[A-Za-z0-9_-]+\n")),
        (("api-key", "list"), re.compile(r"")),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else "",
)
def test_stdout_holds_the_result_alone(
    tmp_path: Path, args: tuple[str, ...], result: re.Pattern[str]
) -> None:
    """A first run, which migrates the new database and so logs, keeps its logs on stderr."""
    done = run(embedded(tmp_path, MAESTRIST_LOG_LEVEL="DEBUG"), *args)

    assert done.returncode == 0, done.stderr
    assert result.fullmatch(done.stdout), done.stdout
    json_records(done.stderr)  # whatever was logged is on stderr, and only log records are


# --- a database that does not answer ----------------------------------------------------------


@pytest.mark.parametrize(
    ("database", "told"),
    [
        (f"127.0.0.1:{closed_port()}/maestrist", "The database cannot be reached"),
        ("127.0.0.1:5432/maestrist_no_such_database", 'database "maestrist_no_such_database"'),
    ],
    ids=["nothing listens", "no such database"],
)
def test_migrate_against_a_database_it_cannot_use_says_so_in_one_line(
    database: str, told: str
) -> None:
    password = "pg-password-5e3"
    env = server_env(
        {
            "MAESTRIST_BINDING": "clustered",
            "MAESTRIST_DATABASE_URL": f"postgresql+asyncpg://postgres:{password}@{database}",
            "MAESTRIST_REDIS_URL": "redis://127.0.0.1:6379/0",
            "MAESTRIST_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEYS,
            "MAESTRIST_SIGNING_KEYS": TEST_SIGNING_KEYS,
            "MAESTRIST_DEPENDENCY_TIMEOUT": "2",
        }
    )

    done = run(env, "migrate")

    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr
    assert told in errors[0]
    assert "Traceback" not in done.stderr
    assert password not in done.stderr


# --- check-config ------------------------------------------------------------------------------


def test_check_config_summarizes_a_valid_configuration_without_its_secrets(tmp_path: Path) -> None:
    secrets = {
        "database password": "pg-password-1b7",
        "redis password": "redis-password-4c2",
        "client secret": "oidc-client-secret-9d1",
        "encryption key": TEST_ENCRYPTION_KEYS.split(":", 1)[1],
        "signing key": TEST_SIGNING_KEYS.split(":", 1)[1],
        "smtp password": "smtp-password-7e3",
        "webhook secret": "github-webhook-secret-5a8",
        "metrics token": "metrics-token-0123456789",
    }
    env = server_env(
        {
            "MAESTRIST_BINDING": "clustered",
            "MAESTRIST_DATABASE_URL": (
                f"postgresql+asyncpg://maestrist:{secrets['database password']}"
                "@db.internal:5432/maestrist"
            ),
            "MAESTRIST_REDIS_URL": f"redis://:{secrets['redis password']}@cache.internal:6379/0",
            "MAESTRIST_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEYS,
            "MAESTRIST_SIGNING_KEYS": TEST_SIGNING_KEYS,
            "MAESTRIST_OIDC_ISSUER": "https://sso.example.com/realms/maestrist",
            "MAESTRIST_OIDC_CLIENT_ID": "maestrist",
            "MAESTRIST_OIDC_CLIENT_SECRET": secrets["client secret"],
            "MAESTRIST_PUBLIC_URL": "https://maestrist.example.com",
            "MAESTRIST_RUNTIME": "scripted",
            "MAESTRIST_SMTP_URL": f"smtp://mailer:{secrets['smtp password']}@mail.internal:2525",
            "MAESTRIST_GITHUB_WEBHOOK_SECRETS": secrets["webhook secret"],
            "MAESTRIST_METRICS_TOKEN": secrets["metrics token"],
        }
    )

    done = run(env, "check-config")

    assert done.returncode == 0, done.stderr
    summary = done.stdout
    assert summary.startswith("configuration is valid\n")
    for told in (
        "binding: clustered",
        "database: postgresql+asyncpg://db.internal:5432/maestrist",
        "redis: redis://cache.internal:6379/0",
        "sign-in: https://sso.example.com/realms/maestrist",
        "encryption keys: 1 encryption key (test-enc-1)",
        "signing keys: 1 signing key (test-sig-1)",
        "runtime: scripted",
        "webhooks: github (1 secret)",
        (
            "mail: from Maestrist <noreply@maestrist.example.com>, SMTP mail.internal:2525 "
            "(STARTTLS when offered, as mailer)"
        ),
    ):
        assert told in summary, (told, summary)
    for what, secret in secrets.items():
        assert secret not in done.stdout + done.stderr, what


def test_check_config_tells_where_the_embedded_binding_keeps_its_data(tmp_path: Path) -> None:
    done = run(embedded(tmp_path), "check-config")

    assert done.returncode == 0, done.stderr
    assert "binding: embedded" in done.stdout
    assert f"data: {tmp_path / 'data' / 'maestrist.db'} (SQLite)" in done.stdout
    assert not (tmp_path / "data").exists(), "checking creates nothing"


def test_check_config_still_names_what_is_wrong(tmp_path: Path) -> None:
    done = run(embedded(tmp_path, MAESTRIST_PORT="http"), "check-config")

    assert done.returncode == 2
    assert done.stdout == ""
    assert "MAESTRIST_PORT" in done.stderr


# --- api keys ----------------------------------------------------------------------------------


def test_a_key_captured_with_command_substitution_works_against_the_server(
    tmp_path: Path,
) -> None:
    env = embedded(tmp_path)
    captured = subprocess.run(
        ["bash", "-c", f'KEY=$("{MAESTRIST}" api-key create --name laptop) && printf %s "$KEY"'],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    key = captured.stdout
    assert TOKEN.fullmatch(key), key
    assert "Running upgrade" in captured.stderr, "the first run logged, on stderr"

    settings = {k: v for k, v in env.items() if k.startswith("MAESTRIST_")}
    with running_server(
        tmp_path / "server.log", {**settings, "MAESTRIST_REQUIRE_API_KEY": "true"}
    ) as server:
        with_key = {"Authorization": f"Bearer {key}"}
        assert server.get("/api/user/me").status_code == 401
        me = server.http.get("/api/user/me", headers=with_key)
        assert me.status_code == 200, me.text
        # By default the operator's key may do what the local user does.
        for path in ("/api/settings", "/api/secrets", "/api/conversations"):
            answer = server.http.get(path, headers=with_key)
            assert answer.status_code == 200, (path, answer.text)
        # but managing keys is a person's act, so here it is the CLI's
        keys = server.http.get("/api/keys", headers=with_key)
        assert keys.status_code == 403, keys.text
        assert keys.json()["code"] == "credential-not-allowed"

        listed = run(env, "api-key", "list")
        assert listed.returncode == 0, listed.stderr
        [line] = listed.stdout.splitlines()
        key_id, name, prefix, status, expires, scopes = line.split("\t")
        assert (name, status, expires) == ("laptop", "active", "never")
        assert key.startswith(prefix)
        assert "settings:read" in scopes.split(",")

        revoked = run(env, "api-key", "revoke", key_id)
        assert revoked.returncode == 0, revoked.stderr
        assert revoked.stdout == f"revoked {key_id}\n"
        assert server.http.get("/api/user/me", headers=with_key).status_code == 401
        [line] = run(env, "api-key", "list").stdout.splitlines()
        assert line.split("\t")[3] == "revoked"


def test_a_key_made_with_scopes_and_an_expiry_has_those_alone(tmp_path: Path) -> None:
    env = embedded(tmp_path)
    made = run(
        env, "api-key", "create", "--scope", "settings:read", "--expires-in", "30", "--name", "ci"
    )
    assert made.returncode == 0, made.stderr
    [line] = run(env, "api-key", "list").stdout.splitlines()
    _, name, _, status, expires, scopes = line.split("\t")
    assert (name, status, scopes) == ("ci", "active", "settings:read")
    assert expires != "never"

    settings = {k: v for k, v in env.items() if k.startswith("MAESTRIST_")}
    with running_server(tmp_path / "server.log", settings) as server:
        with_key = {"Authorization": f"Bearer {made.stdout.strip()}"}
        assert server.http.get("/api/settings", headers=with_key).status_code == 200
        refused = server.http.get("/api/secrets", headers=with_key)
        assert (refused.status_code, refused.json()["code"]) == (403, "missing-scope")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("api-key", "create", "--scope", "everything"), "--scope"),
        (("api-key", "create", "--expires-in", "400"), "--expires-in"),
        (("api-key", "create", "--expires-in", "soon"), "--expires-in"),
        (("api-key", "create", "--name", ""), "name"),
        (("api-key", "revoke", "not-an-id"), "ID"),
        (("api-key", "revoke", "01a24669-ee78-765e-8dbc-6a9d8793477f"), "key"),
        (("api-key",), "create"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else "",
)
def test_bad_api_key_input_is_named_on_stderr(
    tmp_path: Path, args: tuple[str, ...], named: str
) -> None:
    done = run(embedded(tmp_path), *args)

    assert done.returncode in (1, 2), done.stderr
    assert done.stdout == ""
    assert named in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.postgres
def test_the_clustered_bindings_first_user_and_key_are_made_from_the_cli(
    tmp_path: Path, postgres_url: str
) -> None:
    """A clustered server with no identity provider: its first user and API key come from the
    command line, and the key then acts as that user in the organization named."""
    settings = clustered(tmp_path, postgres_url, REDIS_URL)
    env = server_env(settings)
    made = run(env, "user", "create", "first@example.com", "--name", "First Admin")
    assert made.returncode == 0, made.stderr
    user = json.loads(made.stdout)
    assert (user["email"], user["name"]) == ("first@example.com", "First Admin")
    assert user["subject"].startswith("operator:")
    again = run(env, "user", "create", "FIRST@example.com")
    assert (again.returncode, again.stdout) == (1, "")
    assert "already uses this email" in again.stderr

    issued = run(
        env, "api-key", "create", "--user", "first@example.com", "--scope", "settings:read"
    )
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert TOKEN.fullmatch(token)
    by_id = run(env, "api-key", "create", "--user", user["id"], "--org", user["personalOrg"])
    assert by_id.returncode == 0, by_id.stderr
    unknown = run(env, "api-key", "create", "--user", "nobody@example.com")
    assert unknown.returncode == 1
    assert "No user is nobody@example.com" in unknown.stderr

    with running_server(tmp_path / "serve.log", settings) as server:
        me = server.http.get("/api/user/me", headers={"Authorization": f"Bearer {token}"})
        refused = server.http.get("/api/user/me")
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "first@example.com"
    assert refused.status_code == 401
