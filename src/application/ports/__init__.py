from application.ports.authenticator import Authenticator, Credentials, Principal
from application.ports.clock import Clock
from application.ports.dependency_probe import DependencyProbe
from application.ports.unit_of_work import UnitOfWork

__all__ = ("Authenticator", "Clock", "Credentials", "DependencyProbe", "Principal", "UnitOfWork")
