"""Stripe: customers, invoice items, invoices and payment intents over Stripe's REST API.

Stripe takes form-encoded bodies with nested fields flattened (`metadata[plan]=pro`,
`expand[0]=a`), a Bearer secret key, and an `Idempotency-Key` on every POST so a retried call
(workflows keep the key across retries) replays Stripe's first answer instead of charging twice.
Stripe's own error message and code become the `ProviderFailure`; 402 card errors are permanent.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from resolvers.connectors.failures import ProviderFailure, is_retryable_status
from resolvers.connectors.kinds import JSON, Action, ActionCall, ConnectorKind, schema
from resolvers.connectors.transport import Answer, send
from resolvers.credentials.requirements import sendable_secret
from resolvers.errors import Invalid

CUSTOMER_ID = re.compile(r"^cus_[A-Za-z0-9]+$")
MAX_IDEMPOTENCY_KEY = 255  # Stripe refuses longer keys

METADATA = {
    "type": "object",
    "maxProperties": 50,
    "propertyNames": {"minLength": 1, "maxLength": 40, "pattern": r"^[^\[\]]+$"},
    "additionalProperties": {"type": "string", "maxLength": 500},
}
CUSTOMER = {"type": "string", "pattern": CUSTOMER_ID.pattern, "maxLength": 255}
CURRENCY = {"type": "string", "pattern": "^[a-z]{3}$", "description": "ISO 4217, lowercase"}
TEXT = {"type": "string", "maxLength": 5000}
AMOUNT = {"type": "integer", "minimum": 1, "description": "in the currency's minor unit (cents)"}

CONFIG = schema({
    "stripeAccount": {"type": "string", "pattern": "^acct_[A-Za-z0-9]+$",
                      "description": "a connected account (Connect), sent as Stripe-Account"},
})

CREATE_CUSTOMER_INPUT = schema({
    "email": {"type": "string", "maxLength": 512},
    "name": {"type": "string", "maxLength": 256},
    "description": TEXT,
    "phone": {"type": "string", "maxLength": 20},
    "metadata": METADATA,
})
CREATE_INVOICE_ITEM_INPUT = schema(
    {
        "customer": CUSTOMER,
        "amount": {"type": "integer", "description": "in the currency's minor unit; negative for a credit"},
        "currency": CURRENCY,
        "price": {"type": "string", "pattern": "^price_[A-Za-z0-9]+$"},
        "description": TEXT,
        "invoice": {"type": "string", "pattern": "^in_[A-Za-z0-9]+$"},
        "metadata": METADATA,
    },
    ["customer"],
    oneOf=[
        {"required": ["amount", "currency"], "not": {"required": ["price"]}},
        {"required": ["price"], "not": {"required": ["amount"]}},
    ],
)
CREATE_INVOICE_INPUT = schema(
    {
        "customer": CUSTOMER,
        "description": TEXT,
        "collection_method": {"type": "string", "enum": ["charge_automatically", "send_invoice"]},
        "days_until_due": {"type": "integer", "minimum": 0},
        "auto_advance": {"type": "boolean"},
        "metadata": METADATA,
    },
    ["customer"],
)
CREATE_PAYMENT_INTENT_INPUT = schema(
    {
        "amount": AMOUNT,
        "currency": CURRENCY,
        "customer": CUSTOMER,
        "description": TEXT,
        "payment_method": {"type": "string", "maxLength": 255, "description": "needed to confirm"},
        "payment_method_types": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        "metadata": METADATA,
        "confirm": {"type": "boolean"},
    },
    ["amount", "currency"],
)
RETRIEVE_CUSTOMER_INPUT = schema({"id": CUSTOMER}, ["id"])


def stripe_object(prefix: str, kind: str, **properties: Any) -> JSON:
    """An output schema: a Stripe object of `kind`; Stripe's other fields pass through."""
    return schema(
        {"id": {"type": "string", "pattern": f"^{prefix}_"}, "object": {"const": kind}, **properties},
        ["id", "object"],
        additionalProperties=True,
    )


CUSTOMER_OUTPUT = stripe_object("cus", "customer")
INVOICE_ITEM_OUTPUT = stripe_object("ii", "invoiceitem")
INVOICE_OUTPUT = stripe_object("in", "invoice")
PAYMENT_INTENT_OUTPUT = stripe_object("pi", "payment_intent", client_secret={"type": ["string", "null"]})


def form_encode(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Flatten params the way Stripe reads them: `a[b][c]=v`, `list[0]=x`, booleans as true/false.
    None is left out (Stripe's way to unset a field is an empty string, which is kept)."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        pairs.extend(_encode_value(f"{prefix}[{key}]" if prefix else str(key), value))
    return pairs


def _encode_value(name: str, value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        return form_encode(value, name)
    if isinstance(value, list | tuple):
        return [pair for index, item in enumerate(value) for pair in _encode_value(f"{name}[{index}]", item)]
    if isinstance(value, bool):
        return [(name, "true" if value else "false")]
    return [(name, str(value))]


def idempotency_key(call: ActionCall) -> str:
    """The caller's key, or a stable digest of it when longer than Stripe accepts."""
    key = call.idempotency_key
    if len(key) <= MAX_IDEMPOTENCY_KEY:
        return key
    return "gatehouse-" + hashlib.sha256(key.encode()).hexdigest()


def headers(call: ActionCall) -> dict[str, str]:
    sent = {"Authorization": f"Bearer {sendable_secret(call.secrets, 'secret_key', 'stripe')}"}
    if call.config.get("stripeAccount"):
        sent["Stripe-Account"] = str(call.config["stripeAccount"])
    return sent


def stripe_error(answer: Answer) -> JSON:
    """Stripe's `error` object from a failed answer, or {} when the body is not one."""
    body = answer.json()
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def is_retryable(status: int, error: JSON) -> bool:
    """409 is a conflict to give up on unless Stripe says its own side was busy (lock_timeout)."""
    if status == 409:
        return error.get("type") == "api_error" or error.get("code") == "lock_timeout"
    return is_retryable_status(status)


def describe(answer: Answer, error: JSON) -> str:
    if not error.get("message"):
        return f"HTTP {answer.status}: {answer.text()}"
    codes = ", ".join(str(error[name]) for name in ("code", "decline_code") if error.get(name))
    return f"{error['message']} ({codes})" if codes else str(error["message"])


def failure(answer: Answer) -> ProviderFailure:
    error = stripe_error(answer)
    retryable = is_retryable(answer.status, error)
    return ProviderFailure(
        f"stripe: {describe(answer, error)}", retryable=retryable, status=answer.status,
        retry_after=answer.retry_after if retryable else None,
    )


def stripe_result(answer: Answer) -> JSON:
    """The object of a 2xx answer; any other answer is raised as Stripe described it."""
    if not 200 <= answer.status < 300:
        raise failure(answer)
    body = answer.json()
    if not isinstance(body, dict) or "id" not in body or "object" not in body:
        raise ProviderFailure(f"stripe: answer is not a Stripe object: {answer.text(200)}",
                              retryable=False, status=answer.status)
    return body


async def post(call: ActionCall, path: str) -> JSON:
    """POST the action's input, form-encoded, under the call's idempotency key."""
    answer = await send(
        call, "POST", call.settings.stripe_api_url + path,
        headers={**headers(call), "Idempotency-Key": idempotency_key(call),
                 "Content-Type": "application/x-www-form-urlencoded"},
        content=urlencode(form_encode(call.input)).encode("ascii"),
    )
    return stripe_result(answer)


async def create_customer(call: ActionCall) -> JSON:
    return await post(call, "/v1/customers")


async def create_invoice_item(call: ActionCall) -> JSON:
    return await post(call, "/v1/invoiceitems")


async def create_invoice(call: ActionCall) -> JSON:
    return await post(call, "/v1/invoices")


async def create_payment_intent(call: ActionCall) -> JSON:
    return await post(call, "/v1/payment_intents")


async def retrieve_customer(call: ActionCall) -> JSON:
    """GET one customer; the id is checked here too because it becomes part of the path."""
    customer_id = str(call.input.get("id", ""))
    if not CUSTOMER_ID.fullmatch(customer_id):
        raise Invalid("input.id must be a Stripe customer id (cus_ followed by letters and digits)")
    answer = await send(call, "GET", f"{call.settings.stripe_api_url}/v1/customers/{customer_id}",
                        headers=headers(call))
    customer = stripe_result(answer)
    if customer.get("deleted"):
        raise ProviderFailure(f"stripe: customer {customer_id} is deleted", retryable=False, status=answer.status)
    return customer


KIND = ConnectorKind(
    type="stripe",
    name="Stripe",
    description="Create customers, invoice items, invoices and payment intents in Stripe",
    credential_type="api_key",
    credential_required=True,
    required_fields=("secret_key",),
    config_schema=CONFIG,
    actions={
        "create_customer": Action("create_customer", "Create a customer", CREATE_CUSTOMER_INPUT,
                                  CUSTOMER_OUTPUT, create_customer),
        "create_invoice_item": Action("create_invoice_item", "Add a line (amount or price) to a customer's next "
                                      "invoice", CREATE_INVOICE_ITEM_INPUT, INVOICE_ITEM_OUTPUT, create_invoice_item),
        "create_invoice": Action("create_invoice", "Create a draft invoice from a customer's pending items",
                                 CREATE_INVOICE_INPUT, INVOICE_OUTPUT, create_invoice),
        "create_payment_intent": Action("create_payment_intent", "Create (and optionally confirm) a payment intent",
                                        CREATE_PAYMENT_INTENT_INPUT, PAYMENT_INTENT_OUTPUT, create_payment_intent),
        "retrieve_customer": Action("retrieve_customer", "Fetch a customer by id", RETRIEVE_CUSTOMER_INPUT,
                                    CUSTOMER_OUTPUT, retrieve_customer),
    },
)
