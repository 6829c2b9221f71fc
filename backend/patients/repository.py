"""Every patient query. The MRN is sealed and opened here only: callers see it in plaintext.

A patient's MRN is encrypted under a data key of its own (scope "patient", field "mrn") and
found through ``mrn_index``, its blind index (backend/crypto/blind_index.py): exact matches,
after stripping and upper-casing. Rows written before encryption (no ``wrapped_key``) are read
and matched on their plaintext ``mrn`` until :func:`seal_legacy_patients` (run by ``migrate``)
seals them. The contact preference and e-mail address are sealed under the same data key
(fields "contact_preference" and "email"; a legacy row has neither). Reads return
:class:`backend.patients.records.Patient` records.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from piccolo.query.methods.select import Select

from backend.crypto import envelope
from backend.crypto.blind_index import blind_index
from backend.crypto.keys import key_encryption_keys
from backend.crypto.rotation import WrappedKeys
from backend.db import keyset_pages
from backend.logging import get_logger
from backend.patients import records
from backend.patients.codes import ContactPreference
from backend.patients.tables import Patient

# column name -> value: a row as Piccolo selects it (before it becomes a record), or what to write
Columns = dict[str, Any]
SCOPE = "patient"
# where this domain keeps wrapped data keys: `keys rotate` re-wraps them (listed in backend/wiring.py)
WRAPPED_KEYS = WrappedKeys(Patient, Patient.id, Patient.wrapped_key, scope=SCOPE)
MRN = "mrn"
CONTACT_PREFERENCE = "contact_preference"
EMAIL = "email"
SEAL_BATCH = 500
logger = get_logger(__name__)


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
    contact_preference: str = ContactPreference.NONE.value,
    email: str | None = None,
) -> UUID:
    patient_id = uuid.uuid4()
    patient = Patient(
        id=patient_id,
        organization=organization_id,
        **_sealed_mrn(patient_id, mrn, contact_preference=contact_preference, email=email),
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
    return patient_id


async def patient_by_id(patient_id: UUID) -> records.Patient | None:
    row: Columns | None = await Patient.select().where(Patient.id == patient_id).first()
    return _opened(row) if row else None


async def patients_by_ids(ids: Sequence[UUID]) -> list[records.Patient]:
    if not ids:
        return []
    rows: list[Columns] = await Patient.select().where(Patient.id.is_in(list(ids)))
    return [_opened(row) for row in rows]


async def mrn_exists(organization_id: UUID, mrn: str) -> bool:
    exists: bool = await Patient.exists().where((Patient.organization == organization_id) & _mrn_is(mrn))
    return exists


async def search(organization_ids: Sequence[UUID], text: str, limit: int) -> list[records.Patient]:
    """Exact MRN, or a name starting with ``text`` ("family given" or "given"), in these orgs."""
    if not organization_ids:
        return []
    needle = text.strip().lower()
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows: list[Columns] = (
        await Patient.select()
        .where(Patient.organization.is_in(list(organization_ids)))
        .where(
            _mrn_is(text)
            | Patient.search_name.like(f"{escaped}%")
            | Patient.search_name.like(f"% {escaped}%")
        )
        .order_by(Patient.search_name)
        .order_by(Patient.id)
        .limit(limit)
    )
    return [_opened(row) for row in rows]


async def seal_legacy_patients() -> tuple[int, int]:
    """Encrypt and index the plaintext MRNs of rows written before encryption (idempotent).

    Returns (sealed, left): a row whose normalized MRN is already indexed in its organization
    (say "ab-1" beside "AB-1") is left as it is, still readable and found by its exact MRN.
    """
    sealed = left = 0

    def legacy() -> Select[Any]:
        return Patient.select(Patient.id, Patient.organization, Patient.mrn).where(Patient.wrapped_key == "")

    async for rows in keyset_pages(legacy, Patient.id, SEAL_BATCH):
        for row in rows:
            values = _sealed_mrn(row["id"], row["mrn"])
            taken = await Patient.exists().where(
                (Patient.organization == row["organization"]) & (Patient.mrn_index == values["mrn_index"])
            )
            if taken:
                left += 1
                logger.warning("patients.legacy_mrn_not_sealed", patient_id=str(row["id"]))
                continue
            await Patient.update({getattr(Patient, name): value for name, value in values.items()}).where(
                (Patient.id == row["id"]) & (Patient.wrapped_key == "")
            )
            sealed += 1
    return sealed, left


def _mrn_is(mrn: str) -> Any:
    """Where the MRN matches: its blind index, or (legacy rows) the exact plaintext."""
    legacy = Patient.mrn_index.is_null() & (Patient.mrn == mrn.strip())
    return (Patient.mrn_index == blind_index(mrn, scope=SCOPE, field=MRN)) | legacy


def _sealed_mrn(
    patient_id: UUID, mrn: str, *, contact_preference: str | None = None, email: str | None = None
) -> Columns:
    """The MRN columns of a patient: ciphertext under a new data key, blind index, wrapped key
    (and, for a new patient, the contact preference and e-mail address under the same key)."""
    record_id = str(patient_id)
    data_key = envelope.new_data_key()
    contact: Columns = {}
    if contact_preference is not None:
        contact[CONTACT_PREFERENCE] = envelope.encrypt_field(
            data_key, contact_preference, scope=SCOPE, record_id=record_id, field=CONTACT_PREFERENCE
        )
        contact[EMAIL] = (
            envelope.encrypt_field(data_key, email, scope=SCOPE, record_id=record_id, field=EMAIL)
            if email
            else ""
        )
    return {
        **contact,
        "mrn": "",
        "mrn_ciphertext": envelope.encrypt_field(data_key, mrn, scope=SCOPE, record_id=record_id, field=MRN),
        "mrn_index": blind_index(mrn, scope=SCOPE, field=MRN),
        "wrapped_key": envelope.wrap_data_key(
            key_encryption_keys(), data_key, scope=SCOPE, record_id=record_id
        ),
    }


def _opened(row: Columns) -> records.Patient:
    """The patient, its MRN, contact preference and e-mail address in plaintext, without the
    sealing columns."""
    wrapped_key = row.pop("wrapped_key")
    ciphertext = row.pop("mrn_ciphertext")
    preference = row.pop(CONTACT_PREFERENCE) or ""
    email = row.pop(EMAIL) or ""
    del row["mrn_index"]
    row[CONTACT_PREFERENCE] = ContactPreference.NONE.value
    row[EMAIL] = None
    if wrapped_key:
        record_id = str(row["id"])
        data_key = envelope.unwrap_data_key(
            key_encryption_keys(), wrapped_key, scope=SCOPE, record_id=record_id
        )
        row["mrn"] = envelope.decrypt_field(data_key, ciphertext, scope=SCOPE, record_id=record_id, field=MRN)
        if preference:
            row[CONTACT_PREFERENCE] = envelope.decrypt_field(
                data_key, preference, scope=SCOPE, record_id=record_id, field=CONTACT_PREFERENCE
            )
        if email:
            row[EMAIL] = envelope.decrypt_field(
                data_key, email, scope=SCOPE, record_id=record_id, field=EMAIL
            )
    return records.Patient(**row)
