"""What sets the agent working from a provider's issue or pull request: a label added to it, or a
mention of the agent's handle in a comment on it. Provider-neutral: each provider's events are
read into a ``ThreadEvent`` and judged here the same way."""

import re
from dataclasses import dataclass
from enum import StrEnum

from domain.git.providers import ProviderKind
from domain.shared.errors import InvalidValueError

__all__ = (
    "ConversationTrigger",
    "EventSender",
    "ResolverPolicy",
    "ThreadEvent",
    "ThreadEventKind",
    "ThreadRef",
    "TriggerKind",
    "mentions",
)

_HANDLE = re.compile(r"@?[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,98}[A-Za-z0-9])?")
_MAX_LABEL = 100


class ConversationTrigger(StrEnum):
    """Where a conversation was started from."""

    WEB = "web"
    API = "api"
    GITHUB = "github"
    GITLAB = "gitlab"
    BITBUCKET = "bitbucket"
    JIRA = "jira"
    LINEAR = "linear"
    SLACK = "slack"

    @classmethod
    def of_provider(cls, provider: ProviderKind) -> "ConversationTrigger":
        return cls(provider.value)


class TriggerKind(StrEnum):
    LABEL = "label"
    MENTION = "mention"


class ThreadEventKind(StrEnum):
    LABELED = "labeled"
    """A label was added to the issue or pull request."""
    COMMENTED = "commented"
    """A comment was written on it (a pull request's review comments included)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadRef:
    """An issue or pull request: ``number`` in ``repository`` (``owner/name``) at ``provider``."""

    provider: ProviderKind
    repository: str
    number: int
    is_pull_request: bool = False

    def __post_init__(self) -> None:
        if self.number < 1:
            raise InvalidValueError("An issue number is positive.", field="number")
        if not 0 < len(self.repository) <= 255 or "/" not in self.repository:
            raise InvalidValueError("A repository is named owner/name.", field="repository")

    @property
    def key(self) -> str:
        """One name for the thread across servers (its lock's, its jobs')."""
        return f"{self.provider.value}:{self.repository.lower()}#{self.number}"


@dataclass(frozen=True, slots=True, kw_only=True)
class EventSender:
    """Who acted, as the provider identifies them."""

    account_id: str
    login: str
    is_bot: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadEvent:
    """Something done on an issue or pull request, read from a provider's delivery."""

    kind: ThreadEventKind
    thread: ThreadRef
    sender: EventSender
    title: str
    body: str
    label: str | None = None
    comment_id: str | None = None
    comment_body: str | None = None
    comment_is_review: bool = False
    """A pull request review comment (on a line of the diff), not one in the conversation."""


def mentions(text: str, handle: str) -> bool:
    """Whether ``text`` mentions ``handle`` (``@openhands``) exactly, in any case: not as part
    of a longer handle (``@openhands-dev``), a word (``x@openhands``) or an email address
    (``me@openhands.dev``), nor inside code (backquoted or an indented or fenced block)."""
    name = handle.removeprefix("@")
    pattern = re.compile(
        rf"(?<![\w@./+-])@{re.escape(name)}(?![\w-]|\.\w)", re.IGNORECASE | re.ASCII
    )
    return pattern.search(_without_code(text)) is not None


def _without_code(text: str) -> str:
    text = re.sub(r"```.*?(```|$)", " ", text, flags=re.DOTALL)
    text = re.sub(r"`[^`\n]*`", " ", text)
    return "\n".join("" if line.startswith(("    ", "\t")) else line for line in text.splitlines())


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolverPolicy:
    """What triggers the agent: ``label`` added, or ``handle`` mentioned; and who never does
    (``own_logins``: the app's own bot account, whatever its account type says;
    ``own_accounts``: the ids of the accounts the replies are written as)."""

    label: str = "openhands"
    handle: str = "@openhands"
    own_logins: frozenset[str] = frozenset()
    own_accounts: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not _HANDLE.fullmatch(self.handle) or not self.handle.startswith("@"):
            raise InvalidValueError("A handle is @ and a login name.", field="handle")
        if not 0 < len(self.label.strip()) <= _MAX_LABEL:
            raise InvalidValueError(f"A label is 1 to {_MAX_LABEL} characters.", field="label")

    def trigger_of(self, event: ThreadEvent) -> TriggerKind | None:
        """What ``event`` triggers, if anything. The loop guard first: a bot's or the app's own
        account never triggers, so nothing the agent writes sets it working again."""
        own = {login.lower() for login in self.own_logins}
        sender = event.sender
        if sender.is_bot or sender.login.lower() in own or sender.account_id in self.own_accounts:
            return None
        if event.kind is ThreadEventKind.LABELED:
            same = (event.label or "").strip().lower() == self.label.strip().lower()
            return TriggerKind.LABEL if same else None
        if event.comment_body is not None and mentions(event.comment_body, self.handle):
            return TriggerKind.MENTION
        return None
