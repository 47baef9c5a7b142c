from adapters.oidc.provider import OidcIdentityProvider, OidcSettings

__all__ = ("OidcIdentityProvider", "OidcSettings")
