"""Encryption at rest: versioned key-encryption keys, per-record data keys, field ciphertexts."""
