"""GraphQL for the audit trail: the `auditLog` connection and `auditVerification`."""
