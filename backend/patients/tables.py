"""The patient table: demographics and coverage, owned by one organization (MRN unique per org).

The MRN is stored encrypted (``mrn_ciphertext``) under the patient's own data key
(``wrapped_key``), with ``mrn_index``, a keyed blind index of the normalized MRN, for exact-match
lookups and the per-organization uniqueness (see backend/crypto/blind_index.py). ``mrn`` holds the
plaintext only for rows written before encryption (empty once sealed, see ``python -m backend
migrate``); those rows have no ``wrapped_key`` and a NULL ``mrn_index``.

``contact_preference`` and ``email`` are sealed under the same data key (fields
"contact_preference" and "email"); empty means NONE and no address.
"""

from piccolo.columns import UUID, Date, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import Organization
from backend.directory.tables import InsurancePlan


class Patient(Table):
    id = UUID(primary_key=True)
    organization = ForeignKey(references=Organization, null=False, index=True)
    mrn = Varchar(length=32)
    mrn_ciphertext = Text(default="")
    mrn_index = Varchar(length=64, null=True, default=None)
    wrapped_key = Text(default="")
    given_name = Varchar(length=100)
    family_name = Varchar(length=100)
    search_name = Varchar(length=201, index=True)
    birth_date = Date()
    sex = Varchar(length=16)
    phone = Varchar(length=32, null=True, default=None)
    insurance_plan = ForeignKey(references=InsurancePlan, null=True)
    insurance_member_id = Varchar(length=64, null=True, default=None)
    contact_preference = Text(default="")
    email = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
