"""Account coded values: membership roles, organization kinds (stored as codes: never rename, only add)."""

from enum import StrEnum


class Role(StrEnum):
    REFERRING_PROVIDER = "REFERRING_PROVIDER"
    SPECIALIST = "SPECIALIST"
    COORDINATOR = "COORDINATOR"
    REFERRAL_MANAGER = "REFERRAL_MANAGER"
    ORG_ADMIN = "ORG_ADMIN"


class OrganizationKind(StrEnum):
    HEALTH_SYSTEM = "HEALTH_SYSTEM"
    HOSPITAL = "HOSPITAL"
    PRACTICE = "PRACTICE"
    CLINIC = "CLINIC"


STAFF_ROLES = frozenset({Role.COORDINATOR, Role.REFERRAL_MANAGER})
"""Staff of an organization: they see everything sent by or to it (SPEC §1)."""
