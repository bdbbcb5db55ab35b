"""One module per provider type; each exports `KIND`, a `ConnectorKind` with its actions."""
