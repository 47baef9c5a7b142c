"""Reading GitLab's webhook payloads (issue, merge request and note events) into what the
resolver acts on. Only the fields used are read, leniently."""

from collections.abc import Mapping
from typing import Any

from application.resolver.reading import id_of, json_object, mapping, text
from application.resolver.repository_deliveries import RepositoryDelivery
from domain.git.providers import ProviderKind
from domain.resolver.triggers import EventSender, ThreadEvent, ThreadEventKind, ThreadRef
from domain.shared.errors import InvalidValueError

__all__ = ("gitlab_repository", "read_gitlab_delivery")

_NOTEABLE = {"Issue": "issue", "MergeRequest": "merge_request"}


def gitlab_repository(payload: Mapping[str, Any]) -> tuple[str, str]:
    """The project a delivery is about: its full path and web address (empty when absent)."""
    project = mapping(payload.get("project"))
    return text(project.get("path_with_namespace")), text(project.get("web_url"))


def _sender(payload: Mapping[str, Any]) -> EventSender | None:
    user = mapping(payload.get("user"))
    account_id, login = id_of(user.get("id")), text(user.get("username"))
    if account_id is None or not login:
        return None
    return EventSender(account_id=account_id, login=login, is_bot=user.get("bot") is True)


def _thread(repository: str, raw: Mapping[str, Any], *, merge_request: bool) -> ThreadRef | None:
    number = raw.get("iid")
    if not isinstance(number, int) or isinstance(number, bool):
        return None
    try:
        return ThreadRef(
            provider=ProviderKind.GITLAB,
            repository=repository,
            number=number,
            is_pull_request=merge_request,
        )
    except InvalidValueError:
        return None


def _labels(values: object) -> list[str]:
    if not isinstance(values, list):
        return []
    return [name for name in (text(mapping(v).get("title")) for v in values) if name]


def _labeled(payload: Mapping[str, Any], repository: str, sender: EventSender) -> list[ThreadEvent]:
    """One event per label the change added (``changes.labels``: previous and current)."""
    attributes = mapping(payload.get("object_attributes"))
    thread = _thread(
        repository, attributes, merge_request=payload.get("object_kind") == "merge_request"
    )
    changes = mapping(mapping(payload.get("changes")).get("labels"))
    if thread is None:
        return []
    before = {name.lower() for name in _labels(changes.get("previous"))}
    added = [name for name in _labels(changes.get("current")) if name.lower() not in before]
    return [
        ThreadEvent(
            kind=ThreadEventKind.LABELED,
            thread=thread,
            sender=sender,
            title=text(attributes.get("title")),
            body=text(attributes.get("description")),
            label=name,
        )
        for name in added
    ]


def _noted(payload: Mapping[str, Any], repository: str, sender: EventSender) -> list[ThreadEvent]:
    """A note written (not edited, not a system note) on an issue or merge request."""
    note = mapping(payload.get("object_attributes"))
    noteable = _NOTEABLE.get(text(note.get("noteable_type")))
    if noteable is None or note.get("system") is True or note.get("action") == "update":
        return []
    raw = mapping(payload.get(noteable))
    thread = _thread(repository, raw, merge_request=noteable == "merge_request")
    if thread is None:
        return []
    return [
        ThreadEvent(
            kind=ThreadEventKind.COMMENTED,
            thread=thread,
            sender=sender,
            title=text(raw.get("title")),
            body=text(raw.get("description")),
            comment_id=id_of(note.get("id")),
            comment_body=text(note.get("note")),
        )
    ]


def read_gitlab_delivery(body: str | bytes) -> RepositoryDelivery:
    """What a GitLab delivery says; ``InvalidValueError`` when its body is not a JSON object.
    Its kind is the payload's ``object_kind`` (the ``X-Gitlab-Event`` header says the same)."""
    payload = json_object(body)
    repository, web_url = gitlab_repository(payload)
    sender = _sender(payload)
    if not repository or sender is None:
        return RepositoryDelivery(repository=repository, web_url=web_url)
    match payload.get("object_kind"):
        case "issue" | "merge_request":
            events = _labeled(payload, repository, sender)
        case "note":
            events = _noted(payload, repository, sender)
        case _:
            events = []
    return RepositoryDelivery(repository=repository, web_url=web_url, events=tuple(events))
