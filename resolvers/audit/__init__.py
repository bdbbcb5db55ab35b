"""The audit trail: recording entries, sealing them into per-organization hash chains, reading,
exporting, verifying and trimming them."""
