"""Patient mutations."""

from __future__ import annotations

from typing import Annotated

import strawberry

from backend.core.errors import InvalidInput
from backend.graphql.common import Error, InputError, uuid_of
from backend.graphql.context import Info
from backend.graphql.patients.inputs import RegisterPatientInput
from backend.graphql.patients.types import Patient, patient_from_record
from backend.patients import service
from backend.patients.codes import AdministrativeSex, ContactPreference
from backend.patients.errors import PatientError as DomainPatientError
from backend.patients.errors import PatientErrorCode as DomainPatientErrorCode

PatientErrorCode = strawberry.enum(DomainPatientErrorCode)


@strawberry.type(description="A patient operation was refused.")
class PatientError(Error):
    code: PatientErrorCode  # type: ignore[valid-type]
    message: str
    field: str | None


@strawberry.type
class RegisterPatientSuccess:
    patient: Patient


RegisterPatientResult = Annotated[
    RegisterPatientSuccess | PatientError | InputError, strawberry.union("RegisterPatientResult")
]


@strawberry.type
class PatientMutations:
    @strawberry.mutation(description="Register a patient in one of your organizations.")
    async def register_patient(self, info: Info, input: RegisterPatientInput) -> RegisterPatientResult:
        actor = info.context.require_actor()
        organization_id = uuid_of(input.organization_id, "Organization")
        plan_id = uuid_of(input.insurance_plan_id, "InsurancePlan") if input.insurance_plan_id else None
        try:
            if organization_id is None:
                raise DomainPatientError(DomainPatientErrorCode.NOT_FOUND, "Not found.")
            if input.insurance_plan_id and plan_id is None:
                problems = InvalidInput()
                problems.add("insurancePlanId", "UNKNOWN_PLAN", "Unknown insurance plan.")
                raise problems
            patient = await service.register_patient(
                actor,
                info.context.audit,
                organization_id=organization_id,
                mrn=input.mrn,
                given_name=input.given_name,
                family_name=input.family_name,
                birth_date=input.birth_date,
                sex=AdministrativeSex(input.sex),
                phone=input.phone,
                insurance_plan_id=plan_id,
                insurance_member_id=input.insurance_member_id,
                contact_preference=ContactPreference(input.contact_preference or ContactPreference.NONE),
                email=input.email,
            )
        except DomainPatientError as error:
            return PatientError(code=error.code, message=error.message, field=error.field)
        except InvalidInput as error:
            return InputError.from_domain(error)
        return RegisterPatientSuccess(patient=patient_from_record(patient))
