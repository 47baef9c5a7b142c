"""The shell script that clones a conversation's repository on the runtime's machine."""

import shlex

from domain.conversations.value_objects import StartSpec

__all__ = (
    "CHECKOUT_TIMEOUT_S",
    "SETUP_SCRIPT",
    "SETUP_TIMEOUT_S",
    "checkout_script",
    "setup_check",
    "setup_command",
)

CHECKOUT_TIMEOUT_S = 300
SETUP_TIMEOUT_S = 600
SETUP_SCRIPT = ".openhands/setup.sh"
"""What a repository runs to prepare its workspace (dependencies, tools) before the agent
starts, as OpenHands does."""


def setup_check(spec: StartSpec) -> str:
    """Prints ``yes`` when the workspace's clone has a setup script."""
    return f"test -f {shlex.quote(spec.workspace_dir + '/' + SETUP_SCRIPT)} && echo yes || true"


def setup_command(spec: StartSpec) -> str:
    """Runs the setup script in the workspace, its output kept short."""
    return (
        f"cd {shlex.quote(spec.workspace_dir)} || exit 1\n"
        f"said=$(bash {SETUP_SCRIPT} 2>&1); code=$?\n"
        'printf "%s\\n" "$said" | tail -c 4000\n'
        "exit $code\n"
    )


def checkout_script(spec: StartSpec) -> str:
    """The shell script that clones ``spec.checkout`` into the workspace on the runtime's
    machine. git gets the password from a throwaway credential helper that trades the
    short-lived credential at our token endpoint (``curl``); the clone's remote keeps no
    credential, and a workspace that already holds a clone is left as it is."""
    checkout = spec.checkout
    assert checkout is not None
    q = shlex.quote
    lines = [
        "set -eu",
        f"dir={q(spec.workspace_dir)}",
        'if [ -d "$dir/.git" ]; then exit 0; fi',
        'mkdir -p "$(dirname "$dir")"',
    ]
    clone = ["git", "-c", "credential.helper=", "-c", "core.askPass=true"]
    if spec.git is not None:
        fetch = (
            "token=$(curl -fsS --max-time 30 -H 'Accept: text/plain' "
            f"-H {q('X-Access-Token: ' + spec.git.credential)} {q(spec.git.token_url)}) || exit 1"
        )
        reply = "printf 'username=%s\\npassword=%s\\n'"
        helper = "\n".join(
            (
                "#!/bin/sh",
                'test "$1" = get || exit 0',
                fetch,
                'case "$token" in',
                f'  *:*) {reply} "${{token%%:*}}" "${{token#*:}}" ;;',
                f'  *) {reply} {q(checkout.username)} "$token" ;;',
                "esac",
            )
        )
        lines += [
            'helper="$(mktemp)"',
            "trap 'rm -f \"$helper\"' EXIT",
            f"printf '%s\\n' {q(helper)} > \"$helper\"",
            'chmod 700 "$helper"',
        ]
        clone += ["-c", 'credential.helper="$helper"']
    clone += ["clone", "--quiet"]
    if checkout.branch is not None:
        clone += ["--branch", q(checkout.branch)]
    clone += ["--", q(checkout.clone_url), '"$dir"']
    lines.append(" ".join(clone))
    if checkout.author_name:
        lines.append(f'git -C "$dir" config user.name {q(checkout.author_name)}')
    if checkout.author_email:
        lines.append(f'git -C "$dir" config user.email {q(checkout.author_email)}')
    return "\n".join(lines) + "\n"
