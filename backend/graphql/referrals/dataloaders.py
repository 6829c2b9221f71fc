"""Per-request DataLoaders for referral objects: one query per kind per request, never per row."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from strawberry.dataloader import DataLoader

from backend.accounts import records as accounts_records
from backend.accounts import repository as accounts
from backend.directory import records as directory_records
from backend.directory import repository as directory
from backend.graphql.common import in_order
from backend.patients import records as patient_records
from backend.patients import repository as patients
from backend.protocols import records as protocols_records
from backend.protocols import repository as protocols
from backend.referrals import records as referral_records
from backend.referrals import repository


async def _patients(ids: Sequence[UUID]) -> list[patient_records.Patient | None]:
    return in_order(await patients.patients_by_ids(ids), ids)


async def _providers(ids: Sequence[UUID]) -> list[accounts_records.Provider | None]:
    return in_order(await accounts.providers_by_ids(ids), ids)


async def _users(ids: Sequence[UUID]) -> list[accounts_records.User | None]:
    return in_order(await accounts.users_by_ids(ids), ids)


async def _plans(ids: Sequence[UUID]) -> list[directory_records.InsurancePlan | None]:
    return in_order(await directory.plans_by_ids(ids), ids)


async def _protocol_versions(ids: Sequence[UUID]) -> list[protocols_records.NamedProtocolVersion | None]:
    return in_order(await protocols.versions_by_ids(ids), ids)


async def _specialties(ids: Sequence[UUID]) -> list[accounts_records.Specialty | None]:
    return in_order(await accounts.specialties_by_ids(ids), ids)


async def _events(referral_ids: Sequence[UUID]) -> list[list[referral_records.ReferralEvent]]:
    grouped = await repository.events_of_referrals(referral_ids)
    return [grouped.get(i, []) for i in referral_ids]


async def _documents(referral_ids: Sequence[UUID]) -> list[list[referral_records.Document]]:
    grouped = await repository.documents_of_referrals(referral_ids)
    return [grouped.get(i, []) for i in referral_ids]


async def _appointments(referral_ids: Sequence[UUID]) -> list[referral_records.Appointment | None]:
    latest = await repository.latest_appointments(referral_ids)
    return [latest.get(i) for i in referral_ids]


def patient_loader() -> DataLoader[UUID, patient_records.Patient | None]:
    return DataLoader(load_fn=_patients)


def provider_loader() -> DataLoader[UUID, accounts_records.Provider | None]:
    return DataLoader(load_fn=_providers)


def user_loader() -> DataLoader[UUID, accounts_records.User | None]:
    return DataLoader(load_fn=_users)


def plan_loader() -> DataLoader[UUID, directory_records.InsurancePlan | None]:
    return DataLoader(load_fn=_plans)


def protocol_version_loader() -> DataLoader[UUID, protocols_records.NamedProtocolVersion | None]:
    return DataLoader(load_fn=_protocol_versions)


def specialty_loader() -> DataLoader[UUID, accounts_records.Specialty | None]:
    return DataLoader(load_fn=_specialties)


def events_loader() -> DataLoader[UUID, list[referral_records.ReferralEvent]]:
    return DataLoader(load_fn=_events)


def documents_loader() -> DataLoader[UUID, list[referral_records.Document]]:
    return DataLoader(load_fn=_documents)


def appointment_loader() -> DataLoader[UUID, referral_records.Appointment | None]:
    return DataLoader(load_fn=_appointments)
