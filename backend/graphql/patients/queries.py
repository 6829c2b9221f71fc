"""Patient queries: one patient, search by name or MRN within your organizations."""

from __future__ import annotations

import strawberry

from backend.core.errors import InvalidInput
from backend.graphql.common import page_size, uuid_of
from backend.graphql.context import Info
from backend.graphql.errors import bad_user_input
from backend.graphql.patients.types import Patient, patient_from_record
from backend.patients import service
from backend.patients.errors import PatientError


@strawberry.type
class PatientQueries:
    @strawberry.field(description="A patient you may see; null for any other id.")
    async def patient(self, info: Info, id: strawberry.ID) -> Patient | None:
        patient_id = uuid_of(id, "Patient")
        if patient_id is None:
            return None
        try:
            patient = await service.read_patient(info.context.require_actor(), info.context.audit, patient_id)
        except PatientError:
            return None
        return patient_from_record(patient)

    @strawberry.field(
        description="Patients of your organizations by exact MRN or name prefix (family or given)."
    )
    async def patients(self, info: Info, search: str, first: int | None = None) -> list[Patient]:
        limit = page_size(first, maximum=info.context.container.settings.graphql_limits.max_page_size)
        try:
            found = await service.search_patients(
                info.context.require_actor(), info.context.audit, text=search, limit=limit
            )
        except InvalidInput as error:
            raise bad_user_input(error.problems[0].message, "search") from None
        return [patient_from_record(patient) for patient in found]
