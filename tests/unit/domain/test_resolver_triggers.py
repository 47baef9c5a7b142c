"""What triggers the resolver: an exact mention of its handle, its label added, and never a bot
or the app's own account."""

import pytest

from domain.git.providers import ProviderKind
from domain.resolver.triggers import (
    EventSender,
    ResolverPolicy,
    ThreadEvent,
    ThreadEventKind,
    ThreadRef,
    TriggerKind,
    mentions,
)
from domain.shared.errors import InvalidValueError

ISSUE = ThreadRef(provider=ProviderKind.GITHUB, repository="acme/widgets", number=7)
ADA = EventSender(account_id="21031067", login="ada")


@pytest.mark.parametrize(
    "text",
    [
        "@openhands fix this",
        "please, @openhands, fix this",
        "@OpenHands fix this",
        "fix this (@openhands)",
        "fix this @openhands.",
        "fix this @openhands!",
        "line one\n@openhands: fix it",
        "> quoted\n\n@openhands",
        "**@openhands** please",
    ],
)
def test_an_exact_mention_is_found(text: str) -> None:
    assert mentions(text, "@openhands")


@pytest.mark.parametrize(
    "text",
    [
        "openhands fix this",
        "@openhands-dev fix this",
        "@openhands_bot fix this",
        "@openhandsx fix this",
        "write to me@openhands.dev",
        "write to help@openhands",
        "x@openhands",
        "see https://example.com/@openhands",
        "the handle is `@openhands`",
        "```\n@openhands in a fenced block\n```",
        "    @openhands in an indented block",
        "@@openhands",
        "",
    ],
)
def test_no_mention_inside_a_word_an_address_or_code(text: str) -> None:
    assert not mentions(text, "@openhands")


def test_another_handle_is_mentioned_the_same_way() -> None:
    assert mentions("hey @maestrist-bot look", "@maestrist-bot")
    assert not mentions("hey @maestrist look", "@maestrist-bot")


def _commented(body: str, sender: EventSender = ADA) -> ThreadEvent:
    return ThreadEvent(
        kind=ThreadEventKind.COMMENTED,
        thread=ISSUE,
        sender=sender,
        title="Crash",
        body="It crashes.",
        comment_id="1",
        comment_body=body,
    )


def _labeled(label: str, sender: EventSender = ADA) -> ThreadEvent:
    return ThreadEvent(
        kind=ThreadEventKind.LABELED,
        thread=ISSUE,
        sender=sender,
        title="Crash",
        body="It crashes.",
        label=label,
    )


def test_the_label_and_a_mention_trigger() -> None:
    sut = ResolverPolicy()
    assert sut.trigger_of(_labeled("openhands")) is TriggerKind.LABEL
    assert sut.trigger_of(_labeled("OpenHands ")) is TriggerKind.LABEL
    assert sut.trigger_of(_commented("@openhands please")) is TriggerKind.MENTION


def test_other_labels_and_comments_do_not() -> None:
    sut = ResolverPolicy(label="fix-me", handle="@fixer")
    assert sut.trigger_of(_labeled("openhands")) is None
    assert sut.trigger_of(_labeled("fix-me-later")) is None
    assert sut.trigger_of(_commented("@openhands please")) is None
    assert sut.trigger_of(_commented("@fixer please")) is TriggerKind.MENTION
    assert sut.trigger_of(_labeled("fix-me")) is TriggerKind.LABEL


def test_a_bot_or_the_apps_own_account_never_triggers() -> None:
    sut = ResolverPolicy(own_logins=frozenset({"Maestrist[bot]"}))
    bot = EventSender(account_id="1", login="dependabot[bot]", is_bot=True)
    own = EventSender(account_id="2", login="maestrist[bot]")
    assert sut.trigger_of(_commented("@openhands again", bot)) is None
    assert sut.trigger_of(_commented("I'm on it! @openhands", own)) is None
    assert sut.trigger_of(_labeled("openhands", bot)) is None


@pytest.mark.parametrize("handle", ["openhands", "@", "@open hands", "@-x", "@x-"])
def test_a_handle_is_at_and_a_login(handle: str) -> None:
    with pytest.raises(InvalidValueError):
        ResolverPolicy(handle=handle)


def test_a_label_is_not_blank() -> None:
    with pytest.raises(InvalidValueError):
        ResolverPolicy(label="  ")


def test_a_thread_names_a_repository_and_a_positive_number() -> None:
    with pytest.raises(InvalidValueError):
        ThreadRef(provider=ProviderKind.GITHUB, repository="widgets", number=1)
    with pytest.raises(InvalidValueError):
        ThreadRef(provider=ProviderKind.GITHUB, repository="acme/widgets", number=0)
    assert ThreadRef(provider=ProviderKind.GITHUB, repository="Acme/W", number=3).key == (
        "github:acme/w#3"
    )
