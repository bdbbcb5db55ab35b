"""Gatehouse benchmark harness: baselines, load generator and the runner that compares them."""
