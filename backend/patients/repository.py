"""Every patient query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from backend.patients.tables import Patient

Row = dict[str, Any]


def search_name(given_name: str, family_name: str) -> str:
    return f"{family_name} {given_name}".strip().lower()


async def insert_patient(
    *,
    organization_id: UUID,
    mrn: str,
    given_name: str,
    family_name: str,
    birth_date: date,
    sex: str,
    phone: str | None,
    insurance_plan_id: UUID | None,
    insurance_member_id: str | None,
) -> UUID:
    patient = Patient(
        organization=organization_id,
        mrn=mrn,
        given_name=given_name,
        family_name=family_name,
        search_name=search_name(given_name, family_name),
        birth_date=birth_date,
        sex=sex,
        phone=phone,
        insurance_plan=insurance_plan_id,
        insurance_member_id=insurance_member_id,
    )
    await patient.save()
    return UUID(str(patient.id))


async def patient_by_id(patient_id: UUID) -> Row | None:
    row: Row | None = await Patient.select().where(Patient.id == patient_id).first()
    return row


async def patients_by_ids(ids: Sequence[UUID]) -> list[Row]:
    if not ids:
        return []
    rows: list[Row] = await Patient.select().where(Patient.id.is_in(list(ids)))
    return rows


async def mrn_exists(organization_id: UUID, mrn: str) -> bool:
    exists: bool = await Patient.exists().where(
        (Patient.organization == organization_id) & (Patient.mrn == mrn)
    )
    return exists


async def search(organization_ids: Sequence[UUID], text: str, limit: int) -> list[Row]:
    """Exact MRN, or a name starting with ``text`` ("family given" or "given"), in these orgs."""
    if not organization_ids:
        return []
    needle = text.strip().lower()
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows: list[Row] = (
        await Patient.select()
        .where(Patient.organization.is_in(list(organization_ids)))
        .where(
            (Patient.mrn == text.strip())
            | Patient.search_name.like(f"{escaped}%")
            | Patient.search_name.like(f"% {escaped}%")
        )
        .order_by(Patient.search_name)
        .order_by(Patient.id)
        .limit(limit)
    )
    return rows
