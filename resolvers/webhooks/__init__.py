"""Webhooks: subscriptions, fan-out of outbox events into deliveries, and the dispatch policy."""
