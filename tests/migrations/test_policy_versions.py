"""Migration 0015 keeps each existing policy's current state as its one version, numbered as the
policy's `version` stands, so every later update has its predecessor to diff against."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.migrations.test_relay_queue import _tortoise_migrate
from tests.processes import gatehouse_env


def test_existing_policies_get_their_current_version(tmp_path: Path) -> None:
    path = tmp_path / "upgrade.db"
    env = gatehouse_env(DATABASE_URL=f"sqlite://{path}")
    _tortoise_migrate(env, "models", "0013_mcp_servers")
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO organizations (id, name, plan, created_at) VALUES ('org_m', 'm', 'free', '2026-01-01')")
        for policy_id, version in (("pol_a", 1), ("pol_b", 3)):
            db.execute("INSERT INTO policies (id, organization_id, name, mode, status, rules, version, created_at, "
                       "updated_at) VALUES (?, 'org_m', ?, 'enforce', 'active', '[]', ?, '2026-01-01', '2026-01-02')",
                       (policy_id, policy_id, version))
    _tortoise_migrate(env)
    with sqlite3.connect(path) as db:
        rows = list(db.execute("SELECT policy_id, number, organization_id, created_by FROM policy_versions "
                               "ORDER BY policy_id"))
        columns = [row[1] for row in db.execute("PRAGMA table_info(actions)")]
    assert rows == [("pol_a", 1, "org_m", None), ("pol_b", 3, "org_m", None)]
    assert "policy_set_id" in columns
