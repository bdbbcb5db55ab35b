"""Baselines: tiny apps on Gatehouse's stack with no Gatehouse code, the floor each figure is compared to."""
