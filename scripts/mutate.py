"""Mutation testing of the modules where a one-line bug is a breach or data loss, on demand
(``just mutate [GROUP...]``), never in CI.

mutmut (configured in pyproject.toml's ``[tool.mutmut]``) copies ``src/`` into ``mutants/``,
mutates the files ``only_mutate`` names and runs, for each mutant, the tests of
``pytest_add_cli_args_test_selection`` that reach the mutated function. This script runs the
mutants of the groups asked for (all of them by default) in one mutmut run, then prints each
group's counts and its surviving mutants; ``--report`` prints them from the last runs without
running anything. ``--check MUTANT TEST...`` runs the given tests once with that mutant
switched on and once without (what a new test must fail and pass), quicker than a ``mutmut
run`` of the mutant. docs/testing.md records the results.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
VERDICTS = ROOT / "docs" / "mutation-verdicts.json"
"""The verdicts of earlier runs, with the hash of each function the mutants were made from: a
run on a fresh checkout starts from them, so a run too long for one sitting goes on from where
the last one stopped. A function changed since is mutated and tested afresh, and so is every
timeout (a busy machine may have caused it); ``--recheck`` tests the survivors again (new
tests may kill them) and ``--fresh`` ignores every verdict kept."""
KILLED_CODES = frozenset({1, 3, 37})
"""Killed by a test, or by the type checker."""
SURVIVED = 0
KEPT_CODES = KILLED_CODES | {SURVIVED}
"""Verdicts kept across runs: killed, and survived. A survivor is accounted for in
docs/testing.md; kept, it stays a survivor (counted against the score) until its function
changes or ``--recheck`` runs it again, instead of costing each run minutes of every test
that reaches it."""


@dataclass(frozen=True, slots=True)
class Group:
    title: str
    patterns: tuple[str, ...]
    """mutmut mutant names (``module.function__mutmut_N``) as shell-style patterns."""


def _methods(cls: str, names: str, package: str = "adapters.sqlalchemy") -> tuple[str, ...]:
    """The patterns of the mutants of some methods of ``module.Class`` in ``package``."""
    module, _, name = cls.rpartition(".")
    return tuple(
        f"{package}.{module}.x\u01c1{name}\u01c1{method}__mutmut_*" for method in names.split()
    )


GROUPS: dict[str, Group] = {
    "auth": Group(
        "auth guard and scopes",
        (
            "entrypoints.http.auth.*",
            "application.identity.access_gates.*",
            "application.identity.api_key_authenticator.*",
            "application.identity.session_authenticator.*",
            "application.identity.local_user_authenticator.*",
            "application.identity.signed_in_authenticator.*",
            "application.identity.principal_cache.*",
            "domain.identity.principals.*",
            "domain.identity.api_keys.*",
            "domain.identity.sessions.*",
        ),
    ),
    "cipher": Group(
        "cipher and sealed records",
        (
            "adapters.crypto.aes_gcm.*",
            "adapters.sqlalchemy.sealed_records.*",
            "adapters.sqlalchemy.runtime_directory.*",
        ),
    ),
    "tenant": Group(
        "tenant scoping in repositories",
        (
            *_methods(
                "conversation_repository.SqlaConversationRepository",
                "get get_for_owner search rename delete lock_admissions holding_runtime",
            ),
            *_methods("secret_store.SqlaSecretStore", "get list_for save delete"),
            *_methods("provider_token_store.SqlaProviderTokenStore", "put get list_for delete"),
            *_methods(
                "api_key_repository.SqlaApiKeyRepository",
                "get_by_lookup get_for_user list_for_user revoke_all",
            ),
            *_methods(
                "session_repository.SqlaSessionRepository",
                "get_by_token_hash get_for_user list_live revoke_all",
            ),
            *_methods(
                "org_repository.SqlaOrgRepository",
                "get_for_member list_for_member get_personal set_role remove_member list_members",
            ),
            *_methods("settings_store.SqlaSettingsStore", "get_user put_user get_org put_org"),
            *_methods("event_store.SqlaEventStore", "list_after last"),
        ),
    ),
    "limits": Group(
        "limits",
        (
            "application.conversations.limits.*",
            *_methods(
                "start_conversation.StartConversation",
                "execute _go_on",
                "application.conversations",
            ),
        ),
    ),
    "fencing": Group(
        "coordinator fencing",
        (
            "adapters.redis.ingest_leases.*",
            *_methods(
                "ingest.ConversationIngest",
                "_run_while_asked _run _readable _give_up _ingest _apply",
                "application.conversations",
            ),
            *_methods("event_store.SqlaEventStore", "_lock_head append"),
        ),
    ),
    "feed": Group(
        "live feed",
        (
            "application.conversations.feed.*",
            "adapters.redis.event_fan_out.*",
            "application.conversations.open_conversation_stream.*",
        ),
    ),
}

STATUS_BY_EXIT_CODE = {
    0: "survived",
    1: "killed",
    3: "killed",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    36: "timeout",
    37: "caught by type check",
    -24: "timeout",
    24: "timeout",
    152: "timeout",
    255: "timeout",
}
"""mutmut's verdicts by the exit code it records (anything else is "suspicious")."""


def status_of(exit_code: int | None) -> str:
    if exit_code is None:
        return "not checked"
    return STATUS_BY_EXIT_CODE.get(exit_code, "suspicious")


def recorded_results() -> dict[str, int | None]:
    """Every mutant of the last ``mutmut run``s with the exit code its tests gave."""
    results: dict[str, int | None] = {}
    for meta in sorted(MUTANTS.rglob("*.meta")):
        results.update(json.loads(meta.read_text())["exit_code_by_key"])
    return results


def group_of(mutant: str) -> str | None:
    for name, group in GROUPS.items():
        if any(fnmatch(mutant, pattern) for pattern in group.patterns):
            return name
    return None


def report(names: list[str]) -> None:
    by_group: dict[str, list[tuple[str, str]]] = {name: [] for name in names}
    for mutant, exit_code in recorded_results().items():
        group = group_of(mutant)
        if group in by_group:
            by_group[group].append((mutant, status_of(exit_code)))
    print("| group | mutants | killed | timeout | survived | no tests | not checked | score |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in names:
        counts = Counter(status for _, status in by_group[name])
        total = len(by_group[name])
        detected = counts["killed"] + counts["timeout"] + counts["caught by type check"]
        checked = total - counts["not checked"]
        score = f"{100 * detected / checked:.1f}%" if checked else "-"
        print(
            f"| {GROUPS[name].title} | {total} | {counts['killed']} | {counts['timeout']} "
            f"| {counts['survived']} | {counts['no tests']} | {counts['not checked']} | {score} |"
        )
    for name in names:
        undetected = [
            (mutant, status)
            for mutant, status in sorted(by_group[name])
            if status not in {"killed", "timeout", "caught by type check"}
        ]
        if undetected:
            print(f"\n{GROUPS[name].title}: {len(undetected)} not killed")
            for mutant, status in undetected:
                print(f"  {status}: {mutant}")


def pending(names: list[str]) -> list[str]:
    """The mutants of the groups ``names`` with no verdict yet: the ones a resumed run tests
    (mutmut tests every mutant it is given by name or pattern again, whatever its result)."""
    wanted = set(names)
    return sorted(
        mutant
        for mutant, exit_code in recorded_results().items()
        if exit_code is None and group_of(mutant) in wanted
    )


_NO_MUTANT = "no.such.module.x_nothing__mutmut_0"
"""A name no mutant has: a ``mutmut run`` given it makes the mutants (keeping the verdicts of
unchanged functions) and collects its statistics, then stops without testing any."""


def _function_of(mutant: str) -> str:
    """The function a mutant was made from, as ``hash_by_function_name`` names it."""
    return mutant.rsplit(".", 1)[1].rsplit("__mutmut_", 1)[0]


def save_verdicts() -> int:
    """Add the killed and surviving mutants of the runs so far, per source file, to
    ``VERDICTS``. Verdicts kept from earlier runs stay while their function is unchanged and
    this run has none, so a run that stopped early, or failed before testing anything, loses
    none of them."""
    previous = json.loads(VERDICTS.read_text()) if VERDICTS.exists() else {}
    files: dict[str, dict[str, dict[str, object]]] = {}
    for meta in sorted(MUTANTS.rglob("*.meta")):
        name = str(meta.relative_to(MUTANTS))
        data = json.loads(meta.read_text())
        hashes = data["hash_by_function_name"]
        kept = {
            mutant: code for mutant, code in data["exit_code_by_key"].items() if code in KEPT_CODES
        }
        earlier = previous.pop(name, None)
        if earlier is not None:
            for mutant, code in earlier["exit_code_by_key"].items():
                function = _function_of(mutant)
                unchanged = earlier["hash_by_function_name"].get(function) == hashes.get(function)
                if unchanged and mutant not in kept and function in hashes:
                    kept[mutant] = code
        if kept:
            files[name] = {
                "hash_by_function_name": hashes,
                "exit_code_by_key": dict(sorted(kept.items())),
            }
    files.update(previous)  # files this run did not mutate keep what they had
    VERDICTS.write_text(json.dumps(files, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    return sum(len(entry["exit_code_by_key"]) for entry in files.values())


def restore_verdicts(*, recheck: bool = False) -> int:
    """Seed a fresh ``mutants/`` with ``VERDICTS`` (without the survivors when ``recheck``);
    mutmut keeps each one whose function's hash is unchanged when it mutates the file again.
    Files mutated already are left alone."""
    if not VERDICTS.exists():
        return 0
    restored = 0
    for name, entry in json.loads(VERDICTS.read_text()).items():
        meta = MUTANTS / name
        if meta.exists():
            continue
        kept = {
            mutant: code
            for mutant, code in entry["exit_code_by_key"].items()
            if not (recheck and code == SURVIVED)
        }
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text(
            json.dumps(
                {
                    "exit_code_by_key": kept,
                    "hash_by_function_name": entry["hash_by_function_name"],
                    "type_check_error_by_key": {},
                    "durations_by_key": {},
                    "estimated_durations_by_key": {},
                }
            )
        )
        restored += len(kept)
    return restored


def check(mutant: str, tests: list[str]) -> int:
    """0 when the tests fail with ``mutant`` switched on and pass without it."""
    shutil.copytree(ROOT / "tests", MUTANTS / "tests", dirs_exist_ok=True)
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    outcomes = {}
    for switched_on in (mutant, ""):
        env = {**os.environ, "MUTANT_UNDER_TEST": switched_on, "PYTHONPATH": "src"}
        run = subprocess.run(command, cwd=MUTANTS, env=env, check=False, capture_output=True)
        outcomes[bool(switched_on)] = run.returncode
        last = run.stdout.decode().strip().splitlines()[-1:]
        print(f"{'with' if switched_on else 'without'} {mutant}: {' '.join(last)}")
    killed = outcomes[True] != 0 and outcomes[False] == 0
    print("killed" if killed else "NOT killed")
    return 0 if killed else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("groups", nargs="*", metavar="GROUP", help=", ".join(GROUPS))
    parser.add_argument("--report", action="store_true", help="only print the last results")
    parser.add_argument("--max-children", type=int, default=2, help="mutants run at once")
    parser.add_argument("--check", metavar="MUTANT", help="run the GROUP arguments as tests")
    parser.add_argument(
        "--fresh", action="store_true", help=f"ignore the verdicts kept in {VERDICTS.name}"
    )
    parser.add_argument(
        "--save", action="store_true", help=f"only write the verdicts to {VERDICTS.name}"
    )
    parser.add_argument(
        "--recheck", action="store_true", help="test the survivors kept from earlier runs again"
    )
    args = parser.parse_args()
    if args.check:
        return check(args.check, args.groups)
    names: list[str] = args.groups or list(GROUPS)
    unknown = [name for name in names if name not in GROUPS]
    if unknown:
        parser.error(f"unknown group {', '.join(unknown)}; the groups: {', '.join(GROUPS)}")
    if args.save:
        print(f"{save_verdicts()} verdicts kept in {VERDICTS.relative_to(ROOT)}")
        return 0
    if not args.report:
        if not args.fresh:
            restored = restore_verdicts(recheck=args.recheck)
            print(f"{restored} verdicts of earlier runs (unless their function changed since)")
        # One mutmut run for every group asked for: each run first runs the clean tests of
        # all the mutants it will test, minutes of work that per-group runs would repeat.
        mutmut = Path(sys.executable).with_name("mutmut")
        command = [str(mutmut), "run", "--max-children", str(args.max_children)]
        print(f"== {', '.join(GROUPS[name].title for name in names)}", flush=True)
        targets = [pattern for name in names for pattern in GROUPS[name].patterns]
        if not args.fresh:
            subprocess.run([*command, _NO_MUTANT], cwd=ROOT, check=False, capture_output=True)
            targets = pending(names)
            print(f"{len(targets)} mutants without a verdict to test", flush=True)
        if not targets:
            report(names)
            return 0
        done = subprocess.run([*command, *targets], cwd=ROOT, check=False)
        save_verdicts()
        if done.returncode != 0:
            return done.returncode
    report(names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
