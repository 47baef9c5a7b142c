from adapters.keycloak.admin import KeycloakIdentityAdmin, KeycloakSettings

__all__ = ("KeycloakIdentityAdmin", "KeycloakSettings")
