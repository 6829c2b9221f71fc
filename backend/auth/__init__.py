"""Authentication: passwords, sessions, access JWTs, rotating refresh tokens, throttling."""
