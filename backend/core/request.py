"""Who is asking and from where: the transport fills this in, domains only read it."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestMeta:
    client_address: str
    request_id: str
