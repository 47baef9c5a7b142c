from domain.shared.errors import ConflictError, NotFoundError

__all__ = ("JobNotDeadError", "JobNotFoundError")


class JobNotFoundError(NotFoundError):
    code = "job-not-found"
    default_message = "No job has this id."


class JobNotDeadError(ConflictError):
    code = "job-not-dead"
    default_message = "Only a dead job can be retried or dropped."
