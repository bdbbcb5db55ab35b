"""The data fields each known provider needs, checked when a credential is written (400 naming
the missing field), so a connector never discovers at run time that its secret is incomplete.

Providers not listed here are accepted with any data: a credential may serve a custom use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from resolvers.errors import Invalid
from resolvers.webhooks.validation import check_headers, header_name_ok, header_value_ok

Check = Callable[[dict[str, Any]], None]


def _text(data: dict[str, Any], name: str) -> None:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"data.{name} is required (a non-empty string)")


def port_number(value: Any) -> int | None:
    """A port given as an int or as ASCII digits ("587"); None for anything else. str.isdigit()
    alone also takes superscripts and other digits that int() refuses ("¹"), and int() refuses
    more than 4300 digits: both were a 500."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 5:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        return None
    return value


def _smtp(data: dict[str, Any]) -> None:
    _text(data, "host")
    port = port_number(data.get("port"))
    if port is None:
        raise Invalid("data.port is required (a port number, 1-65535)")
    _text(data, "user")
    _text(data, "password")


def _http(data: dict[str, Any]) -> None:
    """One form of authentication, each sent in a header: a value that cannot be one (a line break,
    non-ASCII text) was stored, and every call then failed naming the URL, not the credential."""
    if "token" in data:
        _text(data, "token")
        _header_value(data, "token")
    elif "username" in data or "password" in data:
        _text(data, "username")
        _text(data, "password")  # both go base64-encoded
        if ":" in data["username"]:
            raise Invalid("data.username must not contain ':' (Basic authentication joins the two with it)")
    elif "apiKey" in data or "header" in data:
        _text(data, "apiKey")
        _text(data, "header")
        if not header_name_ok(data["header"]):
            raise Invalid("data.header must be an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)")
        _header_value(data, "apiKey")
    else:
        raise Invalid("data needs one of: token; username and password; apiKey and header")


MAX_SECRET_HEADER = 8192  # a long JWT fits


def _header_value(data: dict[str, Any], name: str) -> None:
    if not header_value_ok(data[name], MAX_SECRET_HEADER):
        raise Invalid(f"data.{name} is sent in a header: at most {MAX_SECRET_HEADER} printable ASCII characters, "
                      "no line breaks")


def sendable_secret(secrets: dict[str, Any], name: str, caller: str) -> str:
    """The credential's `name`, to send in an Authorization header; Invalid naming it when it is
    missing or, stored before credentials checked it (`_header_secret`), cannot be sent."""
    value = secrets.get(name)
    if not value:
        raise Invalid(f"{caller} needs a credential with {name}")
    if not header_value_ok(value, MAX_SECRET_HEADER):
        raise Invalid(f"{caller}: the credential's {name} cannot be sent in a header (printable ASCII only, "
                      "no line breaks); update the credential")
    return str(value)


def _header_secret(name: str) -> Check:
    """A secret sent in the Authorization header (Slack's and Discord's bot token, Stripe's secret
    key): a line break or non-ASCII text was stored, and every call then failed naming the URL."""

    def check(data: dict[str, Any]) -> None:
        _text(data, name)
        _header_value(data, name)

    return check


def _custom_api(data: dict[str, Any]) -> None:
    headers = data.get("headers")
    if not isinstance(headers, dict) or not headers:
        raise Invalid("data.headers is required (an object of header names to string values)")
    try:
        check_headers(headers)
    except Invalid as exc:
        raise Invalid(f"data.{exc.message}") from None


CHECKS: dict[str, Check] = {
    "slack": _header_secret("bot_token"),
    "smtp": _smtp,
    "stripe": _header_secret("secret_key"),
    "discord": _header_secret("bot_token"),
    "http": _http,
    "custom_api": _custom_api,
}
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "slack": ("bot_token",),
    "smtp": ("host", "port", "user", "password"),
    "stripe": ("secret_key",),
    "discord": ("bot_token",),
    "http": (),
    "custom_api": ("headers",),
}


def check_data(provider: str, data: dict[str, Any]) -> None:
    """Raise Invalid naming the first missing or mistyped field for `provider`."""
    check = CHECKS.get(provider)
    if check is not None:
        check(data)
