"""Webhooks the providers deliver to ``/api/webhooks/{source}``, and their signing secrets."""

from dataclasses import dataclass

from entrypoints.settings.fields import Section, setting

__all__ = ("WebhookSettings",)


def secrets_list(raw: str) -> tuple[str, ...]:
    found = tuple(part.strip() for part in raw.split(","))
    if not found or any(len(secret) < 16 for secret in found):
        raise ValueError("expected secrets of 16 characters or more, separated by commas")
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSettings(Section):
    """The sources whose deliveries are taken in; a source without a secret answers 404."""

    github_secrets: tuple[str, ...] | None = setting(
        "MAESTRIST_GITHUB_WEBHOOK_SECRETS",
        "The secret of the GitHub webhook (the GitHub App's, or a repository's) delivering to "
        "`/api/webhooks/github`, 16 characters or more; while rotating, the new and the old "
        "separated by a comma. Unset: that address answers 404.",
        secrets_list,
        shown="",
        default=None,
        secret=True,
    )
