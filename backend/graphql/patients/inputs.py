"""Inputs of patient mutations."""

from __future__ import annotations

from datetime import date

import strawberry

from backend.graphql.patients.types import AdministrativeSex


@strawberry.input
class RegisterPatientInput:
    organization_id: strawberry.ID
    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    sex: AdministrativeSex  # type: ignore[valid-type]
    phone: str | None = None
    insurance_plan_id: strawberry.ID | None = None
    insurance_member_id: str | None = None
