from domain.shared.errors import ConflictError, InvalidValueError, NotFoundError

__all__ = (
    "InvalidOrgNameError",
    "InvalidOrgSlugError",
    "OrgNotFoundError",
    "OrgSlugTakenError",
    "PersonalOrgExistsError",
)


class OrgNotFoundError(NotFoundError):
    code = "org-not-found"
    default_message = "The organization does not exist or you are not a member of it."


class OrgSlugTakenError(ConflictError):
    code = "org-slug-taken"
    default_message = "Another organization already uses this slug."


class InvalidOrgNameError(InvalidValueError):
    code = "invalid-org-name"
    default_message = "The organization name is not valid."


class InvalidOrgSlugError(InvalidValueError):
    code = "invalid-org-slug"
    default_message = "The organization slug is not valid."


class PersonalOrgExistsError(ConflictError):
    code = "personal-org-exists"
    default_message = "The user already has a personal organization."
