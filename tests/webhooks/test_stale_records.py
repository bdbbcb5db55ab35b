"""A result recorded from a lease that another dispatcher has since overtaken changes nothing,
not even its webhook's run of failures."""

from __future__ import annotations

from datetime import timedelta

from app.core.bus import Bus
from app.core.clock import utcnow
from app.core.senders import Answer, OutgoingClient
from app.core.settings import Settings
from models.webhooks import DeliveryAttempt, Webhook, WebhookDelivery
from resolvers.context import Services
from resolvers.webhooks.dispatch import Claimed, Outcome, record_batch
from tests.conftest import Tenant


async def test_a_late_result_of_an_expired_lease_is_dropped(tenant: Tenant, settings: Settings) -> None:
    services = Services(settings=settings, bus=Bus(), http=OutgoingClient(allow_private=True))
    hook = await Webhook.create(id="wh_stale", organization_id=tenant.organization_id, name="x",
                                url="https://example.com/h", events=["*"], secret="whsec_" + "A" * 43 + "=")
    # not due for an hour: the running dispatcher leaves it alone
    delivery = await WebhookDelivery.create(id="dlv_stale", organization_id=tenant.organization_id,
                                            webhook_id=hook.id, event_id="evt_x", event_type="webhook.test",
                                            payload='{"id": "evt_x"}', status="pending",
                                            next_attempt_at=utcnow() + timedelta(hours=1))
    leased = Claimed(delivery, hook)  # type: ignore[arg-type]  # both leases saw attempts == 0
    await record_batch(services, [(leased, Outcome(Answer(200, None, "ok", 5), None))])
    await record_batch(services, [(leased, Outcome(Answer(500, None, "late", 9000), None))])
    await delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempts == 1
    assert [a.status_code for a in await DeliveryAttempt.filter(delivery_id=delivery.id)] == [200]
    await hook.refresh_from_db()  # the dropped failure did not count towards disabling the webhook
    assert hook.consecutive_failures == 0 and hook.active
    await services.http.aclose()
