"""Notifications: a policy's `notify` connectors are told when its actions wait, escalate or are decided."""
