"""Migration 0007 moves the relay from marking events to a queue: events that were not yet
relayed when it runs are queued, so an upgrade loses none (and requeues none already relayed)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.processes import ROOT, gatehouse_env


def _tortoise_migrate(env: dict[str, str], *target: str) -> None:
    cli = Path(sys.executable).with_name("tortoise")
    subprocess.run([str(cli), "-c", "tortoise_config.TORTOISE_ORM", "migrate", *target],
                   cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)


def test_unrelayed_events_are_queued_by_the_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "upgrade.db"
    env = gatehouse_env(DATABASE_URL=f"sqlite://{path}")
    _tortoise_migrate(env, "models", "0006_pending_deliveries")
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO organizations (id, name, plan, created_at) VALUES ('org_m', 'm', 'free', '2026-01-01')")
        for seq, relayed in ((1, "2026-01-01"), (2, None), (3, None)):
            db.execute("INSERT INTO events (seq, id, organization_id, type, data, created_at, relayed_at) "
                       "VALUES (?, ?, 'org_m', 'webhook.test', '{}', '2026-01-01', ?)", (seq, f"evt_{seq}", relayed))
    _tortoise_migrate(env)
    with sqlite3.connect(path) as db:
        queued = [seq for (seq,) in db.execute("SELECT seq FROM events_unrelayed ORDER BY seq")]
        columns = [row[1] for row in db.execute("PRAGMA table_info(events)")]
    assert queued == [2, 3]
    assert "relayed_at" not in columns
