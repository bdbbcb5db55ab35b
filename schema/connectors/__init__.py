"""GraphQL for credentials, the connector catalogue, connector instances and their calls."""
