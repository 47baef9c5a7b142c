"""Product analytics and experiments over the fakes: events only with the person's consent
as it applies to them (their own choice over their organization's default), never an email;
a conversation's variants chosen per person, kept, and the kept ones winning on resume;
``conversation_finished`` reported once per ending, with the variants."""

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from application.analytics import ProductAnalytics
from application.conversations.callbacks import ReportConversationFinished, StateChange
from application.experiments import ConversationExperiments
from application.ports.org_repository import MemberOrganization
from application.settings import UpdateSettings, UpdateSettingsRequest
from domain.conversations.entities import (
    CallbackId,
    Conversation,
    ConversationStatus,
    EventCallback,
    Tenant,
)
from domain.conversations.value_objects import ConversationId
from domain.experiments.assignments import Experiment
from domain.identity.entities import User
from domain.organizations.entities import OrgId, Role
from domain.settings.entities import OrgSettings, SettingField, SettingsValues, UserSettings
from domain.shared.ids import new_id
from tests.factories import T0, create_org, create_user
from tests.fakes import FakeClock, FakeStore, FakeUnitOfWork
from tests.fakes.analytics import RecordingAnalytics
from tests.fakes.feature_flags import FakeFeatureFlags, FlagDefinition, bucket
from tests.unit.application.conftest import World
from tests.unit.application.test_sessions import Flow

PROMPT = Experiment(name="prompt", default="standard")


@dataclass
class Rig:
    store: FakeStore = field(default_factory=FakeStore)
    recorded: RecordingAnalytics = field(default_factory=RecordingAnalytics)
    flags: FakeFeatureFlags = field(default_factory=FakeFeatureFlags)
    clock: FakeClock = field(default_factory=FakeClock)

    @property
    def analytics(self) -> ProductAnalytics:
        return ProductAnalytics(self.recorded)

    def experiments(self, *experiments: Experiment) -> ConversationExperiments:
        return ConversationExperiments(
            experiments or (PROMPT,), self.flags, self.analytics, self.clock
        )

    def member(self, *, consent: bool | None = None, org_consent: bool | None = None) -> Tenant:
        user = create_user()
        org, membership = create_org(user)
        self.store.live.users[user.id_] = user
        self.store.live.orgs[org.id_] = org
        self.store.live.memberships[(org.id_, user.id_)] = membership
        self.consent(user, consent)
        self.org_consent(org.id_, org_consent)
        return Tenant(org.id_, user.id_)

    def consent(self, user: User, consent: bool | None) -> None:
        self.store.live.user_settings[user.id_] = UserSettings(
            user_id=user.id_, values=SettingsValues(analytics_consent=consent), updated_at=T0
        )
        self.store.commit()

    def org_consent(self, org_id: OrgId, consent: bool | None) -> None:
        self.store.live.org_settings[org_id] = OrgSettings(
            org_id=org_id, values=SettingsValues(analytics_consent=consent), updated_at=T0
        )
        self.store.commit()

    async def started(self, tenant: Tenant, sut: ConversationExperiments) -> Conversation:
        conversation = Conversation(
            id_=ConversationId(new_id()), tenant=tenant, created_at=T0, updated_at=T0
        )
        uow = FakeUnitOfWork(self.store)
        await uow.conversations.add(conversation)
        await sut.start(uow, conversation)
        await uow.commit()
        return conversation


@pytest.fixture
def rig() -> Rig:
    return Rig()


@pytest.mark.parametrize(
    ("own", "org", "sent"),
    [
        (True, None, True),
        (None, True, True),
        (False, True, False),
        (None, None, False),
        (None, False, False),
    ],
)
async def test_a_conversation_is_reported_only_with_consent_as_it_applies(
    rig: Rig, own: bool | None, org: bool | None, *, sent: bool
) -> None:
    tenant = rig.member(consent=own, org_consent=org)
    conversation = await rig.started(tenant, rig.experiments())
    events = rig.recorded.named("conversation_started")
    assert len(events) == int(sent)
    if sent:
        (event,) = events
        assert event.user_id == tenant.user_id
        assert event.properties["conversation_id"] == str(conversation.id_)
        assert event.properties["$feature/prompt"] == "standard"
    assert rig.recorded.dropped == 0


async def test_variants_are_per_person_kept_and_the_flag_or_the_default_chooses(
    rig: Rig,
) -> None:
    split = FlagDefinition(key="prompt", variants={"long": 50, "short": 50})
    rig.flags.define(split)
    people = [rig.member(consent=True) for _ in range(12)]
    sut = rig.experiments(PROMPT, Experiment(name="unflagged", default="off"))
    chosen: dict[Tenant, set[str]] = {}
    for tenant in people:
        for _ in range(2):
            conversation = await rig.started(tenant, sut)
            uow = FakeUnitOfWork(rig.store)
            kept = await uow.experiments.of_conversation(conversation.id_)
            assert kept["unflagged"] == "off"
            chosen.setdefault(tenant, set()).add(kept["prompt"])
    assert {t: {bucket(split, str(t.user_id))} for t in people} == chosen
    assert set().union(*chosen.values()) == {"long", "short"}


async def test_unavailable_flags_or_a_malformed_variant_give_the_default(rig: Rig) -> None:
    tenant = rig.member()
    rig.flags.define(FlagDefinition(key="prompt", variants={"has spaces": 100}))
    first = await rig.started(tenant, rig.experiments())
    rig.flags.define(FlagDefinition(key="prompt", variants={"long": 100}))
    rig.flags.available = False
    second = await rig.started(tenant, rig.experiments())
    uow = FakeUnitOfWork(rig.store)
    assert await uow.experiments.of_conversation(first.id_) == {"prompt": "standard"}
    assert await uow.experiments.of_conversation(second.id_) == {"prompt": "standard"}


async def test_the_kept_variant_wins_over_a_changed_flag_and_a_new_experiment_is_added(
    rig: Rig,
) -> None:
    tenant = rig.member()
    rig.flags.define(FlagDefinition(key="prompt", variants={"long": 100}))
    conversation = await rig.started(tenant, rig.experiments())
    rig.flags.define(
        FlagDefinition(key="prompt", variants={"short": 100}),
        FlagDefinition(key="model", variants={"b": 100}),
    )
    rig.clock.advance(timedelta(days=1))
    later = rig.experiments(PROMPT, Experiment(name="model", default="a"))
    uow = FakeUnitOfWork(rig.store)
    assert await later.assign(uow, conversation) == {"prompt": "long", "model": "b"}
    await uow.commit()
    asked = rig.flags.asked
    assert await later.assign(FakeUnitOfWork(rig.store), conversation) == {
        "prompt": "long",
        "model": "b",
    }
    assert rig.flags.asked == asked  # all kept: the flags are not asked again


def _change(
    conversation: Conversation, previous: ConversationStatus, uow: FakeUnitOfWork
) -> StateChange:
    return StateChange(
        conversation=conversation,
        previous=previous,
        at=T0,
        events=(),
        tx=uow,
        message_text=lambda _: None,
    )


async def test_an_ending_is_reported_once_with_its_status_and_variants(rig: Rig) -> None:
    tenant = rig.member(consent=True)
    rig.flags.define(FlagDefinition(key="prompt", variants={"long": 100}))
    conversation = await rig.started(tenant, rig.experiments())
    sut = ReportConversationFinished(rig.analytics)
    callback = EventCallback(
        id_=CallbackId(new_id()),
        conversation_id=conversation.id_,
        processor=sut.name,
        updated_at=T0,
    )
    uow = FakeUnitOfWork(rig.store)
    moves = [
        (ConversationStatus.STARTING, ConversationStatus.RUNNING),
        (ConversationStatus.RUNNING, ConversationStatus.FINISHED),
        (ConversationStatus.FINISHED, ConversationStatus.STOPPED),
        (ConversationStatus.STOPPED, ConversationStatus.RUNNING),
        (ConversationStatus.RUNNING, ConversationStatus.ERROR),
    ]
    for previous, now in moves:
        conversation.status = now
        await sut.on_state_change(callback, _change(conversation, previous, uow))
    assert rig.recorded.named("conversation_finished") == []  # not before the ending is kept
    await uow.commit()
    reported = rig.recorded.named("conversation_finished")
    assert [e.properties["status"] for e in reported] == ["finished", "error"]
    assert {e.properties["$feature/prompt"] for e in reported} == {"long"}
    assert callback.status.value == "active"


async def test_an_ending_without_consent_or_without_analytics_reports_nothing(rig: Rig) -> None:
    tenant = rig.member(consent=False, org_consent=True)
    conversation = await rig.started(tenant, rig.experiments())
    conversation.status = ConversationStatus.FINISHED
    callback = EventCallback(
        id_=CallbackId(new_id()),
        conversation_id=conversation.id_,
        processor="analytics",
        updated_at=T0,
    )
    change = _change(conversation, ConversationStatus.RUNNING, FakeUnitOfWork(rig.store))
    await ReportConversationFinished(rig.analytics).on_state_change(callback, change)
    await ReportConversationFinished(None).on_state_change(callback, change)
    assert rig.recorded.events == []


async def test_a_start_whose_transaction_is_not_kept_is_never_reported(rig: Rig) -> None:
    tenant = rig.member(consent=True)
    sut = rig.experiments()
    conversation = Conversation(
        id_=ConversationId(new_id()), tenant=tenant, created_at=T0, updated_at=T0
    )
    rolled_back = FakeUnitOfWork(rig.store)
    await rolled_back.conversations.add(conversation)
    await sut.start(rolled_back, conversation)
    assert rig.recorded.named("conversation_started") == []  # queued for the commit only
    await rolled_back.rollback()
    await rolled_back.commit()  # a later commit of the same unit of work reports nothing
    assert rig.recorded.named("conversation_started") == []

    kept = FakeUnitOfWork(rig.store)
    await kept.conversations.add(conversation)
    await sut.start(kept, conversation)
    await kept.commit()
    (reported,) = rig.recorded.named("conversation_started")
    assert reported.properties["conversation_id"] == str(conversation.id_)


async def test_credits_purchased_is_reported_with_consent_and_no_more(rig: Rig) -> None:
    buyer = rig.member(consent=True)
    other = rig.member()
    for tenant in (buyer, other):
        uow = FakeUnitOfWork(rig.store)
        await rig.analytics.credits_purchased(
            uow,
            user_id=tenant.user_id,
            org_id=tenant.org_id,
            amount_micros=25_000_000,
            currency="USD",
        )
        await uow.commit()
    (event,) = rig.recorded.events
    assert (event.user_id, event.event.value) == (buyer.user_id, "credits_purchased")
    assert event.properties == {
        "org_id": str(buyer.org_id),
        "amount_micros": 25_000_000,
        "currency": "usd",
    }


async def test_a_sign_in_is_reported_with_consent_and_never_with_the_email(
    world: World,
) -> None:
    flow = Flow(world)
    first = await flow.sign_in("ada", email="ada@example.com")
    assert flow.analytics.events == []  # a new person has not consented yet
    world.store.live.user_settings[first.user.id_] = UserSettings(
        user_id=first.user.id_, values=SettingsValues(analytics_consent=True), updated_at=T0
    )
    world.store.commit()
    again = await flow.sign_in("ada", email="ada@example.com")
    assert again.user.id_ == first.user.id_
    assert [(e.user_id, e.event.value) for e in flow.analytics.events] == [
        (first.user.id_, "user_signed_in")
    ]
    (person,) = flow.analytics.people
    assert person.user_id == first.user.id_
    shown = repr([*flow.analytics.events, *flow.analytics.people])
    assert "ada@example.com" not in shown
    assert "Ada" not in shown


async def test_a_sign_up_is_reported_once_when_consent_is_first_given_dated_at_the_account(
    world: World,
) -> None:
    ada = world.principal("ada")
    recorded = RecordingAnalytics()
    org = MemberOrganization(organization=create_org(ada.user)[0], role=Role.OWNER)
    world.store.live.orgs[org.organization.id_] = org.organization
    world.store.commit()
    world.clock.advance(timedelta(days=30))

    async def consent(value: bool | None) -> None:
        await UpdateSettings(
            FakeUnitOfWork(world.store), world.clock, ProductAnalytics(recorded)
        ).execute(
            UpdateSettingsRequest(
                actor=ada, org=org, changes={SettingField.ANALYTICS_CONSENT: value}
            )
        )

    await consent(False)
    assert recorded.events == []
    await consent(None)
    await consent(True)
    await consent(False)
    await consent(True)
    (signed_up,) = recorded.events
    assert (signed_up.user_id, signed_up.event.value) == (ada.user.id_, "user_signed_up")
    assert signed_up.occurred_at == ada.user.created_at
    assert signed_up.properties == {}
