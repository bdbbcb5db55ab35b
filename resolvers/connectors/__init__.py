"""Connectors: a catalogue of provider types, the organization's instances, and running actions."""
