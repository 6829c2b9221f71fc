"""The patient table: demographics and coverage, owned by one organization (MRN unique per org)."""

from piccolo.columns import UUID, Date, ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import Organization
from backend.directory.tables import InsurancePlan


class Patient(Table):
    id = UUID(primary_key=True)
    organization = ForeignKey(references=Organization, null=False, index=True)
    mrn = Varchar(length=32)
    given_name = Varchar(length=100)
    family_name = Varchar(length=100)
    search_name = Varchar(length=201, index=True)
    birth_date = Date()
    sex = Varchar(length=16)
    phone = Varchar(length=32, null=True, default=None)
    insurance_plan = ForeignKey(references=InsurancePlan, null=True)
    insurance_member_id = Varchar(length=64, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
