"""Directory tables: insurance plans, what each provider accepts, where they see patients, networks."""

from piccolo.columns import UUID, Boolean, ForeignKey, Real, Varchar
from piccolo.table import Table

from backend.accounts.tables import Organization, Provider


class InsurancePlan(Table):
    id = UUID(primary_key=True)
    code = Varchar(length=64, unique=True)
    payer = Varchar(length=200)
    name = Varchar(length=200)


class ProviderPlan(Table):
    """A plan the provider accepts."""

    id = UUID(primary_key=True)
    provider = ForeignKey(references=Provider, null=False, index=True)
    plan = ForeignKey(references=InsurancePlan, null=False, index=True)


class ProviderLocation(Table):
    id = UUID(primary_key=True)
    provider = ForeignKey(references=Provider, null=False, index=True)
    name = Varchar(length=200)
    address = Varchar(length=400)
    latitude = Real(null=True, default=None)
    longitude = Real(null=True, default=None)
    is_primary = Boolean(default=True)


class NetworkLink(Table):
    """``provider`` is in ``organization``'s referral network (its own providers always are)."""

    id = UUID(primary_key=True)
    organization = ForeignKey(references=Organization, null=False, index=True)
    provider = ForeignKey(references=Provider, null=False, index=True)
