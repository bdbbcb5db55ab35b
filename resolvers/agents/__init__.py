"""Agents: the registry, keys' identities, the kill switch, live counts, liveness and per-agent caps."""
