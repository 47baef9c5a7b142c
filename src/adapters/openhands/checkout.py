"""The shell script that clones a conversation's repository on the runtime's machine."""

import shlex

from domain.conversations.value_objects import StartSpec

__all__ = ("CHECKOUT_TIMEOUT_S", "checkout_script")

CHECKOUT_TIMEOUT_S = 300


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
