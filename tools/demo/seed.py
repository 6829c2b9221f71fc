"""Seeds an empty database with two health systems, an independent practice and their people.

Every demo user signs in with ``DEMO_PASSWORD``; the README lists the logins. Runs only on an
empty database, inside one unit of work, which also seeds the referral domain on top of these
accounts (plans, more providers, protocols, patients, referrals: see ``tools.demo.referrals``).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from backend.accounts import repository as accounts
from backend.accounts.codes import OrganizationKind, Role
from backend.accounts.tables import Organization
from backend.auth.passwords import Passwords
from backend.core.validation import npi_with_check_digit
from backend.db import Database
from tools.demo.referrals import SeededAccounts, SeededProvider, seed_referral_domain

DEMO_PASSWORD = "careloop-demo-2026"

SPECIALTIES: tuple[tuple[str, str], ...] = (
    ("cardiology", "Cardiology"),
    ("dermatology", "Dermatology"),
    ("endocrinology", "Endocrinology"),
    ("gastroenterology", "Gastroenterology"),
    ("nephrology", "Nephrology"),
    ("neurology", "Neurology"),
    ("oncology", "Medical Oncology"),
    ("ophthalmology", "Ophthalmology"),
    ("orthopedics", "Orthopedic Surgery"),
    ("psychiatry", "Psychiatry"),
    ("pulmonology", "Pulmonology"),
    ("rheumatology", "Rheumatology"),
    ("urology", "Urology"),
    ("family_medicine", "Family Medicine"),
    ("internal_medicine", "Internal Medicine"),
)


@dataclass(frozen=True, slots=True)
class DemoPerson:
    email: str
    name: str
    roles: tuple[Role, ...]
    specialties: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DemoOrganization:
    name: str
    kind: OrganizationKind
    domain: str
    people: tuple[DemoPerson, ...]


def _staff(domain: str, org: str) -> tuple[DemoPerson, ...]:
    return (
        DemoPerson(f"admin@{domain}", f"{org} Admin", (Role.ORG_ADMIN,)),
        DemoPerson(f"manager@{domain}", f"{org} Referral Manager", (Role.REFERRAL_MANAGER,)),
        DemoPerson(f"coordinator@{domain}", f"{org} Coordinator", (Role.COORDINATOR,)),
    )


ORGANIZATIONS: tuple[DemoOrganization, ...] = (
    DemoOrganization(
        "Riverside Health System",
        OrganizationKind.HEALTH_SYSTEM,
        "riverside.example",
        (
            *_staff("riverside.example", "Riverside"),
            DemoPerson(
                "coordinator2@riverside.example",
                "Riverside Scheduling Coordinator",
                (Role.COORDINATOR,),
            ),
            DemoPerson("dr.chen@riverside.example", "Dr. Lena Chen", (Role.SPECIALIST,), ("cardiology",)),
            DemoPerson(
                "dr.okafor@riverside.example",
                "Dr. Emeka Okafor",
                (Role.SPECIALIST,),
                ("neurology",),
            ),
            DemoPerson(
                "dr.silva@riverside.example",
                "Dr. Ana Silva",
                (Role.SPECIALIST,),
                ("endocrinology",),
            ),
            DemoPerson(
                "dr.kowalski@riverside.example",
                "Dr. Piotr Kowalski",
                (Role.SPECIALIST,),
                ("orthopedics",),
            ),
            DemoPerson(
                "dr.haddad@riverside.example",
                "Dr. Rami Haddad",
                (Role.SPECIALIST,),
                ("gastroenterology",),
            ),
            DemoPerson("dr.nguyen@riverside.example", "Dr. Mai Nguyen", (Role.SPECIALIST,), ("oncology",)),
            DemoPerson(
                "dr.brooks@riverside.example",
                "Dr. Sam Brooks",
                (Role.REFERRING_PROVIDER,),
                ("internal_medicine",),
            ),
        ),
    ),
    DemoOrganization(
        "Summit Medical Group",
        OrganizationKind.HEALTH_SYSTEM,
        "summit.example",
        (
            *_staff("summit.example", "Summit"),
            DemoPerson("dr.garcia@summit.example", "Dr. Sofia Garcia", (Role.SPECIALIST,), ("dermatology",)),
            DemoPerson(
                "dr.ivanova@summit.example",
                "Dr. Irina Ivanova",
                (Role.SPECIALIST,),
                ("pulmonology",),
            ),
            DemoPerson("dr.mensah@summit.example", "Dr. Kofi Mensah", (Role.SPECIALIST,), ("nephrology",)),
            DemoPerson("dr.larsen@summit.example", "Dr. Erik Larsen", (Role.SPECIALIST,), ("rheumatology",)),
            DemoPerson("dr.tanaka@summit.example", "Dr. Yui Tanaka", (Role.SPECIALIST,), ("urology",)),
            DemoPerson(
                "dr.romero@summit.example",
                "Dr. Luis Romero",
                (Role.SPECIALIST,),
                ("ophthalmology",),
            ),
            DemoPerson(
                "dr.fischer@summit.example",
                "Dr. Hanna Fischer",
                (Role.SPECIALIST,),
                ("psychiatry",),
            ),
            DemoPerson("dr.ali@summit.example", "Dr. Omar Ali", (Role.SPECIALIST,), ("cardiology",)),
            DemoPerson(
                "dr.wright@summit.example",
                "Dr. Grace Wright",
                (Role.REFERRING_PROVIDER,),
                ("family_medicine",),
            ),
        ),
    ),
    DemoOrganization(
        "Oak Street Family Practice",
        OrganizationKind.PRACTICE,
        "oakstreet.example",
        (
            DemoPerson(
                "admin@oakstreet.example",
                "Oak Street Admin",
                (Role.ORG_ADMIN, Role.REFERRAL_MANAGER),
            ),
            DemoPerson("coordinator@oakstreet.example", "Oak Street Coordinator", (Role.COORDINATOR,)),
            DemoPerson(
                "dr.patel@oakstreet.example",
                "Dr. Priya Patel",
                (Role.REFERRING_PROVIDER,),
                ("family_medicine",),
            ),
            DemoPerson(
                "dr.murphy@oakstreet.example",
                "Dr. Sean Murphy",
                (Role.REFERRING_PROVIDER,),
                ("family_medicine",),
            ),
            DemoPerson(
                "dr.kim@oakstreet.example",
                "Dr. Ji-woo Kim",
                (Role.REFERRING_PROVIDER,),
                ("internal_medicine",),
            ),
        ),
    ),
)


async def database_is_empty() -> bool:
    return not await Organization.exists()


async def seed_demo_data(database: Database, passwords: Passwords) -> bool:
    """Seed when the database is empty; False when there was already data."""
    if not await database_is_empty():
        return False
    password_hash = await passwords.hash(DEMO_PASSWORD)
    async with database.unit_of_work():
        seeded = await _seed_accounts(password_hash)
        await seed_referral_domain(seeded)
    return True


async def _seed_accounts(password_hash: str) -> SeededAccounts:
    """Organizations, users, roles, specialties and the providers among the users."""
    await accounts.insert_specialties(SPECIALTIES)
    seeded = SeededAccounts()
    for specialty in await accounts.all_specialties():
        seeded.specialty_ids[specialty.code] = specialty.id
        seeded.specialty_names[specialty.code] = specialty.name
    npi_serial = 123_456_000
    for org in ORGANIZATIONS:
        organization = Organization(name=org.name, kind=org.kind.value)
        await organization.save()
        org_id = UUID(str(organization.id))
        seeded.organization_ids[org.domain] = org_id
        for person in org.people:
            user_id = await accounts.insert_user(
                email=person.email,
                display_name=person.name,
                home_organization_id=org_id,
                password_hash=password_hash,
            )
            seeded.user_ids[person.email] = user_id
            await accounts.replace_roles(user_id, org_id, person.roles)
            if person.specialties:
                npi_serial += 7
                provider_id = await accounts.insert_provider(
                    organization_id=org_id,
                    npi=npi_with_check_digit(str(npi_serial)),
                    display_name=person.name,
                    user_id=user_id,
                    specialty_ids=[seeded.specialty_ids[code] for code in person.specialties],
                )
                seeded.providers.append(
                    SeededProvider(
                        key=person.email,
                        id=provider_id,
                        name=person.name,
                        organization=org.domain,
                        specialties=person.specialties,
                        user_id=user_id,
                        receives=Role.SPECIALIST in person.roles,
                    )
                )
    return seeded
