"""Bench only: `gatehouse` whose proposal statement leaves the audit entry out, for figure 10b's
detail row (the entry's cost on `POST /actions`, the same statement with and without it).

The `au` CTE's INSERT becomes a plain SELECT of the same typed parameters: PostgreSQL does not run
a SELECT CTE nothing refers to, so nothing else about the statement changes. This is no setting of
the product: the audit trail cannot be turned off.

    python -m bench.audit_off serve --port PORT
"""

from __future__ import annotations

import re

from resolvers.governance import store_pg

store_pg._STORE = re.sub(r"INSERT INTO audit_entries \([^)]*\)\s*SELECT", "SELECT", store_pg._STORE)
assert "audit_entries" not in store_pg._STORE

if __name__ == "__main__":
    from app.cli import main

    main()
