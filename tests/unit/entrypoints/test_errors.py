from application.errors import (
    ApplicationError,
    DependencyUnavailableError,
    NotAuthenticatedError,
)
from domain.identity.errors import InvalidEmailError, UserSubjectTakenError
from domain.organizations.errors import OrgNotFoundError, OrgSlugTakenError
from domain.shared.errors import DomainError, PermissionDeniedError
from entrypoints.http.errors import status_for


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
