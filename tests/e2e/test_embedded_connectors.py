"""Credentials and connectors in the embedded mode: SQLite, the key file made on first start, a
custom_api action run against a local endpoint, a credential in use refused deletion."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson

from tests.conftest import free_port
from tests.connectors.fakes.base import serving
from tests.connectors.fakes.customer import CUSTOMER_KEY, CustomerApi
from tests.connectors.test_custom_api import CUSTOM_CREDENTIAL, DOC_INPUT
from tests.processes import gatehouse_env, run_cli, running


async def test_connectors_work_on_sqlite_with_the_embedded_key_file(tmp_path: Path) -> None:
    env = gatehouse_env(DATABASE_URL=f"sqlite://{tmp_path}/gatehouse.db", GATEHOUSE_ENCRYPTION_KEYS="",
                        GATEHOUSE_ALLOW_PRIVATE_TARGETS="true")
    port = free_port()
    api = CustomerApi()
    async with serving(api):
        with running("serve", "--port", str(port), env=env, port=port):
            key = orjson.loads(run_cli("create-org", "solo", "--json", env=env).stdout)["apiKey"]
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                         headers={"Authorization": f"Bearer {key}"}) as c:
                credential = (await c.post("/api/v1/credentials", json=CUSTOM_CREDENTIAL)).json()
                assert credential["keyId"] == "local" and credential["fields"] == ["headers"]
                connector = (await c.post("/api/v1/connectors", json={
                    "name": "m", "type": "custom_api", "credentialId": credential["id"],
                    "config": {"actions": {"delete": {"url": f"{api.base_url}/actions/delete"}}}})).json()
                ran = await c.post(f"/api/v1/connectors/{connector['id']}/actions/delete", json={"input": DOC_INPUT})
                in_use = await c.delete(f"/api/v1/credentials/{credential['id']}")
                calls = (await c.get(f"/api/v1/connectors/{connector['id']}/calls")).json()
                # the connector's delete and a workflow's save lock on SQLite too (one transaction at a time)
                steps = [{"name": "d", "type": "connector", "config": {
                    "connectorId": connector["id"], "action": "delete", "input": DOC_INPUT}}]
                workflow = await c.post("/api/v1/workflows", json={"name": "w", "definition": {"steps": steps}})
                called = await c.delete(f"/api/v1/connectors/{connector['id']}")
                await c.delete(f"/api/v1/workflows/{workflow.json()['id']}")
                deleted = await c.delete(f"/api/v1/connectors/{connector['id']}")
                gone = await c.post("/api/v1/workflows", json={"name": "w", "definition": {"steps": steps}})
    assert ran.status_code == 200, ran.text
    assert api.requests[0].headers["X-Customer-Key"] == CUSTOMER_KEY and CUSTOMER_KEY not in ran.text
    assert in_use.status_code == 409 and connector["id"] in in_use.json()["message"]
    assert [call["status"] for call in calls] == ["succeeded"]
    assert (tmp_path / "gatehouse.db.encryption-keys").exists()
    assert workflow.status_code == 201, workflow.text
    assert called.status_code == 409 and workflow.json()["id"] in called.json()["message"], called.text
    assert deleted.status_code == 200, deleted.text
    assert gone.status_code == 400 and "not found" in gone.json()["message"], gone.text
