"""The Stripe provider against a fake Stripe over a real socket: wire format, idempotency, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from resolvers.connectors.failures import ProviderFailure
from resolvers.connectors.providers.stripe import KIND, form_encode
from resolvers.errors import Invalid
from tests.connectors.calls import action_call
from tests.connectors.fakes.base import Seen, serving
from tests.connectors.fakes.stripe import StripeFake

SECRET = "sk_test_51GatehouseFakeKey000000000000"
FORM = "application/x-www-form-urlencoded"
JSON = dict[str, Any]


@pytest.fixture
async def fake() -> AsyncIterator[StripeFake]:
    stripe = StripeFake(SECRET)
    async with serving(stripe):
        yield stripe


async def run(fake: StripeFake, action: str, input: JSON, *, key: str = "idem-1",
              config: JSON | None = None, secret: str = SECRET) -> JSON:
    """Run one action as the runner would: input valid for its schema, output checked against its schema."""
    spec = KIND.actions[action]
    Draft202012Validator(spec.input_schema).validate(input)
    async with action_call(input, {"secret_key": secret}, config, idempotency_key=key,
                           stripe_api_url=fake.base_url) as call:
        output = await spec.run(call)
    Draft202012Validator(spec.output_schema).validate(output)
    return output


async def failure(fake: StripeFake, action: str, input: JSON, **kwargs: Any) -> ProviderFailure:
    with pytest.raises(ProviderFailure) as caught:
        await run(fake, action, input, **kwargs)
    return caught.value


def headers(seen: Seen) -> dict[str, str]:
    return {name.lower(): value for name, value in seen.headers.items()}


async def customer(fake: StripeFake, **fields: Any) -> JSON:
    """A customer to refer to, created under its own idempotency key."""
    key = f"setup-{len(fake.customers)}"
    return await run(fake, "create_customer", {"email": "ada@example.com", **fields}, key=key)


# -- form encoding --------------------------------------------------------------------------------


def test_form_encode_flattens_nested_params_the_stripe_way() -> None:
    params = {
        "email": "ada@example.com",
        "metadata": {"plan": "pro", "seats": "3"},
        "expand": ["customer", "invoice"],
        "a": {"b": {"c": "v"}},
        "confirm": True,
        "auto_advance": False,
        "amount": 1500,
        "items": [{"price": "price_1", "quantity": 2}],
        "left_out": None,
        "unset": "",
    }
    assert form_encode(params) == [
        ("email", "ada@example.com"),
        ("metadata[plan]", "pro"),
        ("metadata[seats]", "3"),
        ("expand[0]", "customer"),
        ("expand[1]", "invoice"),
        ("a[b][c]", "v"),
        ("confirm", "true"),
        ("auto_advance", "false"),
        ("amount", "1500"),
        ("items[0][price]", "price_1"),
        ("items[0][quantity]", "2"),
        ("unset", ""),
    ]


def test_form_encode_of_nothing_is_empty() -> None:
    assert form_encode({}) == []
    assert form_encode({"metadata": {}, "expand": []}) == []


# -- the kind and its schemas ---------------------------------------------------------------------


def test_kind_describes_stripe() -> None:
    assert (KIND.type, KIND.name, KIND.credential_type) == ("stripe", "Stripe", "api_key")
    assert KIND.credential_required is True
    assert KIND.required_fields == ("secret_key",)
    assert set(KIND.actions) == {"create_customer", "create_invoice_item", "create_invoice",
                                 "create_payment_intent", "retrieve_customer"}
    assert all(name == action.name for name, action in KIND.actions.items())


def test_every_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(KIND.config_schema)
    for action in KIND.actions.values():
        Draft202012Validator.check_schema(action.input_schema)
        Draft202012Validator.check_schema(action.output_schema)
        assert action.input_schema["additionalProperties"] is False
        assert action.output_schema["required"] == ["id", "object"]
        assert action.output_schema["additionalProperties"] is True


@pytest.mark.parametrize(("action", "input"), [
    ("create_customer", {"email": "a@b.c", "extra": 1}),
    ("create_customer", {"metadata": {"plan": 3}}),
    ("create_customer", {"metadata": {"a[b]": "x"}}),
    ("create_invoice_item", {"customer": "cus_1", "amount": 100}),
    ("create_invoice_item", {"customer": "cus_1", "amount": 100, "currency": "usd", "price": "price_1"}),
    ("create_invoice_item", {"customer": "cus_1", "amount": 100, "currency": "USD"}),
    ("create_invoice_item", {"amount": 100, "currency": "usd"}),
    ("create_invoice", {"customer": "cus_1", "collection_method": "later"}),
    ("create_invoice", {"customer": "cus_1", "days_until_due": -1}),
    ("create_payment_intent", {"amount": 0, "currency": "usd"}),
    ("create_payment_intent", {"amount": 10.5, "currency": "usd"}),
    ("create_payment_intent", {"amount": 100}),
    ("create_payment_intent", {"amount": 100, "currency": "usd", "payment_method_types": "card"}),
    ("retrieve_customer", {"id": "cus_../v1/charges"}),
])
def test_input_schemas_refuse_what_stripe_cannot_use(action: str, input: JSON) -> None:
    assert not Draft202012Validator(KIND.actions[action].input_schema).is_valid(input)


def test_config_schema() -> None:
    validator = Draft202012Validator(KIND.config_schema)
    assert validator.is_valid({})
    assert validator.is_valid({"stripeAccount": "acct_1Abc"})
    assert not validator.is_valid({"stripeAccount": "acct_1\r\nX-Evil: 1"})
    assert not validator.is_valid({"other": 1})


# -- actions --------------------------------------------------------------------------------------


async def test_create_customer_speaks_stripes_wire_format(fake: StripeFake) -> None:
    out = await run(fake, "create_customer", {"email": "ada@example.com", "name": "Ada Lovelace",
                                              "phone": "+441234", "metadata": {"plan": "pro"}}, key="idem-cus-1")
    [seen] = fake.requests
    assert (seen.method, seen.path) == ("POST", "/v1/customers")
    sent = headers(seen)
    assert sent["authorization"] == f"Bearer {SECRET}"
    assert sent["content-type"] == FORM
    assert sent["idempotency-key"] == "idem-cus-1"
    assert "stripe-account" not in sent
    assert b"metadata%5Bplan%5D=pro" in seen.body
    assert seen.form == {"email": "ada@example.com", "name": "Ada Lovelace", "phone": "+441234",
                         "metadata[plan]": "pro"}
    assert out["id"].startswith("cus_")
    assert (out["object"], out["livemode"], out["metadata"]) == ("customer", False, {"plan": "pro"})
    assert isinstance(out["created"], int)
    assert fake.customers == {out["id"]: out}


async def test_connected_account_goes_in_the_stripe_account_header(fake: StripeFake) -> None:
    await run(fake, "create_customer", {"name": "Ada"}, config={"stripeAccount": "acct_1Connected"})
    assert headers(fake.requests[0])["stripe-account"] == "acct_1Connected"


async def test_retry_with_the_same_key_replays_the_same_customer(fake: StripeFake) -> None:
    input = {"email": "ada@example.com", "metadata": {"plan": "pro"}}
    first = await run(fake, "create_customer", input, key="idem-retry")
    again = await run(fake, "create_customer", input, key="idem-retry")
    assert again == first
    assert len(fake.customers) == 1
    assert [headers(seen)["idempotency-key"] for seen in fake.requests] == ["idem-retry", "idem-retry"]
    assert fake.requests[0].body == fake.requests[1].body
    other = await run(fake, "create_customer", input, key="idem-other")
    assert other["id"] != first["id"]
    assert len(fake.customers) == 2


async def test_same_key_with_other_params_is_a_permanent_idempotency_error(fake: StripeFake) -> None:
    await run(fake, "create_customer", {"name": "Ada"}, key="idem-reused")
    error = await failure(fake, "create_customer", {"name": "Grace"}, key="idem-reused")
    assert not error.retryable
    assert error.status == 400
    assert error.message.startswith("stripe: Keys for idempotent requests can only be used with the same parameters")
    assert len(fake.customers) == 1


async def test_a_key_longer_than_stripe_takes_is_digested_stably(fake: StripeFake) -> None:
    long_key = "workflow-run-" + "x" * 300
    first = await run(fake, "create_customer", {"name": "Ada"}, key=long_key)
    again = await run(fake, "create_customer", {"name": "Ada"}, key=long_key)
    sent = [headers(seen)["idempotency-key"] for seen in fake.requests]
    assert sent[0] == sent[1]
    assert sent[0].startswith("gatehouse-") and len(sent[0]) <= 255
    assert again["id"] == first["id"]


async def test_create_invoice_item_with_amount(fake: StripeFake) -> None:
    cus = await customer(fake)
    out = await run(fake, "create_invoice_item", {"customer": cus["id"], "amount": 1500, "currency": "usd",
                                                  "description": "Pro plan", "metadata": {"plan": "pro"}},
                    key="idem-ii")
    seen = fake.requests[-1]
    assert (seen.method, seen.path) == ("POST", "/v1/invoiceitems")
    assert headers(seen)["idempotency-key"] == "idem-ii"
    assert headers(seen)["content-type"] == FORM
    assert seen.form == {"customer": cus["id"], "amount": "1500", "currency": "usd", "description": "Pro plan",
                         "metadata[plan]": "pro"}
    assert out["id"].startswith("ii_")
    assert (out["object"], out["amount"], out["currency"], out["customer"]) == ("invoiceitem", 1500, "usd", cus["id"])


async def test_create_invoice_item_with_price(fake: StripeFake) -> None:
    fake.prices["price_1Pro"] = {"unit_amount": 4900, "currency": "eur"}
    cus = await customer(fake)
    out = await run(fake, "create_invoice_item", {"customer": cus["id"], "price": "price_1Pro"}, key="idem-ii-p")
    assert fake.requests[-1].form == {"customer": cus["id"], "price": "price_1Pro"}
    assert (out["amount"], out["currency"], out["price"]) == (4900, "eur", "price_1Pro")


async def test_create_invoice(fake: StripeFake) -> None:
    cus = await customer(fake)
    out = await run(fake, "create_invoice", {"customer": cus["id"], "collection_method": "send_invoice",
                                             "days_until_due": 30, "auto_advance": False,
                                             "metadata": {"plan": "pro"}}, key="idem-in")
    seen = fake.requests[-1]
    assert (seen.method, seen.path) == ("POST", "/v1/invoices")
    assert headers(seen)["idempotency-key"] == "idem-in"
    assert seen.form == {"customer": cus["id"], "collection_method": "send_invoice", "days_until_due": "30",
                         "auto_advance": "false", "metadata[plan]": "pro"}
    assert out["id"].startswith("in_")
    assert (out["object"], out["status"], out["auto_advance"], out["days_until_due"]) == ("invoice", "draft", False, 30)


async def test_create_payment_intent(fake: StripeFake) -> None:
    cus = await customer(fake)
    out = await run(fake, "create_payment_intent", {
        "amount": 2000, "currency": "eur", "customer": cus["id"], "description": "Order 42",
        "payment_method_types": ["card", "sepa_debit"], "metadata": {"plan": "pro"}, "confirm": False,
    }, key="idem-pi")
    seen = fake.requests[-1]
    assert (seen.method, seen.path) == ("POST", "/v1/payment_intents")
    assert headers(seen)["idempotency-key"] == "idem-pi"
    assert seen.form == {"amount": "2000", "currency": "eur", "customer": cus["id"], "description": "Order 42",
                         "payment_method_types[0]": "card", "payment_method_types[1]": "sepa_debit",
                         "metadata[plan]": "pro", "confirm": "false"}
    assert out["id"].startswith("pi_")
    assert out["object"] == "payment_intent"
    assert out["client_secret"].startswith(out["id"] + "_secret_")
    assert (out["amount"], out["payment_method_types"], out["status"]) == (
        2000, ["card", "sepa_debit"], "requires_payment_method")


async def test_confirmed_payment_intent_succeeds(fake: StripeFake) -> None:
    out = await run(fake, "create_payment_intent", {"amount": 500, "currency": "usd", "payment_method": "pm_card_visa",
                                                    "confirm": True})
    assert fake.requests[-1].form["confirm"] == "true"
    assert out["status"] == "succeeded"


async def test_retrieve_customer_is_a_get_without_idempotency_key(fake: StripeFake) -> None:
    created = await customer(fake, metadata={"plan": "pro"})
    out = await run(fake, "retrieve_customer", {"id": created["id"]}, key="idem-get")
    seen = fake.requests[-1]
    assert (seen.method, seen.path, seen.body) == ("GET", f"/v1/customers/{created['id']}", b"")
    sent = headers(seen)
    assert sent["authorization"] == f"Bearer {SECRET}"
    assert "idempotency-key" not in sent
    assert out == created


# -- failures -------------------------------------------------------------------------------------


async def test_unknown_customer_is_permanent_with_stripes_message(fake: StripeFake) -> None:
    error = await failure(fake, "retrieve_customer", {"id": "cus_nope"})
    assert not error.retryable
    assert (error.status, error.retry_after) == (404, None)
    assert error.message == "stripe: No such customer: 'cus_nope' (resource_missing)"


async def test_deleted_customer_is_permanent(fake: StripeFake) -> None:
    created = await customer(fake)
    fake.delete_customer(created["id"])
    error = await failure(fake, "retrieve_customer", {"id": created["id"]})
    assert not error.retryable
    assert error.message == f"stripe: customer {created['id']} is deleted"


@pytest.mark.parametrize("bad", ["cus_../../v1/charges", "cus_abc/../x", "cus_abc?expand[]=x", "cus_", "ch_123", ""])
async def test_bad_customer_id_is_invalid_and_nothing_is_sent(fake: StripeFake, bad: str) -> None:
    async with action_call({"id": bad}, {"secret_key": SECRET}, stripe_api_url=fake.base_url) as call:
        with pytest.raises(Invalid):
            await KIND.actions["retrieve_customer"].run(call)
    assert fake.requests == []


async def test_declined_card_is_permanent_with_stripes_message(fake: StripeFake) -> None:
    input = {"amount": 500, "currency": "usd", "payment_method": "pm_card_chargeDeclined", "confirm": True}
    error = await failure(fake, "create_payment_intent", input, key="idem-declined")
    assert not error.retryable
    assert (error.status, error.retry_after) == (402, None)
    assert error.message == "stripe: Your card was declined. (card_declined, generic_decline)"
    again = await failure(fake, "create_payment_intent", input, key="idem-declined")
    assert again.message == error.message
    assert headers(fake.requests[-1])["idempotency-key"] == "idem-declined"


async def test_rate_limit_is_retryable_after_what_stripe_asked(fake: StripeFake) -> None:
    fake.fail_next(429, {"error": {"type": "invalid_request_error", "code": "rate_limit",
                                   "message": "Too many requests hit the API too quickly."}}, {"Retry-After": "7"})
    error = await failure(fake, "create_customer", {"name": "Ada"})
    assert error.retryable
    assert (error.status, error.retry_after) == (429, 7.0)
    assert error.message == "stripe: Too many requests hit the API too quickly. (rate_limit)"
    assert fake.customers == {}


async def test_server_error_is_retryable(fake: StripeFake) -> None:
    fake.fail_next(500, {"error": {"type": "api_error", "message": "Something went wrong on Stripe's end."}})
    error = await failure(fake, "create_customer", {"name": "Ada"})
    assert error.retryable
    assert (error.status, error.retry_after) == (500, None)
    assert error.message == "stripe: Something went wrong on Stripe's end."


async def test_answer_that_is_not_json_is_described_by_status(fake: StripeFake) -> None:
    fake.fail_next(502, "<html>Bad gateway</html>", {"Content-Type": "text/html"})
    error = await failure(fake, "create_customer", {"name": "Ada"})
    assert error.retryable
    assert error.message == "stripe: HTTP 502: <html>Bad gateway</html>"


@pytest.mark.parametrize(("error", "retryable"), [
    ({"type": "invalid_request_error", "code": "lock_timeout", "message": "This object cannot be accessed right now"},
     True),
    ({"type": "api_error", "message": "A conflict occurred"}, True),
    ({"type": "idempotency_error", "message": "There is currently another in-progress request"}, False),
])
async def test_conflict_is_retryable_only_when_stripe_was_busy(fake: StripeFake, error: JSON, retryable: bool) -> None:
    fake.fail_next(409, {"error": error}, {"Retry-After": "2"})
    caught = await failure(fake, "create_customer", {"name": "Ada"})
    assert caught.retryable is retryable
    assert caught.status == 409
    assert caught.retry_after == (2.0 if retryable else None)
    assert caught.message.startswith(f"stripe: {error['message']}")


async def test_wrong_key_is_permanent(fake: StripeFake) -> None:
    error = await failure(fake, "create_customer", {"name": "Ada"}, secret="sk_test_wrong_key")
    assert not error.retryable
    assert error.status == 401
    assert error.message == "stripe: Invalid API Key provided: sk_test_****"
    assert fake.customers == {}


async def test_missing_parameter_is_permanent(fake: StripeFake) -> None:
    cus = await customer(fake)
    error = await failure(fake, "create_invoice", {"customer": cus["id"], "collection_method": "send_invoice"})
    assert not error.retryable
    assert error.status == 400
    assert error.message == "stripe: Missing required param: days_until_due. (parameter_missing)"


async def test_success_that_is_not_a_stripe_object_fails(fake: StripeFake) -> None:
    fake.fail_next(200, {"ok": True})
    error = await failure(fake, "create_customer", {"name": "Ada"})
    assert not error.retryable
    assert error.message.startswith("stripe: answer is not a Stripe object")


# -- the fake is as strict as Stripe --------------------------------------------------------------


async def test_fake_refuses_what_stripe_refuses(fake: StripeFake) -> None:
    auth = {"Authorization": f"Bearer {SECRET}"}
    async with httpx.AsyncClient(base_url=fake.base_url) as client:
        unauthenticated = await client.post("/v1/customers", data={"name": "Ada"})
        as_json = await client.post("/v1/customers", json={"name": "Ada"}, headers=auth)
        flat_metadata = await client.post("/v1/customers", data={"metadata": "plan=pro"}, headers=auth)
        dotted = await client.post("/v1/customers", data={"metadata.plan": "pro"}, headers=auth)
        no_customer = await client.post("/v1/invoices", data={"description": "x"}, headers=auth)
        bad_bool = await client.post("/v1/payment_intents", headers=auth,
                                     data={"amount": "100", "currency": "usd", "confirm": "True"})
    assert unauthenticated.status_code == 401
    assert as_json.status_code == 400
    assert "Content-Type" in as_json.json()["error"]["message"]
    assert flat_metadata.status_code == dotted.status_code == bad_bool.status_code == 400
    assert no_customer.status_code == 400
    assert no_customer.json()["error"] == {"type": "invalid_request_error", "code": "parameter_missing",
                                           "param": "customer", "message": "Missing required param: customer."}
    assert fake.customers == {} and fake.invoices == {} and fake.payment_intents == {}
