from domain.audit.entities import AuditAction, AuditEvent

__all__ = ("AuditAction", "AuditEvent")
