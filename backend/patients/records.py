"""The patient record: a typed, immutable patient as the repository returns it.

A frozen ``msgspec.Struct`` whose fields are named like the patient table's columns (a foreign
key holds the referenced id), built with ``Patient(**row)`` once the repository has opened the
row: the MRN, contact preference and e-mail address decrypted into ``mrn``,
``contact_preference`` (a ``ContactPreference`` code) and ``email`` (None: none given), and
the sealing columns (``mrn_ciphertext``, ``mrn_index``, ``wrapped_key``) dropped, so they
never leave the repository. Change one with ``msgspec.structs.replace``; records are never
mutated.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec


class Patient(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    organization: UUID
    mrn: str
    given_name: str
    family_name: str
    search_name: str
    birth_date: date
    sex: str
    phone: str | None
    insurance_plan: UUID | None
    insurance_member_id: str | None
    contact_preference: str
    email: str | None
    created_at: datetime
