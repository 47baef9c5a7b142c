from collections.abc import Mapping
from datetime import datetime
from functools import partial

from application.ports.analytics import (
    Analytics,
    AnalyticsEvent,
    PropertyValue,
    TrackedEvent,
    TrackedPerson,
)
from application.ports.unit_of_work import UnitOfWork
from domain.conversations.entities import Conversation
from domain.identity.entities import User, UserId
from domain.organizations.entities import OrgId
from domain.settings.entities import SettingsValues, effective_settings

__all__ = ("ProductAnalytics", "experiment_properties")


def experiment_properties(variants: Mapping[str, str]) -> dict[str, PropertyValue]:
    """A conversation's variants as event properties, one ``$feature/<experiment>`` each (the
    property the analytics attribute an experiment's results by)."""
    return {f"$feature/{name}": variant for name, variant in sorted(variants.items())}


class ProductAnalytics:
    """What the product reports about a person, and only when that person consented: their
    ``analytics_consent`` setting as it applies to them (their own, else their organization's
    default, else off), read from the caller's unit of work when the event happens. Without it
    nothing is sent.

    A person is known by our user id only; properties carry ids, statuses, counts and
    experiment variants, never an email, a name, a repository, a token or a secret. Reporting
    never fails the caller and never waits on the network."""

    def __init__(self, analytics: Analytics) -> None:
        self._analytics = analytics

    async def consents(self, uow: UnitOfWork, user_id: UserId, org_id: OrgId | None) -> bool:
        """The person's consent in ``org_id`` (their own choice, else that organization's
        default); with no organization, their own choice."""
        mine = await uow.settings.get_user(user_id)
        org = None if org_id is None else await uow.settings.get_org(org_id)
        values = effective_settings(
            mine.values if mine is not None else SettingsValues(),
            org.values if org is not None else SettingsValues(),
        ).values
        return values.analytics_consent is True

    async def signed_in(
        self,
        uow: UnitOfWork,
        user_id: UserId,
        *,
        identity_provider: str | None,
        member_since: datetime,
    ) -> None:
        """A person signed in through ``identity_provider``."""
        if not await self.consents(uow, user_id, None):
            return
        self._analytics.identify(
            TrackedPerson(
                user_id=user_id,
                traits={"member_since": member_since.date().isoformat()},
                consented=True,
            )
        )
        self._capture(user_id, AnalyticsEvent.SIGNED_IN, {"identity_provider": identity_provider})

    async def consent_given(self, uow: UnitOfWork, user: User) -> None:
        """A person turned their consent on, where they had never set it: their sign-up is
        reported now, dated when their account was made (nobody has consented when their
        account is made, so this is when a sign-up can be reported, once per person)."""
        if not await self.consents(uow, user.id_, None):
            return
        self._analytics.capture(
            TrackedEvent(
                user_id=user.id_,
                event=AnalyticsEvent.SIGNED_UP,
                consented=True,
                occurred_at=user.created_at,
            )
        )

    async def conversation_started(
        self, uow: UnitOfWork, conversation: Conversation, variants: Mapping[str, str]
    ) -> None:
        """A conversation was started in ``uow``: reported once it commits."""
        tenant = conversation.tenant
        if not await self.consents(uow, tenant.user_id, tenant.org_id):
            return
        self._capture_after_commit(
            uow,
            tenant.user_id,
            AnalyticsEvent.CONVERSATION_STARTED,
            {
                **_about(conversation),
                "git_provider": (
                    None if conversation.git_provider is None else conversation.git_provider.value
                ),
                "child": conversation.parent_id is not None,
                **experiment_properties(variants),
            },
        )

    async def conversation_finished(self, uow: UnitOfWork, conversation: Conversation) -> None:
        """A conversation ended (finished, failed or stopped), with its status, what it took
        and the variants it ran with: reported once ``uow`` commits the ending (an ending
        whose transaction is rolled back and ingested again is reported once)."""
        tenant = conversation.tenant
        if not await self.consents(uow, tenant.user_id, tenant.org_id):
            return
        variants = await uow.experiments.of_conversation(conversation.id_)
        self._capture_after_commit(
            uow,
            tenant.user_id,
            AnalyticsEvent.CONVERSATION_FINISHED,
            {
                **_about(conversation),
                "status": conversation.status.value,
                "active_seconds": round(conversation.active_seconds, 3),
                "cost_usd": conversation.cost_usd,
                "prompt_tokens": conversation.prompt_tokens,
                "completion_tokens": conversation.completion_tokens,
                **experiment_properties(variants),
            },
        )

    async def credits_purchased(
        self,
        uow: UnitOfWork,
        *,
        user_id: UserId,
        org_id: OrgId,
        amount_micros: int,
        currency: str,
    ) -> None:
        """``user_id`` bought credits for ``org_id``: call as the purchase is credited in
        ``uow`` (once per purchase, as the crediting is); reported once that commits."""
        if not await self.consents(uow, user_id, org_id):
            return
        self._capture_after_commit(
            uow,
            user_id,
            AnalyticsEvent.CREDITS_PURCHASED,
            {
                "org_id": str(org_id),
                "amount_micros": amount_micros,
                "currency": currency.lower(),
            },
        )

    def _capture(
        self, user_id: UserId, event: AnalyticsEvent, properties: Mapping[str, PropertyValue]
    ) -> None:
        self._analytics.capture(
            TrackedEvent(user_id=user_id, event=event, properties=properties, consented=True)
        )

    def _capture_after_commit(
        self,
        uow: UnitOfWork,
        user_id: UserId,
        event: AnalyticsEvent,
        properties: Mapping[str, PropertyValue],
    ) -> None:
        """Report what ``uow`` is doing only once it is kept: never a start or a purchase
        whose transaction was rolled back."""
        uow.after_commit(partial(self._capture, user_id, event, properties))


def _about(conversation: Conversation) -> dict[str, PropertyValue]:
    return {
        "conversation_id": str(conversation.id_),
        "org_id": str(conversation.tenant.org_id),
    }
