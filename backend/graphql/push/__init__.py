"""GraphQL for push notifications: the caller's devices and push settings."""
