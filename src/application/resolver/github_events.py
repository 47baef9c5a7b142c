"""Reading GitHub's webhook payloads into what the resolver acts on. Only the fields used are
read, leniently: a field missing or of another type reads as absent."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.git.providers import ProviderKind
from domain.resolver.entities import AppInstallation
from domain.resolver.triggers import EventSender, ThreadEvent, ThreadEventKind, ThreadRef
from domain.shared.errors import InvalidValueError

__all__ = (
    "GithubDelivery",
    "InstallationChange",
    "read_github_delivery",
)

_THREAD_EVENTS = {
    ("issues", "labeled"),
    ("pull_request", "labeled"),
    ("issue_comment", "created"),
    ("pull_request_review_comment", "created"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallationChange:
    """What an ``installation`` or ``installation_repositories`` event says changed."""

    action: str
    """``created``, ``deleted``, ``suspend``, ``unsuspend``, ``added`` or ``removed``."""
    installation: AppInstallation
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class GithubDelivery:
    """A delivery read: a thread event, an installation change, or neither."""

    installation_id: str | None
    thread_event: ThreadEvent | None = None
    installation_change: InstallationChange | None = None


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _id(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    return str(value) or None


def _names(values: object) -> tuple[str, ...]:
    if not isinstance(values, list):
        return ()
    return tuple(n for n in (_text(_map(v).get("full_name")) for v in values) if n)


def _sender(payload: Mapping[str, Any]) -> EventSender | None:
    sender = _map(payload.get("sender"))
    account_id, login = _id(sender.get("id")), _text(sender.get("login"))
    if account_id is None or not login:
        return None
    return EventSender(account_id=account_id, login=login, is_bot=sender.get("type") == "Bot")


def _installation(payload: Mapping[str, Any], now: datetime) -> AppInstallation | None:
    raw = _map(payload.get("installation"))
    installation_id = _id(raw.get("id"))
    account = _map(raw.get("account"))
    login = _text(account.get("login")) or _text(account.get("slug"))
    if installation_id is None or not login:
        return None
    return AppInstallation(
        provider=ProviderKind.GITHUB,
        installation_id=installation_id,
        account_login=login,
        account_type=_text(account.get("type")) or "User",
        repositories=tuple(sorted(_names(payload.get("repositories")))),
        all_repositories=raw.get("repository_selection") == "all",
        suspended=raw.get("suspended_at") is not None,
        updated_at=now,
    )


def _thread_event(event: str, payload: Mapping[str, Any]) -> ThreadEvent | None:
    repository = _text(_map(payload.get("repository")).get("full_name"))
    issue = _map(payload.get("issue") or payload.get("pull_request"))
    number = issue.get("number")
    sender = _sender(payload)
    if not repository or not isinstance(number, int) or sender is None:
        return None
    comment = _map(payload.get("comment"))
    is_pull_request = event.startswith("pull_request") or "pull_request" in issue
    try:
        thread = ThreadRef(
            provider=ProviderKind.GITHUB,
            repository=repository,
            number=number,
            is_pull_request=is_pull_request,
        )
    except InvalidValueError:
        return None
    labeled = event in {"issues", "pull_request"}
    return ThreadEvent(
        kind=ThreadEventKind.LABELED if labeled else ThreadEventKind.COMMENTED,
        thread=thread,
        sender=sender,
        title=_text(issue.get("title")),
        body=_text(issue.get("body")),
        label=_text(_map(payload.get("label")).get("name")) or None if labeled else None,
        comment_id=None if labeled else _id(comment.get("id")),
        comment_body=None if labeled else _text(comment.get("body")),
        comment_is_review=event == "pull_request_review_comment",
    )


def read_github_delivery(event: str, body: str, now: datetime) -> GithubDelivery:
    """What a GitHub delivery of ``event`` says; ``InvalidValueError`` when its body is not a
    JSON object."""
    try:
        payload = json.loads(body)
    except ValueError:
        raise InvalidValueError("The delivery's body is not JSON.", field="body") from None
    if not isinstance(payload, Mapping):
        raise InvalidValueError("The delivery's body is not a JSON object.", field="body")
    action = _text(payload.get("action"))
    installation_id = _id(_map(payload.get("installation")).get("id"))
    if event in {"installation", "installation_repositories"}:
        installation = _installation(payload, now)
        if installation is None:
            return GithubDelivery(installation_id=installation_id)
        change = InstallationChange(
            action=action,
            installation=installation,
            added=_names(payload.get("repositories_added")),
            removed=_names(payload.get("repositories_removed")),
        )
        return GithubDelivery(installation_id=installation_id, installation_change=change)
    if (event, action) in _THREAD_EVENTS:
        return GithubDelivery(
            installation_id=installation_id, thread_event=_thread_event(event, payload)
        )
    return GithubDelivery(installation_id=installation_id)
