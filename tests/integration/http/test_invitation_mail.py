"""An invitation sends one mail, through the server's own job workers and a real SMTP server on
loopback; a refused invitation sends none."""

import asyncio

import pytest

from entrypoints.settings.mail import smtp_url
from tests.conftest import clustered_settings
from tests.db import add_user
from tests.integration.http.conftest import BearerSubjectAuth, bearer, serve
from tests.support.polling import until
from tests.support.smtp_server import smtp_inbox

pytestmark = pytest.mark.postgres


async def test_an_invitation_sends_one_mail_and_a_refused_one_none(postgres_url: str) -> None:
    alice = await add_user(postgres_url, "alice")
    with smtp_inbox() as inbox:
        settings = clustered_settings(postgres_url)
        settings = settings.with_changes(
            mail=settings.mail.with_changes(smtp=smtp_url(inbox.url)),
            jobs=settings.jobs.with_changes(poll_interval_s=0.1),
            server=settings.server.with_changes(public_url="https://maestrist.example"),
        )
        async with serve(settings, BearerSubjectAuth()) as client:
            created = await client.post("/api/orgs", json={"name": "Acme"}, headers=bearer("alice"))
            org_id = created.json()["id"]
            invited = await client.post(
                f"/api/orgs/{org_id}/invitations",
                json={"email": "new.hire@example.com", "role": "member"},
                headers=bearer("alice"),
            )
            assert invited.status_code == 201, invited.text
            again = await client.post(
                f"/api/orgs/{org_id}/invitations",
                json={"email": "new.hire@example.com"},
                headers=bearer("alice"),
            )
            assert again.status_code == 409

            await until(lambda: len(inbox.received) >= 1, "the invitation mail")
            await asyncio.sleep(1)  # ten polls more: nothing else is sent

    [mail] = inbox.received
    assert inbox.envelopes == [("noreply@maestrist.example", ["new.hire@example.com"])]
    assert str(mail["To"]) == "new.hire@example.com"
    assert str(mail["Subject"]) == f"{alice.display_name} invited you to Acme on Maestrist"
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "join the organization Acme on Maestrist as member" in text
    assert "https://maestrist.example/" in text
    assert str(mail["Message-ID"]).endswith("@maestrist.example>")
