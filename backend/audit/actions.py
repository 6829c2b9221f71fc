"""Stable audit action codes and outcomes (stored in rows: never rename, only add)."""

from enum import StrEnum


class AuditAction(StrEnum):
    LOGIN_SUCCEEDED = "auth.login.succeeded"
    LOGIN_FAILED = "auth.login.failed"
    LOGIN_THROTTLED = "auth.login.throttled"
    TOKEN_REFRESHED = "auth.token.refreshed"
    TOKEN_REFRESH_FAILED = "auth.token.refresh_failed"
    TOKEN_REUSE_DETECTED = "auth.token.reuse_detected"
    LOGOUT = "auth.logout"
    PASSWORD_CHANGED = "auth.password.changed"
    INVITATION_ACCEPTED = "auth.invitation.accepted"
    USER_INVITED = "accounts.user.invited"
    USER_DEACTIVATED = "accounts.user.deactivated"
    ROLES_CHANGED = "accounts.membership.roles_changed"
    PROVIDER_CREATED = "accounts.provider.created"
    PATIENT_CREATED = "patients.patient.created"
    PATIENT_READ = "patients.patient.read"
    REFERRAL_CREATED = "referrals.referral.created"
    REFERRAL_READ = "referrals.referral.read"
    REFERRAL_CHANGED = "referrals.referral.changed"
    DOCUMENT_ADDED = "referrals.document.added"
    DOCUMENT_READ = "referrals.document.read"
    PROTOCOL_CHANGED = "protocols.protocol.changed"
    DECRYPTION_FAILED = "crypto.decryption.failed"
    CONVERSATION_CREATED = "messaging.conversation.created"
    CONVERSATION_READ = "messaging.conversation.read"
    CONVERSATION_CHANGED = "messaging.conversation.changed"
    MESSAGE_SENT = "messaging.message.sent"
    MESSAGES_READ = "messaging.message.read"
    MESSAGE_RECALLED = "messaging.message.recalled"
    MESSAGE_PROMOTED = "messaging.message.promoted"
    ATTACHMENT_READ = "messaging.attachment.read"
    SURVEY_ANSWERED = "surveys.answer.recorded"
    SURVEY_ANSWER_READ = "surveys.answer.read"


class AuditOutcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"
