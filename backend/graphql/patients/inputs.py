"""Inputs of patient mutations."""

from __future__ import annotations

from datetime import date

import strawberry

from backend.graphql.patients.types import AdministrativeSex, ContactPreference


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
    contact_preference: ContactPreference | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="How the patient may be contacted (default NONE); EMAIL needs `email`."
    )
    email: str | None = strawberry.field(default=None, description="The patient's e-mail address.")
