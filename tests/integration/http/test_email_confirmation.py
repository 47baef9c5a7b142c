"""A person whose identity provider (a real OIDC provider on loopback, not Keycloak) does not
verify their address confirms it through a link this server mails them, through its own job
workers and a real SMTP server; the confirmation outlives their next sign-in."""

import re
from collections.abc import Iterator

import pytest

from application.mail.send_mail import MAIL_SEND
from domain.jobs.entities import Job, JobStatus
from tests.conftest import TEST_ENCRYPTION_KEYS
from tests.db import sqla_ports
from tests.integration.http.conftest import serve, sign_in_settings
from tests.integration.http.test_sign_in import APP, sign_in
from tests.support.oidc import OidcProvider, run_oidc_provider
from tests.support.polling import until, until_awaited
from tests.support.smtp_server import SmtpInbox, smtp_inbox

pytestmark = [pytest.mark.oidc, pytest.mark.postgres, pytest.mark.redis]

LINK = re.compile(r"http://maestrist\.localhost(/api/user/email/confirm\?token=\S+)")


@pytest.fixture(scope="module")
def oidc() -> Iterator[OidcProvider]:
    with run_oidc_provider(
        redirect_uri=f"{APP}/api/auth/callback", post_logout_redirect_uri=f"{APP}/"
    ) as provider:
        yield provider


@pytest.fixture
def inbox() -> Iterator[SmtpInbox]:
    with smtp_inbox() as opened:
        yield opened


async def _mail_jobs(postgres_url: str) -> list[Job]:
    async with sqla_ports(postgres_url) as open_ports, open_ports() as ports:
        return await ports.uow.jobs.list(kind=MAIL_SEND)


def _link(inbox: SmtpInbox, n: int) -> str:
    body = inbox.received[n].get_body(("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found is not None, body.get_content()
    return found.group(1)


async def test_an_unverified_person_confirms_their_address_by_the_mailed_link(
    postgres_url: str, oidc: OidcProvider, inbox: SmtpInbox
) -> None:
    settings = sign_in_settings(
        postgres_url,
        oidc,
        APP,
        TEST_ENCRYPTION_KEYS,
        MAESTRIST_SMTP_URL=inbox.url,
        MAESTRIST_JOBS_POLL_INTERVAL="0.1",
    )
    async with serve(settings, base_url=APP) as client:
        assert (await sign_in(client, "unverified")).status_code == 302
        gated = await client.get("/api/orgs")
        assert gated.status_code == 403
        assert gated.json()["code"] == "email-not-verified"
        assert gated.json()["links"] == {"resend": "/api/user/email/verification"}

        asked = [await client.post("/api/user/email/verification") for _ in range(3)]
        assert [a.status_code for a in asked] == [202] * 3
        await until(lambda: len(inbox.received) >= 1, "the confirmation mail")

        # Each ask enqueued its mail before it answered: once no mail job waits, every mail
        # asked for has been sent, and a second one would be in the inbox by now.
        async def settled() -> bool:
            jobs = await _mail_jobs(postgres_url)
            return all(job.status in (JobStatus.DONE, JobStatus.DEAD) for job in jobs)

        await until_awaited(settled, "every mail job done")
        [job] = await _mail_jobs(postgres_url)
        assert (job.status, job.attempts) == (JobStatus.DONE, 1)
        assert len(inbox.received) == 1  # asked three times, mailed once
        mail = inbox.received[0]
        assert str(mail["To"]) == "unverified@example.com"
        link = _link(inbox, 0)

        forged = await client.get(link[:-3] + "abc")
        assert forged.status_code == 400
        assert forged.json()["code"] == "email-confirmation-invalid"
        assert (await client.get("/api/orgs")).status_code == 403

        confirmed = await client.get(link)
        assert confirmed.status_code == 303
        assert confirmed.headers["location"] == f"{APP}/?email=confirmed"
        assert (await client.get("/api/orgs")).status_code == 200
        assert (await client.get(link)).status_code == 303  # again: nothing changes
        again = await client.post("/api/user/email/verification")
        assert again.status_code == 409

        # The provider still says unverified; the address this server confirmed stays so.
        assert (await sign_in(client, "unverified")).status_code == 302
        me = await client.get("/api/user/me")
        assert me.json()["emailVerified"] is True
