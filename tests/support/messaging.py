"""GraphQL documents and small helpers for secure-messaging tests."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from tests.support.referrals import Person, World

MESSAGE_FIELDS = """
id sequence body state isPriority replyToId senderId senderName sentAt expiresAt recalledAt
promotedDocumentId
attachments { id filename mediaType sizeBytes }
receipts { userId status }
"""
CONVERSATION_FIELDS = f"""
id kind title referralId retentionSeconds lastSequence unreadCount deliveredUpTo readUpTo
members {{ userId displayName deliveredUpTo readUpTo }}
lastMessage {{ {MESSAGE_FIELDS} }}
"""
REFERRAL_CONVERSATION = f"""
query($referralId: ID!) {{
  referralConversation(referralId: $referralId) {{ {CONVERSATION_FIELDS} }}
  streamPosition
}}
"""
CONVERSATION = f"query($id: ID!) {{ conversation(id: $id) {{ {CONVERSATION_FIELDS} }} }}"
CONVERSATIONS = f"""
query($first: Int, $after: String) {{
  conversations(first: $first, after: $after) {{
    edges {{ cursor node {{ {CONVERSATION_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""
MESSAGES = f"""
query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {{
  conversation(id: $id) {{
    messages(first: $first, after: $after, last: $last, before: $before) {{
      edges {{ cursor node {{ {MESSAGE_FIELDS} }} }}
      pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
    }}
  }}
}}
"""
ERRORS = """
... on MessagingError { code message field }
... on InputError { fieldErrors { field code } }
"""
SEND = f"""
mutation($input: SendMessageInput!) {{
  sendMessage(input: $input) {{
    __typename ... on MessageSuccess {{ chatMessage {{ {MESSAGE_FIELDS} }} }} {ERRORS}
  }}
}}
"""
START = f"""
mutation($input: StartConversationInput!) {{
  startConversation(input: $input) {{
    __typename ... on ConversationSuccess {{ conversation {{ {CONVERSATION_FIELDS} }} }} {ERRORS}
  }}
}}
"""
ADD_MEMBERS = f"""
mutation($input: AddConversationMembersInput!) {{
  addConversationMembers(input: $input) {{
    __typename ... on ConversationSuccess {{ conversation {{ {CONVERSATION_FIELDS} }} }} {ERRORS}
  }}
}}
"""
LEAVE = """
mutation($input: LeaveConversationInput!) {
  leaveConversation(input: $input) { __typename ... on MessagingError { code } }
}
"""
MARK_READ = f"""
mutation($input: MarkConversationReadInput!) {{
  markConversationRead(input: $input) {{
    __typename ... on ConversationSuccess {{ conversation {{ unreadCount deliveredUpTo readUpTo }} }} {ERRORS}
  }}
}}
"""
RECALL = f"""
mutation($input: RecallMessageInput!) {{
  recallMessage(input: $input) {{
    __typename ... on MessageSuccess {{ chatMessage {{ {MESSAGE_FIELDS} }} }} {ERRORS}
  }}
}}
"""
TYPING = """
mutation($input: SetTypingInput!) {
  setTyping(input: $input) { __typename ... on MessagingError { code } }
}
"""
RETENTION = f"""
mutation($input: SetConversationRetentionInput!) {{
  setConversationRetention(input: $input) {{
    __typename ... on ConversationSuccess {{ conversation {{ retentionSeconds }} }} {ERRORS}
  }}
}}
"""
PROMOTE = f"""
mutation($input: PromoteMessageInput!) {{
  promoteMessageToRecord(input: $input) {{
    __typename ... on PromoteMessageSuccess {{ documentId chatMessage {{ promotedDocumentId }} }} {ERRORS}
  }}
}}
"""
ATTACHMENT = """
query($id: ID!) { messageAttachment(id: $id) { contentBase64 attachment { filename mediaType } } }
"""
CONVERSATION_EVENTS = """
subscription Chat($after: Int!, $conversationId: ID) {
  conversationEvents(after: $after, conversationId: $conversationId) {
    __typename sequence type conversationId
    ... on MessageSent { messageId messageSequence senderId isPriority }
    ... on MessageRecalled { messageId messageSequence }
    ... on MessageExpired { messageId messageSequence }
    ... on ReadStateChanged { userId deliveredUpTo readUpTo }
    ... on ConversationChanged { change }
  }
}
"""
TYPING_INDICATORS = """
subscription Typing($conversationId: ID!) {
  typingIndicators(conversationId: $conversationId) { __typename conversationId userId isTyping }
}
"""


def client_id() -> str:
    return f"msg-{uuid.uuid4()}"


def attachment(filename: str, content: bytes, media_type: str = "text/plain") -> dict[str, str]:
    return {
        "filename": filename,
        "mediaType": media_type,
        "contentBase64": base64.b64encode(content).decode(),
    }


class Chat:
    """One referral's conversation, driven through the API by the world's people."""

    def __init__(self, world: World, conversation: dict[str, Any]) -> None:
        self.world = world
        self.conversation = conversation

    @property
    def id(self) -> str:
        return str(self.conversation["id"])

    async def send(self, person: Person, body: str, **extra: Any) -> dict[str, Any]:
        result = await self.send_result(person, body, **extra)
        assert result["__typename"] == "MessageSuccess", result
        message: dict[str, Any] = result["chatMessage"]
        return message

    async def send_result(self, person: Person, body: str, **extra: Any) -> dict[str, Any]:
        payload = {"conversationId": self.id, "clientMessageId": client_id(), "body": body, **extra}
        data = await self.world.api.data(SEND, {"input": payload}, token=person.token)
        result: dict[str, Any] = data["sendMessage"]
        return result

    async def read(self, person: Person) -> dict[str, Any] | None:
        data = await self.world.api.data(CONVERSATION, {"id": self.id}, token=person.token)
        found: dict[str, Any] | None = data["conversation"]
        return found

    async def messages(self, person: Person, **page: Any) -> dict[str, Any]:
        data = await self.world.api.data(MESSAGES, {"id": self.id, **page}, token=person.token)
        assert data["conversation"] is not None
        connection: dict[str, Any] = data["conversation"]["messages"]
        return connection

    async def mark(self, person: Person, **markers: int) -> dict[str, Any]:
        data = await self.world.api.data(
            MARK_READ, {"input": {"conversationId": self.id, **markers}}, token=person.token
        )
        result: dict[str, Any] = data["markConversationRead"]
        return result


async def referral_chat(world: World, referral: dict[str, Any], person: Person | None = None) -> Chat:
    data = await world.api.data(
        REFERRAL_CONVERSATION, {"referralId": referral["id"]}, token=(person or world.referrer).token
    )
    assert data["referralConversation"] is not None
    return Chat(world, data["referralConversation"])
