"""What a push says: PHI-free notifications, as stored in the outbox and as sent to FCM.

    decision (backend/push/notify.py) ──► Notification (type, ids, generic localized title, badge,
        collapse key, priority, TTL, iOS category) ──► stored as JSON in the outbox row
    dispatcher ──► fcm_message(): the FCM v1 message (data + notification + android + apns)

Never a patient name, date of birth, MRN, clinical text or message text: the app fetches content
over the authenticated API. mobile_contract/push/ holds the JSON Schema of every message sent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from backend.push.codes import Category, PushType

TITLES: dict[str, dict[PushType, str]] = {
    "en": {
        PushType.REFERRAL_RECEIVED: "New referral",
        PushType.REFERRAL_UPDATED: "Referral update",
        PushType.NEW_MESSAGE: "New secure message",
        PushType.REFERRAL_REMINDER: "Referral reminder",
        PushType.REFERRAL_ESCALATION: "Referral needs attention",
    },
    "es": {
        PushType.REFERRAL_RECEIVED: "Nueva derivación",
        PushType.REFERRAL_UPDATED: "Actualización de derivación",
        PushType.NEW_MESSAGE: "Nuevo mensaje seguro",
        PushType.REFERRAL_REMINDER: "Recordatorio de derivación",
        PushType.REFERRAL_ESCALATION: "Derivación pendiente de atención",
    },
    "fr": {
        PushType.REFERRAL_RECEIVED: "Nouvelle demande d'avis",
        PushType.REFERRAL_UPDATED: "Mise à jour d'une demande",
        PushType.NEW_MESSAGE: "Nouveau message sécurisé",
        PushType.REFERRAL_REMINDER: "Rappel de demande d'avis",
        PushType.REFERRAL_ESCALATION: "Demande d'avis en attente",
    },
}
TTL_SECONDS = {
    PushType.REFERRAL_RECEIVED: 3 * 24 * 3600,
    PushType.REFERRAL_UPDATED: 24 * 3600,
    PushType.NEW_MESSAGE: 12 * 3600,
    PushType.REFERRAL_REMINDER: 12 * 3600,
    PushType.REFERRAL_ESCALATION: 24 * 3600,
}
CATEGORY_OF = {
    PushType.REFERRAL_RECEIVED: Category.REFERRAL_UPDATES,
    PushType.REFERRAL_UPDATED: Category.REFERRAL_UPDATES,
    PushType.NEW_MESSAGE: Category.MESSAGES,
    PushType.REFERRAL_REMINDER: Category.REMINDERS,
    PushType.REFERRAL_ESCALATION: Category.ESCALATIONS,
}
DECISION_CATEGORY = "REFERRAL_DECISION"  # the app registers Accept / Decline / Open for it
DECISION_ACTIONS = "ACCEPT,DECLINE,OPEN"


@dataclass(frozen=True, slots=True)
class Notification:
    type: PushType
    data: dict[str, str]
    high_priority: bool
    collapse_key: str | None = None
    badge: int | None = None
    actionable: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def stored(self, *, created_epoch: int) -> dict[str, Any]:
        """As kept in the outbox: it expires TTL after the event, however late it is sent."""
        return asdict(self) | {"expires_at": created_epoch + TTL_SECONDS[self.type]}


def title(push_type: PushType, locale: str) -> str:
    language = (locale or "en").split("-")[0].split("_")[0].lower()
    return TITLES.get(language, TITLES["en"])[push_type]


def fcm_message(
    stored: dict[str, Any], *, token: str, locale: str, now_epoch: int, push_id: str
) -> dict[str, Any]:
    """The FCM v1 ``message`` object for one device (the body firebase-admin sends). ``pushId``
    (the outbox row) lets the app drop a push it already showed."""
    push_type = PushType(stored["type"])
    data = {"type": push_type.value, "pushId": push_id, **stored["data"]}
    high = bool(stored["high_priority"])
    expires_at = int(stored.get("expires_at") or now_epoch + TTL_SECONDS[push_type])
    ttl = max(expires_at - now_epoch, 0)
    heading = title(push_type, locale)
    android_notification: dict[str, Any] = {
        "title": heading,
        "channel_id": "careloop-" + push_type.value.lower(),
    }
    aps: dict[str, Any] = {"alert": {"title": heading}, "sound": "default"}
    if stored.get("badge") is not None:
        aps["badge"] = stored["badge"]
        android_notification["notification_count"] = stored["badge"]
    if high:
        aps["interruption-level"] = "time-sensitive"
    if stored.get("actionable"):
        aps["category"] = DECISION_CATEGORY
        android_notification["click_action"] = DECISION_CATEGORY
        data["actions"] = DECISION_ACTIONS
    android: dict[str, Any] = {
        "priority": "high" if high else "normal",
        "ttl": f"{ttl}s",
        "notification": android_notification,
    }
    apns_headers = {
        "apns-priority": "10" if high else "5",
        "apns-push-type": "alert",
        "apns-expiration": str(expires_at),
    }
    if stored.get("collapse_key"):
        android["collapse_key"] = stored["collapse_key"]
        apns_headers["apns-collapse-id"] = stored["collapse_key"]
    return {
        "token": token,
        "data": data,
        "notification": {"title": heading},
        "android": android,
        "apns": {"headers": apns_headers, "payload": {"aps": aps}},
    }
