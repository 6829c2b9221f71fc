"""Messaging tables: conversations, their members' read state, messages and attachments.

A conversation has its own data key (``wrapped_key``); its title, every message body and every
attachment (name and content) are sealed under keys derived from it, bound to the conversation,
the message and the sender (see backend/messaging/repository.py). ``last_sequence`` is the
conversation's server-assigned message order: a send takes the next number with an UPDATE that
locks the conversation row until commit, so the order is the commit order.

Members of a referral's conversation are not stored: they are whoever may see the referral now
(backend/referrals/access.py), so a change of parties changes the chat's members at once.
``ConversationMember`` rows then only carry read state; for direct and group conversations
they are also the membership (``active``).
"""

from piccolo.columns import (
    UUID,
    BigSerial,
    Boolean,
    Bytea,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import User
from backend.referrals.tables import Referral


class Conversation(Table):
    id = UUID(primary_key=True)
    kind = Varchar(length=16)
    referral = ForeignKey(references=Referral, null=True, default=None, unique=True)
    title = Text(default="")
    wrapped_key = Text()
    retention_seconds = Integer(null=True, default=None)
    last_sequence = Integer(default=0)
    last_message_at = Timestamptz(null=True, default=None)
    activity_at = Timestamptz(default=TimestamptzNow())
    created_by = ForeignKey(references=User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ConversationMember(Table):
    id = BigSerial(primary_key=True)
    conversation = ForeignKey(references=Conversation, null=False)
    user = ForeignKey(references=User, null=False, index=True)
    active = Boolean(default=True)
    delivered_up_to = Integer(default=0)
    read_up_to = Integer(default=0)
    joined_at = Timestamptz(default=TimestamptzNow())


class Message(Table):
    id = UUID(primary_key=True)
    conversation = ForeignKey(references=Conversation, null=False)
    sequence = Integer()
    sender = ForeignKey(references=User, null=False)
    client_message_id = Varchar(length=64)
    body = Text(default="")
    is_priority = Boolean(default=False)
    reply_to = UUID(null=True, default=None)
    state = Varchar(length=12)
    sent_at = Timestamptz()
    expires_at = Timestamptz(null=True, default=None, index=True)
    recalled_at = Timestamptz(null=True, default=None)
    promoted_document = UUID(null=True, default=None)


class MessageAttachment(Table):
    id = UUID(primary_key=True)
    message = ForeignKey(references=Message, null=False, index=True)
    conversation = ForeignKey(references=Conversation, null=False)
    filename = Text()
    media_type = Varchar(length=100)
    size_bytes = Integer()
    content = Bytea(null=True, default=None)
    promoted_document = UUID(null=True, default=None)
