"""A fake Stripe API, as strict about the wire format as Stripe is.

It wants `Authorization: Bearer <key>`, form-encoded POST bodies, and flattened nested params
(`metadata[k]`, `list[0]`, `true`/`false`, integers as digits); anything else is answered with the
400/401 Stripe would give, in Stripe's error shape. A repeated `Idempotency-Key` replays the first
stored answer when the request is the same and is an `idempotency_error` when it is not. Created
customers are kept so they can be retrieved; `pm_card_chargeDeclined` declines like Stripe's test card.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.connectors.fakes.base import FakeProvider, json_response

JSON = dict[str, Any]
KEY = re.compile(r"^([a-z_]+)((?:\[[^\[\]]*\])*)$")
FORM = "application/x-www-form-urlencoded"


class StripeError(Exception):
    """An error answer, in Stripe's shape."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.error: JSON = {"type": type, "message": message, **extra}
        if code:
            self.error["code"] = code
        if param:
            self.error["param"] = param

    def response(self) -> web.Response:
        return json_response({"error": self.error}, status=self.status)


def missing(param: str) -> StripeError:
    return StripeError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def no_such(kind: str, value: str, param: str) -> StripeError:
    return StripeError(404 if param == "id" else 400, f"No such {kind}: '{value}'",
                       code="resource_missing", param=param)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def scalar(kind: str, name: str, value: str) -> Any:
    """A form value read as Stripe reads a param of `kind` (str, int or bool)."""
    if kind == "int":
        if not re.fullmatch(r"-?\d+", value):
            raise StripeError(400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=name)
        return int(value)
    if kind == "bool":
        if value not in ("true", "false"):
            raise StripeError(400, f"Invalid boolean: {value}", code="parameter_invalid_boolean", param=name)
        return value == "true"
    return value


def decode_form(body: bytes, spec: dict[str, str]) -> JSON:
    """Unflatten a form body by the route's param kinds: str, int, bool, hash (of strings), list."""
    params: JSON = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        match = KEY.fullmatch(key)
        if not match or match[1] not in spec:
            raise StripeError(400, f"Received unknown parameter: {key}", code="parameter_unknown", param=key)
        name, subs = match[1], re.findall(r"\[([^\[\]]*)\]", match[2])
        kind = spec[name]
        if kind == "hash" and len(subs) == 1 and subs[0]:
            params.setdefault(name, {})[subs[0]] = value
        elif kind == "list" and len(subs) == 1 and subs[0].isdigit():
            params.setdefault(name, {})[int(subs[0])] = value
        elif kind in ("str", "int", "bool") and not subs:
            params[name] = scalar(kind, name, value)
        else:
            raise StripeError(400, f"Invalid {kind} for {key}", code="parameter_invalid", param=name)
    for name, kind in spec.items():
        if kind == "list" and name in params:
            items = params[name]
            if sorted(items) != list(range(len(items))):
                raise StripeError(400, f"Invalid array: {name}", code="parameter_invalid", param=name)
            params[name] = [items[index] for index in range(len(items))]
    return params


@dataclass(frozen=True)
class Route:
    params: dict[str, str]
    required: tuple[str, ...]
    create: Callable[[JSON], JSON]


@dataclass
class Stored:
    fingerprint: bytes
    status: int
    body: JSON


class StripeFake(FakeProvider):
    """Stripe's /v1 customers, invoiceitems, invoices and payment_intents, kept in memory."""

    def __init__(self, secret_key: str) -> None:
        super().__init__()
        self.secret_key = secret_key
        self.customers: dict[str, JSON] = {}
        self.invoice_items: dict[str, JSON] = {}
        self.invoices: dict[str, JSON] = {}
        self.payment_intents: dict[str, JSON] = {}
        self.prices: dict[str, JSON] = {}  # price id -> {"unit_amount": int, "currency": str}
        self.idempotent: dict[str, Stored] = {}
        routes = {
            "/v1/customers": Route(
                {"email": "str", "name": "str", "description": "str", "phone": "str", "metadata": "hash"},
                (), self._customer),
            "/v1/invoiceitems": Route(
                {"customer": "str", "amount": "int", "currency": "str", "price": "str", "description": "str",
                 "invoice": "str", "metadata": "hash"},
                ("customer",), self._invoice_item),
            "/v1/invoices": Route(
                {"customer": "str", "description": "str", "collection_method": "str", "days_until_due": "int",
                 "auto_advance": "bool", "metadata": "hash"},
                ("customer",), self._invoice),
            "/v1/payment_intents": Route(
                {"amount": "int", "currency": "str", "customer": "str", "description": "str",
                 "payment_method": "str", "payment_method_types": "list", "metadata": "hash", "confirm": "bool"},
                ("amount", "currency"), self._payment_intent),
        }
        for path, route in routes.items():
            self.app.router.add_post(path, self._poster(route))
        self.app.router.add_get("/v1/customers/{id}", self._retrieve_customer)

    def delete_customer(self, customer_id: str) -> None:
        """What Stripe keeps of a deleted customer."""
        self.customers[customer_id] = {"id": customer_id, "object": "customer", "deleted": True}

    # -- the protocol ---------------------------------------------------------------------------

    def _authorize(self, request: web.Request) -> None:
        given = request.headers.get("Authorization", "")
        if not given:
            raise StripeError(401, "You did not provide an API key. You need to provide your API key in the "
                                   "Authorization header, using Bearer auth "
                                   "(e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
        if given != f"Bearer {self.secret_key}":
            shown = given.removeprefix("Bearer ")[:8]
            raise StripeError(401, f"Invalid API Key provided: {shown}****")

    def _poster(self, route: Route) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            try:
                self._authorize(request)
                return await self._post(request, route)
            except StripeError as exc:
                return exc.response()
        return handle

    async def _post(self, request: web.Request, route: Route) -> web.Response:
        if request.content_type != FORM:
            raise StripeError(400, f"Invalid request: unsupported Content-Type {request.content_type}. "
                                   f"Stripe takes {FORM} bodies.")
        body = await request.read()
        params = decode_form(body, route.params)
        for name in route.required:
            if name not in params:
                raise missing(name)
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return self._answer(route, params)[0]
        return self._idempotent(key, request.path.encode() + b"?" + body, route, params)

    def _idempotent(self, key: str, fingerprint: bytes, route: Route, params: JSON) -> web.Response:
        """Stripe saves the first answer under the key and replays it for the same request."""
        stored = self.idempotent.get(key)
        if stored is None:
            response, status, body = self._answer(route, params)
            self.idempotent[key] = Stored(fingerprint, status, body)
            return response
        if stored.fingerprint != fingerprint:
            raise StripeError(400, "Keys for idempotent requests can only be used with the same parameters they "
                                   f"were first used with. Try using a key other than '{key}' if you meant to "
                                   "execute a different request.", type="idempotency_error")
        return json_response(stored.body, status=stored.status, headers={"Idempotent-Replayed": "true"})

    def _answer(self, route: Route, params: JSON) -> tuple[web.Response, int, JSON]:
        try:
            status, body = 200, route.create(params)
        except StripeError as exc:
            status, body = exc.status, {"error": exc.error}
        return json_response(body, status=status), status, body

    async def _retrieve_customer(self, request: web.Request) -> web.Response:
        try:
            self._authorize(request)
            customer_id = request.match_info["id"]
            if customer_id not in self.customers:
                raise no_such("customer", customer_id, "id")
            return json_response(self.customers[customer_id])
        except StripeError as exc:
            return exc.response()

    # -- the objects ----------------------------------------------------------------------------

    def _object(self, prefix: str, kind: str, params: JSON, **fields: Any) -> JSON:
        return {"id": new_id(prefix), "object": kind, "created": int(time.time()), "livemode": False,
                "description": params.get("description"), "metadata": params.get("metadata", {}), **fields}

    def _known_customer(self, customer_id: str | None) -> str | None:
        if customer_id is not None and self.customers.get(customer_id, {"deleted": True}).get("deleted"):
            raise no_such("customer", customer_id, "customer")
        return customer_id

    def _customer(self, params: JSON) -> JSON:
        customer = self._object("cus", "customer", params, email=params.get("email"), name=params.get("name"),
                                phone=params.get("phone"), balance=0, currency=None, delinquent=False)
        self.customers[customer["id"]] = customer
        return customer

    def _invoice_item(self, params: JSON) -> JSON:
        customer = self._known_customer(params["customer"])
        if "price" in params:
            price = self.prices.get(params["price"]) or {}
            if not price:
                raise no_such("price", params["price"], "price")
            amount, currency = price["unit_amount"], price["currency"]
        else:
            for name in ("amount", "currency"):
                if name not in params:
                    raise missing(name)
            amount, currency = params["amount"], params["currency"]
        if params.get("invoice") and params["invoice"] not in self.invoices:
            raise no_such("invoice", params["invoice"], "invoice")
        item = self._object("ii", "invoiceitem", params, customer=customer, amount=amount, currency=currency,
                            invoice=params.get("invoice"), price=params.get("price"), quantity=1,
                            date=int(time.time()), proration=False, discountable=True)
        self.invoice_items[item["id"]] = item
        return item

    def _invoice(self, params: JSON) -> JSON:
        customer = self._known_customer(params["customer"])
        method = params.get("collection_method", "charge_automatically")
        if method not in ("charge_automatically", "send_invoice"):
            raise StripeError(400, f"Invalid collection_method: {method}", code="parameter_invalid",
                              param="collection_method")
        if method == "send_invoice" and "days_until_due" not in params:
            raise missing("days_until_due")
        invoice = self._object("in", "invoice", params, customer=customer, status="draft", collection_method=method,
                               days_until_due=params.get("days_until_due"),
                               auto_advance=params.get("auto_advance", False), amount_due=0, currency="usd")
        self.invoices[invoice["id"]] = invoice
        return invoice

    def _payment_intent(self, params: JSON) -> JSON:
        if params["amount"] < 1:
            raise StripeError(400, "This value must be greater than or equal to 1.",
                              code="parameter_invalid_integer", param="amount")
        intent = self._object("pi", "payment_intent", params, amount=params["amount"], currency=params["currency"],
                              customer=self._known_customer(params.get("customer")),
                              payment_method=params.get("payment_method"),
                              payment_method_types=params.get("payment_method_types", ["card"]),
                              status="requires_payment_method")
        intent["client_secret"] = f"{intent['id']}_secret_{secrets.token_hex(12)}"
        if params.get("confirm"):
            self._confirm(intent)
        self.payment_intents[intent["id"]] = intent
        return intent

    def _confirm(self, intent: JSON) -> None:
        if not intent["payment_method"]:
            raise StripeError(400, "You cannot confirm this PaymentIntent because it's missing a payment method.",
                              code="payment_intent_unexpected_state")
        if intent["payment_method"] == "pm_card_chargeDeclined":
            raise StripeError(402, "Your card was declined.", type="card_error", code="card_declined",
                              decline_code="generic_decline", payment_intent={"id": intent["id"]})
        intent["status"] = "succeeded"
