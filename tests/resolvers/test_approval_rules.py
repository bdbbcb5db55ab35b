"""Pure pieces of issue 14's approvals: the grant hash, `grantFor` windows and notice messages."""

from __future__ import annotations

import pytest

from resolvers.governance.engine import ActionFacts, PolicySpec, decide
from resolvers.governance.grants import grant_hash
from resolvers.governance.rules import RuleError, validate_rules
from resolvers.notifications.messages import input_for, key_params, text_of

DATA = {"actionId": "act_1", "type": "refund", "target": "cus_1", "actor": {"kind": "agent", "name": "bot"},
        "params": {"amount": 40, "note": "x" * 200}, "status": "pending_approval",
        "approvalUrl": "https://g.test/console/approve/act_1", "reason": None}


def test_grant_hash_is_canonical_and_binds_every_part() -> None:
    base = grant_hash("org_a", "refund", "cus_1", {"a": 1, "b": {"y": 2, "x": [1, {"k": 1, "j": 2}]}})
    assert base == grant_hash("org_a", "refund", "cus_1", {"b": {"x": [1, {"j": 2, "k": 1}], "y": 2}, "a": 1})
    assert len(base) == 64 and int(base, 16) >= 0
    others = [grant_hash("org_b", "refund", "cus_1", {"a": 1}), grant_hash("org_a", "refunds", "cus_1", {"a": 1}),
              grant_hash("org_a", "refund", None, {"a": 1}), grant_hash("org_a", "refund", "cus_1", {"a": 1.5})]
    assert len({base, *others}) == 5


@pytest.mark.parametrize(("given", "seconds", "text"), [("90s", 90, "90s"), ("10m", 600, "10m"), ("2h", 7200, "2h"),
                                                         ("1d", 86400, "1d"), (120, 120, "2m"), ("3600s", 3600, "1h")])
def test_grant_for_durations(given: object, seconds: int, text: str) -> None:
    [rule] = validate_rules([{"when": {"actionType": "refund"}, "grantFor": given}])
    assert rule.grant_for == seconds and rule.to_json()["grantFor"] == text


@pytest.mark.parametrize("bad", ["10x", "", "m", 0, -1, True, 1.5, "31d", "1h30m", [1]])
def test_bad_grant_for_names_the_field(bad: object) -> None:
    with pytest.raises(RuleError) as err:
        validate_rules([{"grantFor": bad}])
    assert err.value.path == "rules[0].grantFor"


def test_a_window_needs_every_matching_rule_to_give_one() -> None:
    window = validate_rules([{"when": {"actionType": "refund"}, "grantFor": "10m"}])
    narrower = validate_rules([{"when": {"actionType": "refund"}, "grantFor": "1m"}])
    without = validate_rules([{"when": {"actionType": "refund"}}])
    facts = ActionFacts("refund", "agent")
    assert decide([PolicySpec("p1", "enforce", window)], facts).grant_for == 600
    assert decide([PolicySpec("p1", "enforce", window), PolicySpec("p2", "enforce", narrower)], facts).grant_for == 60
    assert decide([PolicySpec("p1", "enforce", window), PolicySpec("p2", "enforce", without)], facts).grant_for is None
    assert decide([PolicySpec("p1", "enforce", window)], ActionFacts("other", "agent")).grant_for is None


def test_notice_text_carries_the_approval_url_and_short_key_params() -> None:
    text = text_of("action.pending_approval", DATA)
    assert "https://g.test/console/approve/act_1" in text and "waits for approval" in text
    assert "amount=40" in text and "x" * 100 not in text
    assert len(key_params({str(i): i for i in range(20)})) == 8
    assert input_for("slack", "send_message", {"channel": "C1"}, "action.approved", DATA)["channel"] == "C1"
    mail = input_for("smtp", "send_email", {"to": ["a@b.c"]}, "action.rejected", {**DATA, "reason": "no"})
    assert mail["subject"] == "[Gatehouse] refund was rejected" and "Reason: no" in mail["text"]
    custom = input_for("custom_api", "escalate", {"custom": {"team": "ops"}}, "action.escalated", DATA)
    assert custom["content"] == {"id": "act_1", "content_type": "gatehouse.action"}
    assert custom["custom"]["team"] == "ops" and custom["custom"]["approvalUrl"] == DATA["approvalUrl"]
