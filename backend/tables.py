"""Every table, in dependency order: what the migrations and the drift check compare against."""

from piccolo.table import Table

from backend.accounts.tables import (
    Invitation,
    Membership,
    Organization,
    Provider,
    ProviderSpecialty,
    Specialty,
    User,
)
from backend.audit.tables import AuditChainHead, AuditEvent
from backend.auth.tables import AuthSession, LoginThrottle, RefreshToken
from backend.automation.tables import AutomationStep
from backend.directory.tables import InsurancePlan, NetworkLink, ProviderLocation, ProviderPlan
from backend.email.tables import EmailOutbox
from backend.messaging.tables import Conversation, ConversationMember, Message, MessageAttachment
from backend.patients.tables import Patient
from backend.protocols.tables import Protocol, ProtocolVersion
from backend.push.tables import PushDevice, PushOutbox, PushSettings
from backend.realtime.tables import StreamCursor, StreamEvent
from backend.referrals.tables import (
    Appointment,
    Document,
    IdempotencyRecord,
    Referral,
    ReferralEvent,
)
from backend.surveys.tables import SurveyInvitation

ALL_TABLES: tuple[type[Table], ...] = (
    Organization,
    User,
    Membership,
    Specialty,
    Provider,
    ProviderSpecialty,
    AuthSession,
    RefreshToken,
    LoginThrottle,
    Invitation,
    AuditChainHead,
    AuditEvent,
    InsurancePlan,
    ProviderPlan,
    ProviderLocation,
    NetworkLink,
    Patient,
    Protocol,
    ProtocolVersion,
    Referral,
    ReferralEvent,
    Document,
    Appointment,
    IdempotencyRecord,
    StreamCursor,
    StreamEvent,
    Conversation,
    ConversationMember,
    Message,
    MessageAttachment,
    PushDevice,
    PushSettings,
    PushOutbox,
    AutomationStep,
    SurveyInvitation,
    EmailOutbox,
)
