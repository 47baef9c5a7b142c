"""Purchases, payments, duplicate and reordered events, the browser's returns, refunds, an
agent's usage reports (some replayed) and conversation starts, interleaved at random over the
fakes: the balance always equals the sum of the ledger, each paid checkout is credited exactly
once once anyone fulfilled it, an unpaid one never, each refund and each usage report is
debited once, a run is held exactly when its usage takes the balance to zero, and no
conversation starts below the minimum balance."""

import asyncio
from collections.abc import Coroutine
from dataclasses import replace
from decimal import Decimal
from typing import Any, TypeVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from application.analytics import ProductAnalytics
from application.billing import (
    BillingPolicy,
    BudgetPolicy,
    BuyCredits,
    BuyCreditsRequest,
    Fulfillment,
    FundsCheck,
    ShowPurchase,
    ShowPurchaseRequest,
    StripeWebhooks,
    UsageAccounting,
)
from domain.billing.holds import BillingHold, InsufficientFundsError
from domain.billing.ledger import EntryKind
from domain.billing.payments import PurchaseId
from domain.billing.usage import LlmPayer
from domain.conversations.entities import Conversation, ConversationStatus, Tenant
from domain.conversations.value_objects import ConversationId, Usage
from domain.identity.principals import AuthMethod, Principal
from domain.shared.ids import new_id
from domain.webhooks.entities import WebhookDelivery
from tests.factories import create_org, create_user
from tests.fakes import FakeClock, FakeStore
from tests.fakes.analytics import RecordingAnalytics
from tests.fakes.payment_gateway import FakePaymentGateway
from tests.fakes.unit_of_work import FakeUnitOfWork
from tests.support.stripe_server import signed_event

SECRET = "whsec_stateful"
BUDGETS = BudgetPolicy(enforced=True, min_balance_micros=2_000_000)
_T = TypeVar("_T")


class BillingMachine(RuleBasedStateMachine):
    purchases = Bundle("purchases")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.store = FakeStore()
        self.clock = FakeClock()
        self.gateway = FakePaymentGateway()
        self.analytics = RecordingAnalytics()
        self.policy = BillingPolicy(
            enabled=True,
            currency="usd",
            min_micros=1_000_000,
            max_micros=1_000_000_000,
            public_url="https://maestrist.example.com",
        )
        owner = create_user("owner")
        org, founder = create_org(owner)
        self.store.live.users[owner.id_] = owner
        self.store.live.orgs[org.id_] = org
        self.store.live.memberships[(org.id_, owner.id_)] = founder
        self.store.commit()
        self.org_id = org.id_
        self.owner = Principal(user=owner, method=AuthMethod.SESSION)
        self.sessions: dict[PurchaseId, str] = {}
        self.amounts: dict[PurchaseId, int] = {}
        self.charges: dict[PurchaseId, str] = {}
        self.fulfilled: set[PurchaseId] = set()
        """Paid purchases someone fulfilled (webhook or return) after they were paid."""
        self.refunded: dict[str, int] = {}
        """Refunds processed by a charge.refunded event, by id: what they must have debited."""
        self.conversation = Conversation(
            id_=ConversationId(new_id()),
            tenant=Tenant(org.id_, owner.id_),
            status=ConversationStatus.RUNNING,
            llm_payer=LlmPayer.ORG,
            created_at=self.clock.now(),
            updated_at=self.clock.now(),
        )
        self.reports: list[tuple[str, int]] = []
        """Each usage report sent: its id and the running total it carried, in micro-units."""

    def teardown(self) -> None:
        self.loop.close()

    def run(self, step: Coroutine[Any, Any, _T]) -> _T:
        return self.loop.run_until_complete(step)

    @property
    def fulfillment(self) -> Fulfillment:
        return Fulfillment(self.gateway, self.policy, ProductAnalytics(self.analytics))

    async def _process(self, kind: str, data: dict[str, Any]) -> str:
        body, headers = signed_event(
            kind, data, secret=SECRET, created=int(self.clock.now().timestamp())
        )
        source = StripeWebhooks(secrets=(SECRET,), clock=self.clock, fulfillment=self.fulfillment)
        signed = source.verify({k.lower(): v for k, v in headers.items()}, body)
        delivery = WebhookDelivery.receive(
            source="stripe",
            delivery_id=signed.delivery_id,
            event=signed.event,
            body=body.decode(),
            now=self.clock.now(),
        )
        uow = FakeUnitOfWork(self.store)
        outcome = await source.process(delivery, uow)
        await uow.commit()
        return outcome

    @rule(target=purchases, cents=st.integers(min_value=100, max_value=100_000))
    def buy(self, cents: int) -> PurchaseId:
        use_case = BuyCredits(FakeUnitOfWork(self.store), self.clock, self.gateway, self.policy)
        bought = self.run(
            use_case.execute(
                BuyCreditsRequest(actor=self.owner, org_id=self.org_id, amount=Decimal(cents) / 100)
            )
        )
        purchase = bought.purchase
        assert purchase.checkout_session_id is not None
        self.sessions[purchase.id_] = purchase.checkout_session_id
        self.amounts[purchase.id_] = purchase.amount_micros
        return purchase.id_

    @rule(purchase=purchases)
    def pay(self, purchase: PurchaseId) -> None:
        if purchase not in self.charges:
            self.charges[purchase] = self.gateway.pay(self.sessions[purchase]).id_

    @rule(purchase=purchases, twice=st.booleans(), kind=st.sampled_from(["completed", "async"]))
    def webhook(self, purchase: PurchaseId, twice: bool, kind: str) -> None:
        event = (
            "checkout.session.completed"
            if kind == "completed"
            else "checkout.session.async_payment_succeeded"
        )
        for _ in range(2 if twice else 1):
            self.run(self._process(event, {"id": self.sessions[purchase]}))
        if purchase in self.charges:
            self.fulfilled.add(purchase)

    @rule(purchase=purchases)
    def returned(self, purchase: PurchaseId) -> None:
        show = ShowPurchase(FakeUnitOfWork(self.store), self.clock, self.fulfillment, self.policy)
        self.run(
            show.execute(
                ShowPurchaseRequest(actor=self.owner, org_id=self.org_id, purchase_id=purchase)
            )
        )
        if purchase in self.charges:
            self.fulfilled.add(purchase)

    @rule(purchase=purchases)
    def race(self, purchase: PurchaseId) -> None:
        """The return page and two deliveries of the event at once."""

        async def together() -> None:
            show = ShowPurchase(
                FakeUnitOfWork(self.store), self.clock, self.fulfillment, self.policy
            )
            request = ShowPurchaseRequest(
                actor=self.owner, org_id=self.org_id, purchase_id=purchase
            )
            data = {"id": self.sessions[purchase]}
            await asyncio.gather(
                show.execute(request),
                self._process("checkout.session.completed", data),
                self._process("checkout.session.completed", data),
            )

        self.run(together())
        if purchase in self.charges:
            self.fulfilled.add(purchase)

    @precondition(lambda self: bool(self.charges))
    @rule(data=st.data(), share=st.integers(min_value=1, max_value=100))
    def refund(self, data: st.DataObject, share: int) -> None:
        purchase = data.draw(st.sampled_from(sorted(self.charges)))
        charge_id = self.charges[purchase]
        charge = self.gateway.charges[charge_id]
        left = charge.amount - sum(r.amount for r in charge.refunds)
        amount = min(left, max(1, charge.amount * share // 100))
        if amount <= 0:
            return
        self.gateway.refund(charge_id, amount)
        if purchase in self.fulfilled:
            self.run(self._process("charge.refunded", {"id": charge_id}))
            for refund in self.gateway.charges[charge_id].refunds:
                self.refunded[refund.id_] = refund.amount * 10_000

    def _balance(self) -> int:
        return self.run(FakeUnitOfWork(self.store).ledger.balance(self.org_id))

    @rule(cents=st.integers(min_value=1, max_value=5_000), replay=st.booleans())
    def usage_report(self, cents: int, replay: bool) -> None:
        """The agent reports its running total, grown by ``cents``; or a report already
        accounted arrives again (a re-ingested event), which changes nothing."""
        again = replay and bool(self.reports)
        if again:
            report_id, total = self.reports[-1]
        else:
            total = (self.reports[-1][1] if self.reports else 0) + cents * 10_000
            report_id = f"ev-{len(self.reports) + 1}"
            self.reports.append((report_id, total))
        before = self._balance()

        async def account() -> BillingHold | None:
            uow = FakeUnitOfWork(self.store)
            usage = Usage(input_tokens=total // 1_000, cost_usd=total / 1_000_000, model="m")
            held = await UsageAccounting(BUDGETS).account(
                uow, self.conversation, report_id, usage, self.clock.now()
            )
            await uow.commit()
            return held

        held = self.run(account())
        after = self._balance()
        if again:
            assert (held, after) == (None, before), "a replayed report moved the balance"
        else:
            assert after == before - cents * 10_000
            assert held is (BillingHold.FUNDS if after <= 0 else None)

    @rule()
    def start_conversation(self) -> None:
        """A member starts a conversation the organization pays for."""
        balance = self._balance()
        uow = FakeUnitOfWork(self.store)
        try:
            self.run(
                FundsCheck(BUDGETS).check(
                    uow, self.conversation.tenant, LlmPayer.ORG, self.clock.now()
                )
            )
        except InsufficientFundsError:
            assert balance < BUDGETS.min_balance_micros
        else:
            assert balance >= BUDGETS.min_balance_micros, "a start below the minimum balance"

    @invariant()
    def balance_is_the_sum_of_the_ledger(self) -> None:
        ledger = FakeUnitOfWork(self.store).ledger
        balance = self.run(ledger.balance(self.org_id))
        assert balance == self.run(ledger.total(self.org_id))
        entries = list(self.store.committed.ledger.values())
        credited = [e for e in entries if e.kind is EntryKind.PURCHASE]
        sessions = [e.source_id for e in credited]
        assert len(sessions) == len(set(sessions)), "a checkout was credited twice"
        expected = {self.sessions[p] for p in self.fulfilled}
        assert set(sessions) == expected
        debits = {e.source_id: -e.amount_micros for e in entries if e.kind is EntryKind.REFUND}
        assert debits == self.refunded
        used = [-e.amount_micros for e in entries if e.kind is EntryKind.USAGE]
        assert sum(used) == (self.reports[-1][1] if self.reports else 0), "usage debited twice"
        assert len(used) == len(self.reports)
        assert balance == (
            sum(self.amounts[p] for p in self.fulfilled) - sum(debits.values()) - sum(used)
        )

    @invariant()
    def nothing_unpaid_is_credited(self) -> None:
        unpaid = {self.sessions[p] for p in self.sessions if p not in self.charges}
        assert not unpaid & {e.source_id for e in self.store.committed.ledger.values()}


BillingMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=25)
test_billing_state_machine = BillingMachine.TestCase


def test_the_machine_sees_a_credited_purchase() -> None:
    """The machine's checks can fail: a checkout credited under a second key is caught."""
    machine = BillingMachine()
    try:
        purchase = machine.buy(2_500)
        machine.pay(purchase)
        machine.webhook(purchase, twice=False, kind="completed")
        machine.balance_is_the_sum_of_the_ledger()
        [entry] = machine.store.committed.ledger.values()
        machine.store.live.ledger[entry.id_] = replace(entry, source_id="cs_other")
        machine.store.commit()
        try:
            machine.balance_is_the_sum_of_the_ledger()
        except AssertionError:
            return
        raise AssertionError("the invariant missed a checkout credited under another key")
    finally:
        machine.teardown()
