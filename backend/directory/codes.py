"""Directory coded values the mobile apps send and show (stored as codes: never rename, only add)."""

from enum import StrEnum


class NetworkStatus(StrEnum):
    IN_NETWORK = "IN_NETWORK"
    OUT_OF_NETWORK = "OUT_OF_NETWORK"
    UNKNOWN = "UNKNOWN"
