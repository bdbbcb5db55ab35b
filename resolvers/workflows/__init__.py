"""Workflows: definitions, versions, executions and the runner's steps."""
