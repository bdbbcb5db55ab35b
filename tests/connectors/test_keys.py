"""Keys: a ciphertext moved to another credential fails to open with a clear error; rotate-keys moves
every credential to the new key in resumable batches, after which the old key can go; the embedded
mode makes its key file once; production refuses to start without keys."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from pathlib import Path

import httpx
import orjson
import pytest

from app.core.crypto import Keyring, generate_key
from models.audit import AuditEntry
from models.connectors import Credential
from resolvers.credentials.sealing import associated_data
from tests.conftest import DATABASE_URL, Tenant, free_port
from tests.connectors.fakes.base import serving
from tests.connectors.fakes.customer import CUSTOMER_KEY, CustomerApi
from tests.connectors.test_custom_api import CUSTOM_CREDENTIAL, DOC_INPUT, make_custom_connector
from tests.processes import TEST_ENCRYPTION_KEYS, gatehouse_env, run_cli, running


async def _run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    done = await asyncio.to_thread(run_cli, *args, env=env)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("target", ["same organization", "other organization"])
async def test_a_moved_ciphertext_fails_to_decrypt_with_a_clear_error(
    tenant: Tenant, other_tenant: Tenant, target: str, caplog: pytest.LogCaptureFixture
) -> None:
    api = CustomerApi()
    async with serving(api):
        connector = await make_custom_connector(tenant, api.base_url)
        victim = await Credential.get(connectors__id=connector)
        donor_tenant = tenant if target == "same organization" else other_tenant
        async with donor_tenant.client() as c:
            donor = (await c.post("/api/v1/credentials", json={
                **CUSTOM_CREDENTIAL, "data": {"headers": {"X-Customer-Key": "someone-elses-key"}}})).json()
        donor_row = await Credential.get(id=donor["id"])
        await Credential.filter(id=victim.id).update(sealed=donor_row.sealed)
        with caplog.at_level(logging.ERROR, logger="gatehouse.credentials"):
            async with tenant.client() as c:
                response = await c.post(f"/api/v1/connectors/{connector}/actions/delete", json={"input": DOC_INPUT})
                still_readable = await c.get(f"/api/v1/credentials/{victim.id}")
    assert response.status_code == 409, response.text
    assert response.json()["error"] == "CONFLICT" and "cannot be decrypted" in response.json()["message"]
    assert "someone-elses-key" not in response.text and api.requests == []
    assert any(victim.id in record.getMessage() for record in caplog.records)
    assert still_readable.status_code == 200


async def _credentials(tenant: Tenant, count: int) -> list[str]:
    async with tenant.client() as c:
        return [(await c.post("/api/v1/credentials", json={
            **CUSTOM_CREDENTIAL, "name": f"c{i}"})).json()["id"] for i in range(count)]


async def test_rotate_keys_resumes_and_leaves_every_credential_readable_without_the_old_key(tenant: Tenant) -> None:
    ids = await _credentials(tenant, 5)
    old = TEST_ENCRYPTION_KEYS
    new_key = f"new:{generate_key()}"
    env = gatehouse_env(DATABASE_URL=DATABASE_URL, GATEHOUSE_ENCRYPTION_KEYS=f"{new_key},{old}")

    code, out, err = await _run_cli("rotate-keys", "--batch-size", "2", "--max-batches", "1", "--json", env=env)
    assert code == 0, err
    assert orjson.loads(out) == {"activeKey": "new", "moved": 2, "remaining": {"test": 3}, "unreadable": []}
    code, out, err = await _run_cli("rotate-keys", "--batch-size", "2", env=env)  # run again: finishes
    assert code == 0, err
    assert "moved 3 credential(s) to key 'new'" in out and "old keys may be removed" in out

    only_new = Keyring.parse(new_key)
    rows = await Credential.filter(id__in=ids)
    assert {row.key_id for row in rows} == {"new"}
    for row in rows:
        data = orjson.loads(only_new.decrypt(row.sealed, associated_data(row.organization_id, row.id)))
        assert data == CUSTOM_CREDENTIAL["data"]
    code, out, _ = await _run_cli("rotate-keys", "--json", env=env)
    assert orjson.loads(out)["moved"] == 0
    rekeyed = await AuditEntry.filter(type="credential.rekeyed").order_by("resource_id")
    assert [(e.resource_id, e.actor) for e in rekeyed] == [(i, "system:rotate-keys") for i in sorted(ids)]
    assert all(e.changes["before"]["keyId"] == "test" and e.changes["after"]["keyId"] == "new" for e in rekeyed)

    # the app, with the old key removed from its settings, still runs a connector on a rotated credential
    api = CustomerApi()
    port = free_port()
    async with serving(api):
        connector = await make_custom_connector(tenant, api.base_url)
        await _run_cli("rotate-keys", env=env)
        serve_env = gatehouse_env(DATABASE_URL=DATABASE_URL, GATEHOUSE_ENCRYPTION_KEYS=new_key,
                                  GATEHOUSE_ALLOW_PRIVATE_TARGETS="true", GATEHOUSE_INPROCESS_WORKERS="false")
        with running("serve", "--port", str(port), env=serve_env, port=port):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=tenant.headers) as c:
                ran = await c.post(f"/api/v1/connectors/{connector}/actions/delete", json={"input": DOC_INPUT})
    assert ran.status_code == 200, ran.text
    assert api.requests[0].headers["X-Customer-Key"] == CUSTOMER_KEY


def test_embedded_mode_creates_its_key_file_once_with_mode_0600(tmp_path: Path) -> None:
    database = tmp_path / "gatehouse.db"
    env = gatehouse_env(DATABASE_URL=f"sqlite://{database}", GATEHOUSE_ENCRYPTION_KEYS="")
    port = free_port()
    with running("serve", "--port", str(port), env=env, port=port):
        pass
    key_file = tmp_path / "gatehouse.db.encryption-keys"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    first = key_file.read_text()
    Keyring.parse(first)
    with running("serve", "--port", str(port), env=env, port=port):
        pass
    assert key_file.read_text() == first


def test_production_mode_without_keys_stops_at_start_with_one_line() -> None:
    env = gatehouse_env(DATABASE_URL=DATABASE_URL, GATEHOUSE_ENCRYPTION_KEYS="")
    for command in ("serve", "worker"):
        done = run_cli(command, env=env)
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "GATEHOUSE_ENCRYPTION_KEYS is not set" in lines[0], done.stderr
