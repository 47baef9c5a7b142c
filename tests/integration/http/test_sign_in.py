"""Sign-in through a real OpenID Connect provider (oidc-provider on loopback), end to end."""

import asyncio
import base64
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from dishka import Provider, Scope, provide
from sqlalchemy import text

from adapters.sqlalchemy import create_database_engine
from adapters.sqlalchemy.models import Base
from application.ports.clock import Clock
from domain.identity.scopes import ALL_SCOPES
from entrypoints.settings import Settings
from tests.fakes import FakeClock
from tests.integration.http.conftest import Client, serve, sign_in_settings
from tests.support.concurrent_app import NoLocksProvider, serve_concurrently
from tests.support.oidc import OidcProvider, drive_login, drive_logout, run_oidc_provider

pytestmark = [pytest.mark.oidc, pytest.mark.postgres, pytest.mark.redis]

APP = "http://maestrist.localhost"
ACCESS_TTL_S = 60
"""Long enough that no session signed in here goes stale in real time while a test runs, on a
loaded machine too; tests that need it stale move their clock past it."""


@pytest.fixture(scope="module")
def oidc() -> Iterator[OidcProvider]:
    with run_oidc_provider(
        redirect_uri=f"{APP}/api/auth/callback",
        post_logout_redirect_uri=f"{APP}/",
        access_ttl_s=ACCESS_TTL_S,
        accounts={
            "stringly": {"email_verified": "true"},
            "stringly-not": {"email_verified": "false"},
            "longsub": {"sub": "s" * 256},
            "longestsub": {"sub": "s" * 255},
            "longmail": {"email": "m" * 250 + "@example.com"},
            "bigpicture": {"picture": "https://example.com/" + "p" * 3000, "name": "N" * 500},
            "scriptpicture": {"picture": "javascript:alert(document.cookie)"},
        },
    ) as provider:
        yield provider


def _key() -> str:
    return "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


@pytest.fixture
def settings(postgres_url: str, oidc: OidcProvider) -> Settings:
    return sign_in_settings(postgres_url, oidc, APP, _key(), MAESTRIST_TOKEN_REFRESH_MARGIN="1")


@pytest.fixture
def uncached(postgres_url: str, oidc: OidcProvider) -> Settings:
    """As ``settings``, without the credential cache: every request reads its session, so
    nothing but the session's lock keeps simultaneous requests to one refresh."""
    return sign_in_settings(
        postgres_url,
        oidc,
        APP,
        _key(),
        MAESTRIST_TOKEN_REFRESH_MARGIN="1",
        MAESTRIST_CREDENTIAL_CACHE="0",
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Client]:
    async with serve(settings, base_url=APP) as client:
        yield client


async def sign_in(
    client: httpx.AsyncClient, login: str, *, return_to: str = "/dashboard", hint: str | None = None
) -> httpx.Response:
    params = {"returnTo": return_to, **({"provider": hint} if hint else {})}
    started = await client.get("/api/auth/login", params=params)
    assert started.status_code == 302, started.text
    callback = await drive_login(started.headers["location"], login)
    parts = urlsplit(callback)
    return await client.get(f"{parts.path}?{parts.query}")


async def test_sign_in_sets_an_opaque_session_cookie_and_provisions_the_user(
    app: Client, oidc: OidcProvider
) -> None:
    started = await app.get("/api/auth/login", params={"returnTo": "/dashboard"})
    location = started.headers["location"]
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(oidc.issuer)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [f"{APP}/api/auth/callback"]
    assert {"state", "nonce", "code_challenge"} <= set(query)

    callback = await drive_login(location, "alice")
    parts = urlsplit(callback)
    finished = await app.get(f"{parts.path}?{parts.query}")

    assert finished.status_code == 302
    assert finished.headers["location"] == "/dashboard"
    cookie = finished.headers["set-cookie"]
    assert cookie.startswith("maestrist_session=")
    for attribute in ("HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="):
        assert attribute.lower() in cookie.lower()
    me = (await app.get("/api/user/me")).json()
    assert (me["email"], me["emailVerified"]) == ("alice@example.com", True)
    current = (await app.get("/api/auth/session")).json()
    assert current["current"] is True
    assert current["userAgent"]
    orgs = (await app.get("/api/orgs")).json()["items"]
    assert [o["personal"] for o in orgs] == [True]
    audit = (await app.get(f"/api/orgs/{orgs[0]['id']}/audit")).json()["items"]
    assert {"user.provisioned", "user.signed_in"} <= {e["action"] for e in audit}

    replay = await app.get(f"{parts.path}?{parts.query}")
    assert replay.status_code == 400
    assert replay.json()["code"] == "sign-in-rejected"


async def test_a_callback_only_finishes_in_the_browser_that_started_the_sign_in(
    settings: Settings,
) -> None:
    async with serve(settings, base_url=APP) as mallory, serve(settings, base_url=APP) as victim:
        started = await mallory.get("/api/auth/login")
        cookie = started.headers["set-cookie"].lower()
        for attribute in (
            "maestrist_sign_in=",
            "httponly",
            "samesite=lax",
            "path=/api/auth/callback",
        ):
            assert attribute in cookie
        parts = urlsplit(await drive_login(started.headers["location"], "mallory"))
        link = f"{parts.path}?{parts.query}"

        without_cookie = await victim.get(link)
        await victim.get("/api/auth/login")  # the victim's own sign-in: another state
        with_its_own_cookie = await victim.get(link)

        for refused in (without_cookie, with_its_own_cookie):
            assert refused.status_code == 400
            assert refused.json()["code"] == "sign-in-rejected"
            assert "not started in this browser" in refused.json()["detail"]
            assert "maestrist_session" not in refused.headers.get("set-cookie", "")
        assert "maestrist_session" not in victim.cookies
        assert (await victim.get("/api/user/me")).status_code == 401
        finished = await mallory.get(link)
        assert finished.status_code == 302
        [cleared] = [
            c for c in finished.headers.get_list("set-cookie") if c.startswith("maestrist_sign_in=")
        ]
        assert "max-age=0" in cleared.lower()
        sessions = (await mallory.get("/api/auth/sessions")).json()["items"]
        assert len(sessions) == 1


async def test_a_return_path_over_512_characters_is_422_naming_it(app: Client) -> None:
    longest = "/" + "a" * 511
    assert (await app.get("/api/auth/login", params={"returnTo": longest})).status_code == 302
    refused = await app.get("/api/auth/login", params={"returnTo": longest + "a"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "returnTo"
    assert "set-cookie" not in refused.headers


async def test_the_provider_hint_reaches_the_provider(app: Client) -> None:
    started = await app.get("/api/auth/login", params={"provider": "github"})
    assert parse_qs(urlsplit(started.headers["location"]).query)["kc_idp_hint"] == ["github"]


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
async def test_return_urls_off_site_fall_back_to_the_root(app: Client, target: str) -> None:
    finished = await sign_in(app, "bob", return_to=target)
    assert finished.status_code == 302
    assert finished.headers["location"] == "/"


async def test_a_second_sign_in_updates_the_profile_and_keeps_the_user(app: Client) -> None:
    await sign_in(app, "carol")
    first = (await app.get("/api/user/me")).json()
    await sign_in(app, "carol")
    again = (await app.get("/api/user/me")).json()
    assert again["id"] == first["id"]
    sessions = (await app.get("/api/auth/sessions")).json()["items"]
    assert len(sessions) == 2
    assert [s["current"] for s in sessions] == [True, False]


class RefreshesSeen(httpx.AsyncBaseTransport):
    """The transport to the provider, counting the refresh grants it carries."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport(retries=1)
        self.refreshes = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if b"grant_type=refresh_token" in await request.aread():
            self.refreshes += 1
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class CountedRefreshes(Provider):
    """Overrides the transport to the identity provider with ``RefreshesSeen``."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = RefreshesSeen()

    @provide(scope=Scope.APP, override=True)
    def transport(self) -> httpx.AsyncBaseTransport:
        return self.seen


class MovableClock(Provider):
    """Overrides the clock with a ``FakeClock`` set to now, for the test to move on."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(datetime.now(UTC))

    @provide(scope=Scope.APP, override=True)
    def clock_port(self) -> Clock:
        return self.clock


PAST_EXPIRY = timedelta(seconds=ACCESS_TTL_S + 1)


async def twenty_at_once_after_expiry(
    settings: Settings, *providers: Provider
) -> tuple[list[int], RefreshesSeen]:
    """Twenty requests of one session in flight together once its access token expired."""
    counted, time = CountedRefreshes(), MovableClock()
    async with serve_concurrently(settings, counted, time, *providers, base_url=APP) as app:
        await sign_in(app, "dave")
        time.clock.advance(PAST_EXPIRY)
        answers = await asyncio.gather(*(app.get("/api/user/me") for _ in range(20)))
    return [a.status_code for a in answers], counted.seen


async def test_session_survives_access_token_expiry_with_exactly_one_refresh(
    uncached: Settings,
) -> None:
    codes, seen = await twenty_at_once_after_expiry(uncached)
    assert codes == [200] * 20
    assert seen.refreshes == 1


async def test_without_the_lock_the_same_requests_refresh_more_than_once(
    uncached: Settings,
) -> None:
    """The negative control of the test above: the twenty requests do overlap, so only the
    session's lock keeps them to one refresh."""
    _, seen = await twenty_at_once_after_expiry(uncached, NoLocksProvider())
    assert seen.refreshes > 1


async def test_with_the_credential_cache_one_server_reads_a_burst_once_even_without_the_lock(
    settings: Settings,
) -> None:
    """With the cache on (the clustered default), requests of one session that miss it
    together read the session one after another: the first refreshes and remembers, the
    rest find it remembered. The lock is still what keeps two servers to one refresh."""
    codes, seen = await twenty_at_once_after_expiry(settings, NoLocksProvider())
    assert codes == [200] * 20
    assert seen.refreshes == 1


async def test_a_refreshed_session_refreshes_again_at_its_next_expiry(settings: Settings) -> None:
    counted, time = CountedRefreshes(), MovableClock()
    async with serve(settings, counted, time, base_url=APP) as app:
        await sign_in(app, "dave")
        assert (await app.get("/api/user/me")).status_code == 200
        assert counted.seen.refreshes == 0
        for refreshes in (1, 2):
            time.clock.advance(PAST_EXPIRY)
            assert (await app.get("/api/user/me")).status_code == 200
            assert counted.seen.refreshes == refreshes


async def test_logout_ends_the_session_here_and_at_the_provider(app: Client) -> None:
    await sign_in(app, "erin")
    cookie = app.cookies["maestrist_session"]
    out = await app.post("/api/auth/logout")
    assert out.status_code == 200
    body = out.json()
    assert body["sessionsEnded"] == 1
    assert "id_token_hint=" in body["logoutUrl"]
    assert "max-age=0" in out.headers["set-cookie"].lower()
    assert await drive_logout(body["logoutUrl"]) == f"{APP}/"
    app.cookies.set("maestrist_session", cookie)
    again = await app.get("/api/user/me")
    assert again.status_code == 401
    assert "max-age=0" in again.headers["set-cookie"].lower()


@pytest.mark.parametrize("everywhere", [False, True], ids=["this-session", "everywhere"])
async def test_logout_ends_our_session_while_the_provider_is_down(
    postgres_url: str, everywhere: bool
) -> None:
    with run_oidc_provider(
        redirect_uri=f"{APP}/api/auth/callback",
        post_logout_redirect_uri=f"{APP}/",
        access_ttl_s=60,
    ) as provider:
        # a margin longer than the access token's life: every request of the session is due
        # for a refresh
        settings = sign_in_settings(
            postgres_url, provider, APP, _key(), MAESTRIST_TOKEN_REFRESH_MARGIN="120"
        )
        async with serve(settings, base_url=APP) as app:
            await sign_in(app, "outage")
            assert (await app.get("/api/user/me")).status_code == 200
            cookie = app.cookies["maestrist_session"]
    # the provider has stopped: a fresh server knows nothing of it but its address
    async with serve(settings, base_url=APP) as app:
        app.cookies.set("maestrist_session", cookie)
        unavailable = await app.get("/api/user/me")
        assert unavailable.status_code == 503  # a refresh is due and the provider is gone

        out = await app.post("/api/auth/logout", json={"everywhere": everywhere})

        assert out.status_code == 200, out.text
        assert out.json() == {"logoutUrl": None, "sessionsEnded": 1}
        assert "max-age=0" in out.headers["set-cookie"].lower()
        app.cookies.set("maestrist_session", cookie)
        assert (await app.get("/api/user/me")).status_code == 401


async def test_sign_out_everywhere_ends_every_session(settings: Settings) -> None:
    async with serve(settings, base_url=APP) as laptop, serve(settings, base_url=APP) as phone:
        await sign_in(laptop, "frank")
        await sign_in(phone, "frank")
        ended = await laptop.post("/api/auth/logout", json={"everywhere": True})
        assert ended.json()["sessionsEnded"] == 2
        assert (await phone.get("/api/user/me")).status_code == 401


async def test_a_session_can_be_revoked_from_another(settings: Settings) -> None:
    async with serve(settings, base_url=APP) as laptop, serve(settings, base_url=APP) as phone:
        await sign_in(laptop, "gina")
        await sign_in(phone, "gina")
        other = next(
            s for s in (await laptop.get("/api/auth/sessions")).json()["items"] if not s["current"]
        )
        assert (await laptop.delete(f"/api/auth/sessions/{other['id']}")).status_code == 204
        assert (await phone.get("/api/user/me")).status_code == 401
        assert (await laptop.get("/api/user/me")).status_code == 200
        again = await laptop.delete(f"/api/auth/sessions/{other['id']}")
        assert again.status_code == 404


@pytest.mark.parametrize("scopes", [[], sorted(ALL_SCOPES)], ids=["no-scopes", "all-scopes"])
async def test_an_api_key_cannot_see_or_end_its_owners_sessions(
    settings: Settings, scopes: list[str]
) -> None:
    async with serve(settings, base_url=APP) as laptop, serve(settings, base_url=APP) as phone:
        await sign_in(laptop, "keyholder")
        await sign_in(phone, "keyholder")
        created = await laptop.post("/api/keys", json={"name": "ci", "scopes": scopes})
        assert created.status_code == 201, created.text
        key = created.json()
        other = next(
            s for s in (await laptop.get("/api/auth/sessions")).json()["items"] if not s["current"]
        )
        async with serve(settings, base_url=APP) as script:
            script.headers["Authorization"] = f"Bearer {key['token']}"
            answers = [
                await script.get("/api/auth/sessions"),
                await script.get("/api/auth/session"),
                await script.delete(f"/api/auth/sessions/{other['id']}"),
                await script.post("/api/auth/logout"),
                await script.post("/api/auth/logout", json={"everywhere": True}),
                await script.get("/api/keys"),
                await script.post("/api/keys", json={"name": "minted"}),
                await script.delete(f"/api/keys/{key['key']['id']}"),
            ]
            for refused in answers:
                assert refused.status_code == 403, refused.request.url
                assert refused.json()["code"] == "credential-not-allowed"
                assert "set-cookie" not in refused.headers
            assert (await script.get("/api/user/me")).status_code == 200
        assert (await laptop.get("/api/user/me")).status_code == 200
        assert (await phone.get("/api/user/me")).status_code == 200
        assert len((await laptop.get("/api/auth/sessions")).json()["items"]) == 2
        [listed] = (await laptop.get("/api/keys")).json()["items"]
        assert listed["status"] == "active"


async def test_email_verified_sent_as_a_string_is_read_as_the_provider_meant(
    app: Client,
) -> None:
    await sign_in(app, "stringly")
    assert (await app.get("/api/user/me")).json()["emailVerified"] is True
    assert (await app.get("/api/orgs")).status_code == 200
    await sign_in(app, "stringly-not")
    assert (await app.get("/api/user/me")).json()["emailVerified"] is False


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_the_client_authenticates_the_way_the_provider_advertises(
    postgres_url: str, method: str
) -> None:
    with run_oidc_provider(
        redirect_uri=f"{APP}/api/auth/callback",
        post_logout_redirect_uri=f"{APP}/",
        access_ttl_s=60,
        token_auth_method=method,
    ) as provider:
        discovery = httpx.get(provider.discovery_url).json()
        assert discovery["token_endpoint_auth_methods_supported"] == [method]
        settings = sign_in_settings(
            postgres_url, provider, APP, _key(), MAESTRIST_TOKEN_REFRESH_MARGIN="120"
        )
        async with serve(settings, base_url=APP) as app:
            finished = await sign_in(app, "picky")
            assert finished.status_code == 302, finished.text
            # due for a refresh at once (margin > lifetime): the refresh authenticates too
            for _ in range(2):
                assert (await app.get("/api/user/me")).status_code == 200


@pytest.mark.parametrize(
    ("login", "claim", "says"),
    [("longsub", "s" * 256, "256 characters"), ("longmail", "m" * 250, "email address")],
)
async def test_claims_a_user_cannot_hold_refuse_the_sign_in_clearly(
    app: Client, postgres_url: str, login: str, claim: str, says: str
) -> None:
    refused = await sign_in(app, login)
    assert refused.status_code == 400
    assert refused.json()["code"] == "sign-in-rejected"
    assert says in refused.json()["detail"]
    assert "set-cookie" not in refused.headers
    assert claim not in await _dump(postgres_url)  # no user was made


async def test_a_subject_of_255_characters_signs_in(app: Client) -> None:
    assert (await sign_in(app, "longestsub")).status_code == 302
    assert (await app.get("/api/user/me")).status_code == 200


@pytest.mark.parametrize("login", ["bigpicture", "scriptpicture"])
async def test_a_picture_that_is_not_a_short_web_url_is_dropped(app: Client, login: str) -> None:
    finished = await sign_in(app, login)
    assert finished.status_code == 302, finished.text
    me = (await app.get("/api/user/me")).json()
    assert me["avatarUrl"] is None
    assert 0 < len(me["displayName"]) <= 200


async def test_a_long_name_is_cut_and_a_web_picture_kept(app: Client) -> None:
    await sign_in(app, "bigpicture")
    assert (await app.get("/api/user/me")).json()["displayName"] == "N" * 199 + "\u2026"
    await sign_in(app, "alice")
    assert (await app.get("/api/user/me")).json()["avatarUrl"] == (
        "https://example.com/avatars/alice.png"
    )


async def test_unknown_or_forged_cookies_are_401(app: Client) -> None:
    app.cookies.set("maestrist_session", secrets.token_urlsafe(32))
    response = await app.get("/api/user/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not-authenticated"


async def test_provider_errors_at_callback_are_400(app: Client) -> None:
    for query in ("error=access_denied&state=x", "code=abc&state=never-issued", ""):
        response = await app.get(f"/api/auth/callback?{query}")
        assert response.status_code == 400
        assert response.json()["code"] == "sign-in-rejected"


async def test_no_token_or_cookie_is_stored_in_plaintext(app: Client, postgres_url: str) -> None:
    finished = await sign_in(app, "henry")
    cookie = app.cookies["maestrist_session"]
    assert finished.status_code == 302
    rows = await _dump(postgres_url)
    assert cookie not in rows
    sealed = [line for line in rows.splitlines() if "v1.k1." in line]
    assert sealed, "provider tokens are sealed with the configured key"
    assert "eyJ" not in rows  # no JWT (id_token, or access token if a JWT) in the clear


async def _dump(url: str) -> str:
    engine = create_database_engine(url, pool_size=1, connect_timeout_s=5)
    lines: list[str] = []
    try:
        async with engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                result = await connection.execute(text(f"SELECT * FROM {table.name}"))
                lines.extend(repr(tuple(row)) for row in result)
    finally:
        await engine.dispose()
    return "\n".join(lines)
