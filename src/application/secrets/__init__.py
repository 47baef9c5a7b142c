from application.secrets.create_secret import CreateSecret, CreateSecretRequest, CreateSecretResult
from application.secrets.delete_secret import DeleteSecret, DeleteSecretRequest
from application.secrets.list_secrets import ListSecrets, ListSecretsRequest, ListSecretsResult
from application.secrets.secret_opener import SecretOpener
from application.secrets.update_secret import UpdateSecret, UpdateSecretRequest, UpdateSecretResult

__all__ = (
    "CreateSecret",
    "CreateSecretRequest",
    "CreateSecretResult",
    "DeleteSecret",
    "DeleteSecretRequest",
    "ListSecrets",
    "ListSecretsRequest",
    "ListSecretsResult",
    "SecretOpener",
    "UpdateSecret",
    "UpdateSecretRequest",
    "UpdateSecretResult",
)
