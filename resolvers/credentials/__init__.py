"""Credentials: secrets sealed at rest, read back only as field names and a fingerprint."""
