"""GraphQL types for patients, and their mapping from patient records."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import strawberry

from backend.graphql.accounts.types import Organization, load_organization
from backend.graphql.common import Node, to_global_id
from backend.graphql.context import Info
from backend.graphql.directory.types import InsurancePlan, plan_from_record
from backend.graphql.referrals import dataloaders
from backend.patients import records
from backend.patients.codes import AdministrativeSex as DomainAdministrativeSex
from backend.patients.codes import ContactPreference as DomainContactPreference

AdministrativeSex = strawberry.enum(DomainAdministrativeSex)
ContactPreference = strawberry.enum(
    DomainContactPreference, description="How a patient agreed to be contacted (the survey e-mail)."
)


@strawberry.type(
    description="A patient: visible to staff of their organization and to parties of their referrals."
)
class Patient(Node):
    id: strawberry.ID
    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    sex: AdministrativeSex  # type: ignore[valid-type]
    phone: str | None
    insurance_member_id: str | None
    contact_preference: ContactPreference  # type: ignore[valid-type]
    email: str | None
    raw_id: strawberry.Private[UUID]
    organization_id: strawberry.Private[UUID]
    plan_id: strawberry.Private[UUID | None]

    @strawberry.field
    async def organization(self, info: Info) -> Organization:
        return await load_organization(info, self.organization_id)

    @strawberry.field
    async def insurance_plan(self, info: Info) -> InsurancePlan | None:
        if self.plan_id is None:
            return None
        row = await info.context.loader("plan", dataloaders.plan_loader).load(self.plan_id)
        return plan_from_record(row) if row else None


def patient_from_record(patient: records.Patient) -> Patient:
    return Patient(
        id=to_global_id("Patient", patient.id),
        mrn=patient.mrn,
        given_name=patient.given_name,
        family_name=patient.family_name,
        birth_date=patient.birth_date,
        sex=DomainAdministrativeSex(patient.sex),
        phone=patient.phone,
        insurance_member_id=patient.insurance_member_id,
        contact_preference=DomainContactPreference(patient.contact_preference),
        email=patient.email,
        raw_id=patient.id,
        organization_id=patient.organization,
        plan_id=patient.insurance_plan,
    )
