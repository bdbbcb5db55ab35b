"""GraphQL for workflows and their executions."""
