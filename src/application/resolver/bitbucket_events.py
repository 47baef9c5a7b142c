"""Reading Bitbucket Cloud's webhook payloads (issue and pull request comments) into what the
resolver acts on. Only the fields used are read, leniently."""

from collections.abc import Mapping
from typing import Any

from application.resolver.reading import id_of, json_object, mapping, text
from application.resolver.repository_deliveries import RepositoryDelivery
from domain.git.providers import ProviderKind
from domain.resolver.triggers import EventSender, ThreadEvent, ThreadEventKind, ThreadRef
from domain.shared.errors import InvalidValueError

__all__ = ("bitbucket_repository", "read_bitbucket_delivery")

_COMMENTED = {"issue:comment_created": "issue", "pullrequest:comment_created": "pullrequest"}


def bitbucket_repository(payload: Mapping[str, Any]) -> tuple[str, str]:
    """The repository a delivery is about: its full name and web address (empty when absent)."""
    repository = mapping(payload.get("repository"))
    html = mapping(mapping(repository.get("links")).get("html"))
    return text(repository.get("full_name")), text(html.get("href"))


def _sender(payload: Mapping[str, Any]) -> EventSender | None:
    actor = mapping(payload.get("actor"))
    account_id = text(actor.get("uuid"))
    login = text(actor.get("nickname")) or text(actor.get("display_name"))
    if not account_id or not login:
        return None
    return EventSender(account_id=account_id, login=login, is_bot=actor.get("type") == "app_user")


def _body(raw: Mapping[str, Any], field: str) -> str:
    value = raw.get(field)
    return text(mapping(value).get("raw")) if isinstance(value, Mapping) else text(value)


def read_bitbucket_delivery(event: str, body: str | bytes) -> RepositoryDelivery:
    """What a Bitbucket delivery of ``event`` (its ``X-Event-Key``) says; ``InvalidValueError``
    when its body is not a JSON object."""
    payload = json_object(body)
    repository, web_url = bitbucket_repository(payload)
    sender = _sender(payload)
    kind = _COMMENTED.get(event)
    if not repository or sender is None or kind is None:
        return RepositoryDelivery(repository=repository, web_url=web_url)
    raw = mapping(payload.get(kind))
    comment = mapping(payload.get("comment"))
    number = raw.get("id")
    if not isinstance(number, int) or isinstance(number, bool):
        return RepositoryDelivery(repository=repository, web_url=web_url)
    try:
        thread = ThreadRef(
            provider=ProviderKind.BITBUCKET,
            repository=repository,
            number=number,
            is_pull_request=kind == "pullrequest",
        )
    except InvalidValueError:
        return RepositoryDelivery(repository=repository, web_url=web_url)
    event_read = ThreadEvent(
        kind=ThreadEventKind.COMMENTED,
        thread=thread,
        sender=sender,
        title=text(raw.get("title")),
        body=_body(raw, "description" if kind == "pullrequest" else "content"),
        comment_id=id_of(comment.get("id")),
        comment_body=_body(comment, "content"),
    )
    return RepositoryDelivery(repository=repository, web_url=web_url, events=(event_read,))
