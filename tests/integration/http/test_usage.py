"""Usage and spending caps over HTTP on the clustered binding: each member sees their own
usage, owners and admins the organization's, by day, person and model, as JSON or CSV;
another organization's answers 404; the cap on members' monthly spending is set by owners
and admins only, audited, and refused when malformed."""

import csv
import io
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from httpx import Response

from domain.billing.usage import UsageRecord, UsageTotals
from domain.conversations.value_objects import ConversationId
from domain.identity.entities import User
from domain.organizations.entities import OrgId
from domain.shared.ids import new_id
from tests.db import add_user, sqla_ports
from tests.integration.http.conftest import Client, bearer

pytestmark = pytest.mark.postgres


async def _team(client: Client, owner: str, *members: User) -> str:
    created = await client.post("/api/orgs", json={"name": f"Team {owner}"}, headers=bearer(owner))
    assert created.status_code == 201, created.text
    team: str = created.json()["id"]
    for member in members:
        added = await client.post(
            f"/api/orgs/{team}/members",
            json={"email": member.email.value},
            headers=bearer(owner),
        )
        assert added.status_code == 201, added.text
    return team


async def _used(url: str, org: str, user: User, cost: int, model: str, *, billed: bool) -> None:
    async with sqla_ports(url) as open_ports, open_ports() as ports:
        await ports.uow.usage.record(
            UsageRecord(
                conversation_id=ConversationId(new_id()),
                report_id="ev-1",
                org_id=OrgId(UUID(org)),
                user_id=user.id_,
                model=model,
                usage=UsageTotals(input_tokens=1_000, output_tokens=100, cost_micros=cost),
                billed=billed,
                created_at=datetime.now(UTC) - timedelta(minutes=1),
            )
        )
        await ports.uow.commit()


def _in(team: str, subject: str) -> dict[str, str]:
    return {**bearer(subject), "X-Org-Id": team}


def _costs(response: Response) -> list[tuple[str | None, str, str]]:
    assert response.status_code == 200, response.text
    return [(i.get("model"), i["cost"], i["billed"]) for i in response.json()["items"]]


async def test_members_see_their_own_usage_and_admins_the_organizations(
    clustered_client: Client, postgres_url: str
) -> None:
    await add_user(postgres_url, "alice")
    bob = await add_user(postgres_url, "bob")
    carol = await add_user(postgres_url, "carol")
    alice_team = await _team(clustered_client, "alice", bob)
    carol_team = await _team(clustered_client, "carol")
    await _used(postgres_url, alice_team, bob, 750_000, "model-b", billed=True)
    await _used(postgres_url, alice_team, bob, 2_000_000, "model-a", billed=False)
    await _used(postgres_url, carol_team, carol, 9_000_000, "model-a", billed=True)

    mine = await clustered_client.get(
        "/api/usage", params={"by": "model"}, headers=_in(alice_team, "bob")
    )
    assert _costs(mine) == [
        ("model-a", "2.000000", "0.000000"),
        ("model-b", "0.750000", "0.750000"),
    ]
    assert mine.json()["currency"] == "USD"
    assert _costs(await clustered_client.get("/api/usage", headers=_in(alice_team, "alice"))) == []

    whole = await clustered_client.get(
        f"/api/orgs/{alice_team}/usage", params={"by": "user"}, headers=bearer("alice")
    )
    assert [(i["userId"], i["cost"], i["billed"]) for i in whole.json()["items"]] == [
        (str(bob.id_), "2.750000", "0.750000")
    ]

    exported = await clustered_client.get(
        f"/api/orgs/{alice_team}/usage",
        params={"by": "day,user,model", "format": "csv"},
        headers=bearer("alice"),
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["model"], r["cost"], r["billed"], r["currency"]) for r in rows] == [
        ("model-a", "2.000000", "0.000000", "USD"),
        ("model-b", "0.750000", "0.750000", "USD"),
    ]
    assert {r["user_id"] for r in rows} == {str(bob.id_)}

    by_member = await clustered_client.get(f"/api/orgs/{alice_team}/usage", headers=bearer("bob"))
    assert by_member.status_code == 403
    foreign = await clustered_client.get(f"/api/orgs/{carol_team}/usage", headers=bearer("alice"))
    assert foreign.status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"by": "team"}, "by"),
        ({"since": "2026-02-01", "until": "2026-01-31"}, "until"),
        ({"since": "2024-01-01", "until": "2026-01-31"}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"format": "xml"}, "format"),
    ],
)
async def test_a_malformed_usage_question_is_a_4xx_naming_what_is_wrong(
    clustered_client: Client, postgres_url: str, params: dict[str, str], field: str
) -> None:
    await add_user(postgres_url, "alice")
    team = await _team(clustered_client, "alice")
    response = await clustered_client.get(
        f"/api/orgs/{team}/usage", params=params, headers=bearer("alice")
    )
    assert 400 <= response.status_code < 500, response.text
    assert field in response.text


async def test_owners_and_admins_set_the_member_cap_and_members_only_read_it(
    clustered_client: Client, postgres_url: str
) -> None:
    await add_user(postgres_url, "alice")
    bob = await add_user(postgres_url, "bob")
    team = await _team(clustered_client, "alice", bob)
    path = f"/api/orgs/{team}/billing/member-cap"
    assert (await clustered_client.get(path, headers=bearer("bob"))).json() == {
        "memberMonthlyCap": None,
        "currency": "USD",
    }
    set_ = await clustered_client.put(
        path, json={"memberMonthlyCap": "25.5"}, headers=bearer("alice")
    )
    assert set_.status_code == 200, set_.text
    assert set_.json()["memberMonthlyCap"] == "25.500000"
    assert (await clustered_client.get(path, headers=bearer("bob"))).json()[
        "memberMonthlyCap"
    ] == "25.500000"
    refused = await clustered_client.put(
        path, json={"memberMonthlyCap": "1"}, headers=bearer("bob")
    )
    assert refused.status_code == 403
    for bad in ("-1", "1.0000001", "lots", "1e400", "1e999999999"):
        malformed = await clustered_client.put(
            path, json={"memberMonthlyCap": bad}, headers=bearer("alice")
        )
        assert malformed.status_code == 422, (bad, malformed.text)
        assert "memberMonthlyCap" in malformed.text
    audit = await clustered_client.get(f"/api/orgs/{team}/audit", headers=bearer("alice"))
    assert "billing.member_cap_changed" in {e["action"] for e in audit.json()["items"]}
    lifted = await clustered_client.put(
        path, json={"memberMonthlyCap": None}, headers=bearer("alice")
    )
    assert lifted.json()["memberMonthlyCap"] is None
