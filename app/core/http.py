"""Outgoing HTTP: the one URL guard and the shared httpx client.

Every URL Gatehouse calls on a user's behalf (webhooks, `http_request` steps, connectors) goes
through `build_http_client`, whose `GuardedTransport` checks each request (redirects included):
http/https only, no credentials in the URL, and no loopback, private, link-local, metadata,
multicast or otherwise non-public address, judged after DNS resolution. `allow_private` opens
loopback and private ranges for tests and local development; link-local and cloud metadata
addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254, and names resolving to them) and the syntax
checks stay refused whatever the setting.

DNS rebinding: a name can resolve to a public address for our check and to an internal one when
the connection is made. For `http://` the transport closes that window by connecting to the very
address it checked (the `Host` header keeps the name). For `https://` it keeps the name, so TLS
verifies the certificate for it; a rebound connection then reaches a server that cannot present a
valid certificate for the attacker's name, and the handshake fails before any request is sent.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from urllib.parse import unquote

import httpx

USER_AGENT = "Gatehouse/0.1"
ALLOWED_SCHEMES = frozenset({"http", "https"})
# A host name as DNS has it (httpx's raw host is IDNA-encoded: xn-- labels): labels of letters,
# digits, hyphens (and underscores, which real names carry), 1 to 63 characters, a final dot allowed.
_HOST_NAME = re.compile(r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.?",
                        re.IGNORECASE)
DEFAULT_PORTS = {"http": 80, "https": 443}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Hosts that inet_aton reads as IPv4 although they are not dotted quads: 2130706433, 0x7f.1, 0177.0.0.1.
_NUMERIC_IPV4 = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$", re.IGNORECASE)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated (RFC 4291); Python calls ::7f00:1 global
_BLOCKED: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(network), kind)
    for network, kind in (
        ("0.0.0.0/8", "an unspecified"),
        ("10.0.0.0/8", "a private"),
        ("100.64.0.0/10", "a carrier-grade NAT"),
        ("127.0.0.0/8", "a loopback"),
        ("169.254.0.0/16", "a link-local (cloud metadata)"),
        ("172.16.0.0/12", "a private"),
        ("192.168.0.0/16", "a private"),
        ("224.0.0.0/4", "a multicast"),
        ("240.0.0.0/4", "a reserved"),
        ("::/128", "an unspecified"),
        ("::1/128", "a loopback"),
        ("::/96", "an IPv4-compatible (deprecated)"),
        ("fc00::/7", "a private (unique local)"),
        ("fe80::/10", "a link-local"),
        ("ff00::/8", "a multicast"),
    )
)
# Refused even when private targets are allowed: the cloud metadata services live here, and no
# development setup needs to call them.
_ALWAYS_BLOCKED: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(network), kind)
    for network, kind in (
        ("169.254.0.0/16", "a link-local (cloud metadata)"),
        ("fe80::/10", "a link-local"),
        ("fd00:ec2::254/128", "a cloud metadata"),
    )
)


class UnsafeURL(ValueError):
    """An outgoing URL Gatehouse refuses to call. Permanent: retrying will not help.

    The message names only the host, never the path or query, which may carry secrets.
    """

    def __init__(self, target: str, reason: str) -> None:
        self.target = target
        self.reason = reason
        super().__init__(f"Refusing outgoing request to {target or '(no host)'}: {reason}.")


def _address_problem(ip: IPAddress, allow_private: bool = False) -> str | None:
    """Why this address must not be called, or None when it may be (public, or private while
    `allow_private` is on)."""
    for embedded in _embedded_ipv4(ip):
        problem = _address_problem(embedded, allow_private)
        if problem:
            return problem
    for network, kind in _ALWAYS_BLOCKED if allow_private else _BLOCKED:
        if ip in network:
            return f"{ip} is {kind} address"
    if not allow_private and (not ip.is_global or ip.is_multicast):
        return f"{ip} is not a public address"
    return None


def _embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address can carry (mapped, compatible, 6to4, Teredo, NAT64), so that
    `::ffff:127.0.0.1` is judged as 127.0.0.1."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    found = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):  # :: and ::1 carry none
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [address for address in found if address is not None]


def _refuse_internal(ip: IPAddress, target: str, allow_private: bool = False) -> None:
    problem = _address_problem(ip, allow_private)
    if problem:
        raise UnsafeURL(target, problem)


def _ip_literal(host: str) -> IPAddress | None:
    """The address a host names literally, including legacy numeric IPv4 forms, else None."""
    host = unquote(host)  # an IPv6 zone arrives as %25
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not _NUMERIC_IPV4.match(host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        raise UnsafeURL(host, "the host is a malformed numeric address") from None


def _check_parsed(url: httpx.URL, allow_private: bool) -> None:
    if url.scheme not in ALLOWED_SCHEMES:
        raise UnsafeURL(url.host, f"only http and https URLs may be called, not {url.scheme or 'none'!r}")
    if not url.host:
        raise UnsafeURL("", "the URL has no host")
    if url.userinfo:
        raise UnsafeURL(url.host, "credentials in the URL are not allowed")
    if url.port is not None and not 0 < url.port < 65536:
        raise UnsafeURL(url.host, "the port must be 1 to 65535")
    ip = _ip_literal(url.host)
    if ip is not None:
        _refuse_internal(ip, url.host, allow_private)
    elif not _HOST_NAME.fullmatch(name := url.raw_host.decode("ascii", "replace")) or len(name) > 253:
        raise UnsafeURL(url.host, "the host is not a valid name (labels of letters, digits, - or _, "
                                  "1 to 63 characters each)")


def check_url_syntax(url: str, allow_private: bool) -> None:
    """Refuse a URL before any I/O: bad scheme, no host, userinfo, or an internal IP literal.

    Parsed with httpx, the parser that will send the request, so no parser disagreement can make
    us check one host and call another.
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UnsafeURL("", f"the URL cannot be parsed ({exc})") from None
    _check_parsed(parsed, allow_private)


async def resolve_and_check(host: str, port: int, allow_private: bool) -> list[str]:
    """Resolve `host` and return its addresses, refusing if ANY of them may not be called (not
    public; with `allow_private`, link-local or metadata).

    Resolution failures propagate as `OSError` (`socket.gaierror`): they may be transient and
    are not a verdict on the URL.
    """
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise socket.gaierror(f"{host} resolved to no address")
    for address in addresses:
        _refuse_internal(ipaddress.ip_address(address), host, allow_private)
    return addresses


class GuardedTransport(httpx.AsyncBaseTransport):
    """Checks every request's URL, then its resolved addresses, before `inner` sends it.

    Sitting at the transport, it sees each hop of a redirect chain, whoever follows it.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, allow_private: bool) -> None:
        self._inner = inner
        self._allow_private = allow_private

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _check_parsed(request.url, self._allow_private)
        addresses = await self._resolve(request)
        return await self._inner.handle_async_request(_pin_address(request, addresses[0]))

    async def _resolve(self, request: httpx.Request) -> list[str]:
        """Resolution under the request's connect timeout, failures as httpx connect errors."""
        url = request.url
        host = unquote(url.raw_host.decode("ascii"))
        port = url.port or DEFAULT_PORTS[url.scheme]
        timeout = request.extensions.get("timeout", {}).get("connect")
        try:
            async with asyncio.timeout(timeout):
                return await resolve_and_check(host, port, allow_private=self._allow_private)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"Resolving {host} timed out", request=request) from None
        except OSError as exc:
            raise httpx.ConnectError(f"Could not resolve {host}: {exc}", request=request) from exc

    async def aclose(self) -> None:
        await self._inner.aclose()


def _pin_address(request: httpx.Request, address: str) -> httpx.Request:
    """For plain http, send to the checked address (keeping the Host header) so a second DNS
    answer cannot redirect the connection; https keeps the name for certificate checks."""
    if request.url.scheme != "http":
        return request
    return httpx.Request(
        request.method,
        request.url.copy_with(host=address),
        headers=request.headers,
        stream=request.stream,
        extensions=request.extensions,
    )


def build_http_client(
    *, allow_private: bool, timeout: float = 10.0, max_connections: int = 100
) -> httpx.AsyncClient:
    """The shared client for user-directed calls: guarded, no redirects followed, bounded time
    and connections, and no proxy or credentials picked up from the environment."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=min(max_connections, 20))
    return httpx.AsyncClient(
        transport=GuardedTransport(httpx.AsyncHTTPTransport(limits=limits), allow_private),
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        trust_env=False,
    )


async def read_bounded(response: httpx.Response, max_bytes: int) -> bytes:
    """At most `max_bytes` of the (decoded) body, read as a stream so a huge or endless response
    costs no more than that; the response is closed afterwards and the rest discarded."""
    if max_bytes < 0:
        raise ValueError("max_bytes must not be negative.")
    body = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            body += chunk[: max_bytes - len(body)]
            if len(body) >= max_bytes:
                break
    finally:
        await response.aclose()
    return bytes(body)
