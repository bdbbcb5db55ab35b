"""GraphQL for agents: types, queries, mutations."""
