"""A pending card whose deadline has passed says so ("past its deadline"): the server refuses a
decision from then, before the expiry worker closes the action. It said "expiring now"."""

from __future__ import annotations

from tests.conftest import Tenant
from tests.console.conftest import OpenReviewer

# The console's own module, in the page that loaded it: a card drawn after the deadline, and one
# drawn before it and then re-timed by the page's clock past it.
DRAWN = """async () => {
  const { until, retime } = await import("/console/js/render.js");
  const now = Date.now();
  const late = until(new Date(now - 1000).toISOString(), now);
  const early = document.createElement("div");
  early.append(until(new Date(now + 90 * 60_000).toISOString(), now));
  const before = early.textContent;
  retime(early, now + 91 * 60_000);
  return [late.textContent, before, early.textContent];
}"""


async def test_a_passed_deadline_reads_as_passed(server: str, tenant: Tenant, reviewer: OpenReviewer) -> None:
    person = await reviewer()
    await person.open("/console")
    await person.sign_in(tenant.key)
    late, before, after = await person.page.evaluate(DRAWN)
    assert late == "past its deadline" and after == "past its deadline"
    assert before.endswith(" left") and before != after
