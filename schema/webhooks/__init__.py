"""GraphQL for webhooks and their deliveries."""
