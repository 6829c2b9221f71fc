"""Factories for valid data, written straight through the repositories in a unit of work."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from uuid import UUID

from backend.accounts import repository as accounts
from backend.accounts.codes import OrganizationKind, Role
from backend.accounts.tables import Organization, Specialty
from backend.container import Container
from backend.core.validation import npi_with_check_digit

PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)


@dataclass(frozen=True)
class MadeUser:
    id: UUID
    email: str
    password: str
    organization_id: UUID


class Factory:
    def __init__(self, container: Container) -> None:
        self.container = container

    async def organization(self, name: str | None = None) -> UUID:
        async with self.container.database.unit_of_work():
            organization = Organization(
                name=name or f"Test Clinic {secrets.token_hex(3)}",
                kind=OrganizationKind.CLINIC.value,
            )
            await organization.save()
        return UUID(str(organization.id))

    async def user(
        self,
        organization_id: UUID | None = None,
        roles: tuple[Role, ...] = (Role.REFERRING_PROVIDER,),
        password: str = PASSWORD,
    ) -> MadeUser:
        organization_id = organization_id or await self.organization()
        email = f"user{next(_sequence)}.{secrets.token_hex(4)}@test.example"
        password_hash = await self.container.auth.passwords.hash(password)
        async with self.container.database.unit_of_work():
            user_id = await accounts.insert_user(
                email=email,
                display_name=f"Test User {email[:12]}",
                home_organization_id=organization_id,
                password_hash=password_hash,
            )
            await accounts.replace_roles(user_id, organization_id, roles)
        return MadeUser(user_id, email, password, organization_id)

    async def specialty(self, code: str | None = None) -> str:
        code = code or f"specialty_{secrets.token_hex(3)}"
        async with self.container.database.unit_of_work():
            if not await Specialty.exists().where(Specialty.code == code):
                await accounts.insert_specialties([(code, code.title())])
        return code

    @staticmethod
    def npi() -> str:
        return npi_with_check_digit(f"{secrets.randbelow(900_000_000) + 100_000_000}")


@dataclass(frozen=True)
class Clinician:
    user: MadeUser
    provider_id: UUID


class DirectoryFactory:
    """Providers, plans, patients and protocols for referral tests."""

    def __init__(self, container: Container) -> None:
        self.container = container

    async def clinician(
        self, factory: Factory, organization_id: UUID, role: Role, specialty_code: str
    ) -> Clinician:
        user = await factory.user(organization_id, roles=(role,))
        async with self.container.database.unit_of_work():
            specialties = await accounts.specialties_by_codes([specialty_code])
            provider_id = await accounts.insert_provider(
                organization_id=organization_id,
                npi=Factory.npi(),
                display_name=f"Dr. {user.email[:10]}",
                user_id=user.id,
                specialty_ids=[specialty.id for specialty in specialties],
            )
        return Clinician(user, provider_id)

    async def plan(self) -> UUID:
        from backend.directory import repository as directory

        code = f"plan-{secrets.token_hex(4)}"
        async with self.container.database.unit_of_work():
            await directory.insert_plans([(code, "Test Payer", f"Plan {code}")])
            plans = [plan for plan in await directory.all_plans() if plan.code == code]
        return UUID(str(plans[0].id))

    async def patient(self, organization_id: UUID, *, given: str = "Ada", family: str | None = None) -> UUID:
        from datetime import date

        from backend.patients import repository as patients

        async with self.container.database.unit_of_work():
            return await patients.insert_patient(
                organization_id=organization_id,
                mrn=f"MRN{secrets.token_hex(4)}",
                given_name=given,
                family_name=family or f"Testpatient{secrets.token_hex(2)}",
                birth_date=date(1961, 4, 12),
                sex="FEMALE",
                phone=None,
                insurance_plan_id=None,
                insurance_member_id=None,
            )

    async def network_link(self, organization_id: UUID, provider_id: UUID) -> None:
        from backend.directory import repository as directory

        async with self.container.database.unit_of_work():
            await directory.link_network(organization_id, [provider_id])
