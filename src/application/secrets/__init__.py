from application.secrets.create_secret import CreateSecret, CreateSecretRequest
from application.secrets.delete_secret import DeleteSecret, DeleteSecretRequest
from application.secrets.list_secrets import ListSecrets
from application.secrets.secret_opener import SecretOpener
from application.secrets.update_secret import UpdateSecret, UpdateSecretRequest

__all__ = (
    "CreateSecret",
    "CreateSecretRequest",
    "DeleteSecret",
    "DeleteSecretRequest",
    "ListSecrets",
    "SecretOpener",
    "UpdateSecret",
    "UpdateSecretRequest",
)
