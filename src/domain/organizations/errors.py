from domain.shared.errors import (
    ConflictError,
    InvalidValueError,
    NotFoundError,
    PermissionDeniedError,
)

__all__ = (
    "InvalidOrgNameError",
    "InvalidOrgSlugError",
    "InvitationAlreadyPendingError",
    "InvitationNotFoundError",
    "InvitationNotPendingError",
    "MemberAlreadyExistsError",
    "MemberNotFoundError",
    "NotAnOrgAdminError",
    "OrgNotFoundError",
    "OrgSlugTakenError",
    "OwnerMustTransferError",
    "PersonalOrgExistsError",
    "PersonalOrgMembershipError",
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


class MemberNotFoundError(NotFoundError):
    code = "member-not-found"
    default_message = "That person is not a member of this organization."


class MemberAlreadyExistsError(ConflictError):
    code = "member-already-exists"
    default_message = "That person is already a member of this organization."


class NotAnOrgAdminError(PermissionDeniedError):
    code = "not-an-org-admin"
    default_message = "Only an owner or admin of the organization may do this."


class OwnerMustTransferError(PermissionDeniedError):
    code = "owner-must-transfer"
    default_message = "The owner cannot leave or be removed; transfer ownership first."


class PersonalOrgMembershipError(PermissionDeniedError):
    code = "personal-org"
    default_message = "A personal organization has exactly one member and one owner."


class InvitationNotFoundError(NotFoundError):
    code = "invitation-not-found"
    default_message = "The invitation does not exist in this organization."


class InvitationAlreadyPendingError(ConflictError):
    code = "invitation-already-pending"
    default_message = "This email address already has a pending invitation to this organization."


class InvitationNotPendingError(ConflictError):
    code = "invitation-not-pending"
    default_message = "The invitation was already accepted or revoked."
