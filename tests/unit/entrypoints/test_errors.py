from litestar import get
from litestar.exceptions import ServiceUnavailableException
from litestar.testing import create_test_client

from application.errors import (
    ApplicationError,
    DependencyUnavailableError,
    NotAuthenticatedError,
)
from domain.conversations.errors import LlmNotConfiguredError
from domain.identity.errors import InvalidEmailError, UserSubjectTakenError
from domain.organizations.errors import OrgNotFoundError, OrgSlugTakenError
from domain.settings.errors import InvalidSettingError
from domain.shared.errors import DomainError, InvalidValueError, PermissionDeniedError
from entrypoints.http.errors import exception_handlers, status_for


def test_most_specific_listed_class_decides() -> None:
    assert status_for(OrgNotFoundError()) == 404
    assert status_for(OrgSlugTakenError()) == 409
    assert status_for(UserSubjectTakenError()) == 409
    assert status_for(InvalidEmailError()) == 422
    assert status_for(PermissionDeniedError()) == 403
    assert status_for(NotAuthenticatedError()) == 401
    assert status_for(DependencyUnavailableError()) == 503


def test_unlisted_subclasses_fall_back_to_their_base() -> None:
    class NewRuleError(DomainError):
        pass

    class NewFailureError(ApplicationError):
        pass

    assert status_for(NewRuleError()) == 400
    assert status_for(NewFailureError()) == 500
    assert status_for(RuntimeError()) == 500


def test_every_503_says_when_to_retry() -> None:
    @get("/store")
    async def store_down() -> None:
        raise DependencyUnavailableError("The database is unavailable.")

    @get("/framework")
    async def framework_down() -> None:
        raise ServiceUnavailableException("Busy.")

    @get("/own")
    async def own_header() -> None:
        raise ServiceUnavailableException("Later.", headers={"Retry-After": "30"})

    handlers = [store_down, framework_down, own_header]
    with create_test_client(handlers, exception_handlers=exception_handlers()) as client:
        for path, wait in (("/store", "5"), ("/framework", "5"), ("/own", "30")):
            answer = client.get(path)
            assert answer.status_code == 503
            assert answer.headers["retry-after"] == wait, path
            assert answer.headers["content-type"].startswith("application/problem+json")


def test_problems_name_fields_as_the_client_does() -> None:
    @get("/setting")
    async def bad_setting() -> None:
        raise InvalidSettingError("expected an http or https URL", field="mcp_config", path="x.url")

    @get("/query")
    async def bad_query() -> None:
        raise InvalidValueError("Ask for 1 to 100 items a page.", field="per_page")

    @get("/llm")
    async def no_llm() -> None:
        raise LlmNotConfiguredError(("llm_model", "llm_api_key"))

    @get("/header")
    async def bad_header() -> None:
        raise InvalidValueError("Not an org.", field="X-Org-Id")

    handlers = [bad_setting, bad_query, no_llm, bad_header]
    with create_test_client(handlers, exception_handlers=exception_handlers()) as client:
        setting = client.get("/setting").json()
        assert setting["detail"] == "mcpConfig.x.url: expected an http or https URL"
        assert setting["errors"] == [
            {"message": setting["detail"], "field": "mcpConfig", "source": "body"}
        ]
        query = client.get("/query", params={"perPage": "500"}).json()
        assert query["errors"][0]["field"] == "perPage"
        assert query["errors"][0]["source"] == "query"
        llm = client.get("/llm").json()
        assert llm["detail"] == (
            "Set llmModel and llmApiKey in your settings (POST /api/settings) before starting "
            "a conversation."
        )
        assert llm["errors"][0]["field"] == "llmModel"
        assert client.get("/header").json()["errors"][0]["field"] == "X-Org-Id"
