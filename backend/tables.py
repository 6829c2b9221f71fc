"""Every table, in dependency order: what the migrations and the drift check compare against."""

from piccolo.table import Table

from backend.accounts.tables import (
    Invitation,
    Membership,
    Organization,
    Provider,
    ProviderSpecialty,
    Specialty,
    User,
)
from backend.audit.tables import AuditEvent
from backend.auth.tables import AuthSession, LoginThrottle, RefreshToken

ALL_TABLES: tuple[type[Table], ...] = (
    Organization,
    User,
    Membership,
    Specialty,
    Provider,
    ProviderSpecialty,
    AuthSession,
    RefreshToken,
    LoginThrottle,
    Invitation,
    AuditEvent,
)
