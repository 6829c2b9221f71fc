"""Patient use cases: register a patient in your organization, find one, read one (audited)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from backend.accounts.actor import Actor
from backend.audit.actions import AuditAction
from backend.audit.service import AuditTrail
from backend.core.clock import utcnow
from backend.core.errors import InvalidInput
from backend.core.validation import check_email, check_text, normalize_email
from backend.directory import repository as directory
from backend.patients import records, repository
from backend.patients.codes import AdministrativeSex, ContactPreference
from backend.patients.errors import PatientError, PatientErrorCode
from backend.patients.limits import MAX_MEMBER_ID, MAX_MRN, MAX_NAME, MAX_PHONE, MAX_SEARCH, MIN_SEARCH
from backend.referrals import access
from backend.referrals.errors import ReferralError


def _not_found() -> PatientError:
    return PatientError(PatientErrorCode.NOT_FOUND, "Not found.")


async def register_patient(
    actor: Actor,
    audit: AuditTrail,
    *,
    organization_id: UUID,
    mrn: str,
    given_name: str,
    family_name: str,
    birth_date: date,
    sex: AdministrativeSex,
    phone: str | None,
    insurance_plan_id: UUID | None,
    insurance_member_id: str | None,
    contact_preference: ContactPreference = ContactPreference.NONE,
    email: str | None = None,
) -> records.Patient:
    if not actor.is_member(organization_id):
        raise _not_found()
    mrn = mrn.strip()
    problems = InvalidInput()
    check_text(problems, "mrn", mrn, max_length=MAX_MRN)
    check_text(problems, "givenName", given_name, max_length=MAX_NAME)
    check_text(problems, "familyName", family_name, max_length=MAX_NAME)
    if phone is not None:
        check_text(problems, "phone", phone, max_length=MAX_PHONE)
    if insurance_member_id is not None:
        check_text(problems, "insuranceMemberId", insurance_member_id, max_length=MAX_MEMBER_ID)
    email = normalize_email(email) if email and email.strip() else None
    if email is not None:
        check_email(problems, "email", email)
    elif contact_preference is ContactPreference.EMAIL:
        problems.add("email", "REQUIRED", "An e-mail address is needed to contact the patient by e-mail.")
    today = utcnow().date()
    if birth_date > today or birth_date.year < today.year - 130:
        problems.add("birthDate", "OUT_OF_RANGE", "The birth date must be in the past 130 years.")
    if insurance_plan_id is not None and await directory.plan_by_id(insurance_plan_id) is None:
        problems.add("insurancePlanId", "UNKNOWN_PLAN", "Unknown insurance plan.")
    problems.raise_if_any()
    if await repository.mrn_exists(organization_id, mrn):
        raise PatientError(PatientErrorCode.MRN_TAKEN, "This MRN is already registered here.", field="mrn")
    patient_id = await repository.insert_patient(
        organization_id=organization_id,
        mrn=mrn,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        birth_date=birth_date,
        sex=sex.value,
        phone=phone.strip() if phone else None,
        insurance_plan_id=insurance_plan_id,
        insurance_member_id=insurance_member_id.strip() if insurance_member_id else None,
        contact_preference=contact_preference.value,
        email=email,
    )
    audit.record(
        AuditAction.PATIENT_CREATED,
        actor_user_id=actor.user_id,
        organization_id=organization_id,
        object_type="Patient",
        object_id=patient_id,
    )
    patient = await repository.patient_by_id(patient_id)
    assert patient is not None
    return patient


async def read_patient(actor: Actor, audit: AuditTrail, patient_id: UUID) -> records.Patient:
    try:
        patient = await access.access_patient(actor, await repository.patient_by_id(patient_id))
    except ReferralError:
        raise _not_found() from None
    audit_reads(actor, audit, [patient])
    return patient


async def search_patients(actor: Actor, audit: AuditTrail, *, text: str, limit: int) -> list[records.Patient]:
    problems = InvalidInput()
    if not MIN_SEARCH <= len(text.strip()) <= MAX_SEARCH:
        problems.add("text", "LENGTH", f"Search with {MIN_SEARCH} to {MAX_SEARCH} characters.")
    problems.raise_if_any()
    patients = await repository.search(actor.member_organization_ids, text, limit)
    audit_reads(actor, audit, patients)
    return patients


def audit_reads(actor: Actor, audit: AuditTrail, patients: Sequence[records.Patient]) -> None:
    for patient in patients:
        audit.record(
            AuditAction.PATIENT_READ,
            actor_user_id=actor.user_id,
            organization_id=patient.organization,
            object_type="Patient",
            object_id=patient.id,
        )
