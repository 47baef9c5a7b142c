"""The mail that tells someone they were invited."""

from application.mail import OutgoingMail
from application.ports.mailer import MailMessage
from domain.identity.entities import User
from domain.organizations.entities import Organization
from domain.organizations.invitations import Invitation

__all__ = ("invitation_mail",)


def _one_line(text: str) -> str:
    """Names go into a header: no line breaks, no runs of spaces."""
    return " ".join(text.split())


def invitation_mail(
    outgoing: OutgoingMail, invitation: Invitation, org: Organization, inviter: User
) -> MailMessage:
    who = _one_line(inviter.display_name) or inviter.email.value
    where = _one_line(org.name.value)
    expires = invitation.expires_at.strftime("%d %B %Y, %H:%M UTC")
    return outgoing.new_message(
        to=invitation.email.value,
        subject=f"{who} invited you to {where} on Maestrist",
        text=(
            f"{who} ({inviter.email.value}) invited you to join the organization {where} "
            f"on Maestrist as {invitation.role.value}.\n\n"
            f"To accept, sign in with this address ({invitation.email.value}):\n\n"
            f"    {outgoing.public_url}/\n\n"
            f"The invitation expires on {expires}. If you did not expect it, ignore this mail: "
            "nothing happens unless you sign in.\n"
        ),
    )
