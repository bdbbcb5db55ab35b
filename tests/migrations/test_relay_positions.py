"""Migration 0016 adds the relay's log of positions: events relayed before it keep their seq as
their position (a `since` a dashboard already holds stays valid), events still queued get theirs
when the relay takes them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.migrations.test_relay_queue import _tortoise_migrate
from tests.processes import gatehouse_env


def test_relayed_events_keep_their_seq_as_position(tmp_path: Path) -> None:
    path = tmp_path / "upgrade.db"
    env = gatehouse_env(DATABASE_URL=f"sqlite://{path}")
    _tortoise_migrate(env, "models", "0013_mcp_servers")
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO organizations (id, name, plan, created_at) VALUES ('org_m', 'm', 'free', '2026-01-01')")
        for seq in (1, 2, 5):
            db.execute("INSERT INTO events (seq, id, organization_id, type, data, created_at) "
                       "VALUES (?, ?, 'org_m', 'webhook.test', '{}', '2026-01-01')", (seq, f"evt_{seq}"))
        db.execute("INSERT INTO events_unrelayed (seq) VALUES (5)")
    _tortoise_migrate(env)
    with sqlite3.connect(path) as db:
        logged = list(db.execute("SELECT position, organization_id, seq FROM events_relayed ORDER BY position"))
    assert logged == [(1, "org_m", 1), (2, "org_m", 2)]
