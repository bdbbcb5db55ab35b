"""The embedded mode: SQLite, in-process bus and workers, nothing else running."""

from __future__ import annotations

import httpx
import orjson

from tests.conftest import free_port
from tests.processes import gatehouse_env, run_cli, running


def test_serve_on_sqlite_with_nothing_else(tmp_path) -> None:
    env = gatehouse_env(DATABASE_URL=f"sqlite://{tmp_path}/gatehouse.db")
    port = free_port()
    with running("serve", "--port", str(port), env=env, port=port):
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "redis": True}
        created = run_cli("create-org", "solo", "--json", env=env)
        assert created.returncode == 0, created.stderr
        key = orjson.loads(created.stdout)["apiKey"]
        listed = httpx.get(f"{base}/api/v1/api-keys", headers={"x-apaaikey": key})
        assert listed.status_code == 200 and listed.json()[0]["name"] == "admin"
        viewer = httpx.post(f"{base}/graphql", headers={"x-api-key": key},
                            json={"query": "{ viewer { organization { name } } }"})
        assert viewer.json()["data"]["viewer"]["organization"]["name"] == "solo"


def test_bad_setting_fails_with_one_clear_line() -> None:
    for name, value in (("DATABASE_URL", "mysql://x"), ("GATEHOUSE_DEFAULT_RATE_LIMIT", "lots"),
                        ("REDIS_URL", "http://x"), ("GATEHOUSE_ENCRYPTION_KEYS", "k1:not-base64!")):
        done = run_cli("migrate", env=gatehouse_env(**{name: value}))
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and name in lines[0] and "Traceback" not in done.stderr


def test_create_key_cli(tmp_path) -> None:
    env = gatehouse_env(DATABASE_URL=f"sqlite://{tmp_path}/g.db")
    org = orjson.loads(run_cli("create-org", "a", "--plan", "pro", "--json", env=env).stdout)["organizationId"]
    done = run_cli("create-key", "--org", org, "--name", "ci", "--scopes", "actions:write,policies:read",
                   "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout)["scopes"] == ["actions:write", "policies:read"]
    unknown = run_cli("create-key", "--org", "org_missing", "--name", "x", "--scopes", "admin", env=env)
    assert unknown.returncode == 1 and "not found" in unknown.stderr
    for bad in (["--rate-limit", "-1"], ["--name", " "]):  # the checks the API makes, not a key that is useless
        args = {"--name": "x", **dict(zip(bad[::2], bad[1::2], strict=True))}
        refused = run_cli("create-key", "--org", org, "--scopes", "admin", *[a for kv in args.items() for a in kv],
                          env=env)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
