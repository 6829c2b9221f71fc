"""GraphQL transport for sign-in, token refresh, sign-out and password changes."""
