from domain.ports.api_key_repository import ApiKeyRepository
from domain.ports.audit_log import AuditLog
from domain.ports.org_repository import OrgRepository
from domain.ports.user_repository import UserRepository

__all__ = ("ApiKeyRepository", "AuditLog", "OrgRepository", "UserRepository")
