"""Push notifications through Firebase Cloud Messaging."""
