"""The outgoing-URL guard: refusals before and after DNS, redirects, address pinning, and a real
loopback server reached only when private addresses are allowed. No network beyond loopback:
other names resolve through a fake `socket.getaddrinfo`."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

import app.core.http as http_guard
from app.core.http import (
    USER_AGENT,
    GuardedTransport,
    UnsafeURL,
    build_http_client,
    check_url_syntax,
    read_bounded,
    resolve_and_check,
)

INTERNAL_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://127.0.0.1/",
    "http://[::1]/",
    "http://2130706433/",
    "http://0x7f.0.0.1/",
    "http://172.16.5.4:8080/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://[fc00::1]/",
    "http://[fe80::1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::127.0.0.1]/",  # IPv4-compatible: Python calls ::7f00:1 global
    "http://[::8.8.8.8]/",  # deprecated form, routed nowhere a public target lives
    "http://[::169.254.169.254]/",
]


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, list[str]]], None]:
    """Answer getaddrinfo from a table; unknown names fail as NXDOMAIN would."""

    def install(table: dict[str, list[str]]) -> None:
        def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
            if host not in table:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in table[host]
            ]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    return install


class Recorder:
    """A MockTransport handler that remembers what reached the inner transport."""

    def __init__(self, respond: Callable[[httpx.Request], httpx.Response] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self._respond = respond or (lambda request: httpx.Response(200, text="ok"))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._respond(request)


def guarded_client(recorder: Recorder, *, follow_redirects: bool = False) -> httpx.AsyncClient:
    transport = GuardedTransport(httpx.MockTransport(recorder), allow_private=False)
    return httpx.AsyncClient(transport=transport, follow_redirects=follow_redirects)


class LoopbackServer:
    """A raw HTTP/1.1 responder on 127.0.0.1: `/big` sends 5 MB, `/redirect` points at the metadata
    address, anything else answers a short body."""

    def __init__(self) -> None:
        self.port = 0
        self.request_heads: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.request_heads.append(head)
        status, extra, body = b"200 OK", b"", b"hello from loopback"
        if head.startswith(b"GET /big "):
            body = b"x" * 5_000_000
        elif head.startswith(b"GET /redirect "):
            status, extra = b"302 Found", b"Location: http://169.254.169.254/\r\n"
        writer.write(
            b"HTTP/1.1 %s\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n" % (status, extra, len(body))
        )
        try:
            writer.write(body)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


@pytest.fixture
async def loopback() -> AsyncIterator[LoopbackServer]:
    server = LoopbackServer()
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    async with listener:
        yield server


# --- syntax ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_ip_literals_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURL):
        check_url_syntax(url, allow_private=False)


ALWAYS_REFUSED = {"http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://[::ffff:169.254.169.254]/",
                  "http://[::169.254.169.254]/"}


@pytest.mark.parametrize("url", sorted(set(INTERNAL_URLS) - ALWAYS_REFUSED))
def test_internal_ip_literals_are_allowed_when_private_is_allowed(url: str) -> None:
    check_url_syntax(url, allow_private=True)


@pytest.mark.parametrize("url", [*sorted(ALWAYS_REFUSED), "http://[fd00:ec2::254]/latest/", "http://169.254.0.1/"])
def test_link_local_and_metadata_literals_are_refused_even_when_private_is_allowed(url: str) -> None:
    with pytest.raises(UnsafeURL):
        check_url_syntax(url, allow_private=True)


async def test_names_resolving_to_metadata_are_refused_even_when_private_is_allowed(
    fake_dns: Callable[[dict[str, list[str]]], None],
) -> None:
    fake_dns({"metadata.internal": ["169.254.169.254"], "intranet.test": ["10.1.2.3"]})
    with pytest.raises(UnsafeURL, match=r"169\.254\.169\.254"):
        await resolve_and_check("metadata.internal", 80, allow_private=True)
    assert await resolve_and_check("intranet.test", 80, allow_private=True) == ["10.1.2.3"]
    recorder = Recorder()
    transport = GuardedTransport(httpx.MockTransport(recorder), allow_private=True)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(UnsafeURL):
            await client.get("http://metadata.internal/latest/meta-data/")
        assert (await client.get("http://intranet.test/x")).status_code == 200
    assert [str(r.url) for r in recorder.requests] == ["http://10.1.2.3/x"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x",
        "file:///etc/passwd",
        "gopher://example.com/",
        "http:///path",
        "//example.com/",
        "http://user:pass@example.com/",
        "http://example.com\\@127.0.0.1/",
        "http://0177.0.0.1/",
        # accepted before: every call then failed with ValueError or UnicodeError, retried for a day
        "http://example.com:99999/",
        "http://exa mple.com/",
        "http://" + "a" * 300 + ".com/",
        "http://a-.example.com/",
    ],
)
@pytest.mark.parametrize("allow_private", [False, True])
def test_bad_urls_are_refused_whatever_the_setting(url: str, allow_private: bool) -> None:
    with pytest.raises(UnsafeURL):
        check_url_syntax(url, allow_private=allow_private)


@pytest.mark.parametrize(
    "url", ["https://example.com/hook", "http://8.8.8.8/", "http://[2606:4700::1111]/", "HTTPS://Example.COM",
            "https://bücher.example/", "https://my_host.example.com./x", "https://example.com:8443/"]
)
def test_public_urls_pass_the_syntax_check(url: str) -> None:
    check_url_syntax(url, allow_private=False)


def test_refusal_message_names_host_but_not_path_or_query() -> None:
    with pytest.raises(UnsafeURL) as error:
        check_url_syntax("http://10.0.0.1/hooks/T0/B0/s3cr3t?token=s3cr3t", allow_private=False)
    assert "10.0.0.1" in str(error.value)
    assert "private" in str(error.value)
    assert "s3cr3t" not in str(error.value)
    assert isinstance(error.value, ValueError)


# --- resolution -----------------------------------------------------------------------------------


async def test_localhost_resolves_to_loopback_and_is_refused() -> None:
    with pytest.raises(UnsafeURL, match="loopback"):
        await resolve_and_check("localhost", 80, allow_private=False)


async def test_localhost_is_allowed_when_private_is_allowed() -> None:
    addresses = await resolve_and_check("localhost", 80, allow_private=True)
    assert set(addresses) & {"127.0.0.1", "::1"}


async def test_refused_if_any_resolved_address_is_internal(fake_dns: Callable[..., None]) -> None:
    fake_dns({"mixed.test": ["93.184.216.34", "10.0.0.7"], "mapped.test": ["::ffff:127.0.0.1"]})
    with pytest.raises(UnsafeURL, match=r"10\.0\.0\.7"):
        await resolve_and_check("mixed.test", 443, allow_private=False)
    with pytest.raises(UnsafeURL, match=r"127\.0\.0\.1"):
        await resolve_and_check("mapped.test", 443, allow_private=False)


async def test_public_name_resolves(fake_dns: Callable[..., None]) -> None:
    fake_dns({"public.test": ["93.184.216.34", "2606:2800:220:1::1"]})
    assert await resolve_and_check("public.test", 443, allow_private=False) == [
        "93.184.216.34",
        "2606:2800:220:1::1",
    ]


# --- transport ------------------------------------------------------------------------------------


async def test_transport_refuses_loopback_server(loopback: LoopbackServer) -> None:
    async with build_http_client(allow_private=False) as client:
        for host in ("127.0.0.1", "localhost"):
            with pytest.raises(UnsafeURL):
                await client.get(f"http://{host}:{loopback.port}/")
    assert loopback.request_heads == []


async def test_transport_reaches_loopback_server_when_allowed(loopback: LoopbackServer) -> None:
    async with build_http_client(allow_private=True) as client:
        response = await client.get(f"http://127.0.0.1:{loopback.port}/")
    assert response.status_code == 200
    assert response.text == "hello from loopback"
    assert f"\r\nUser-Agent: {USER_AGENT}\r\n".encode() in loopback.request_heads[0]


async def test_environment_proxy_is_not_used(
    monkeypatch: pytest.MonkeyPatch, loopback: LoopbackServer
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    async with build_http_client(allow_private=True) as client:
        response = await client.get(f"http://127.0.0.1:{loopback.port}/")
    assert response.status_code == 200


async def test_client_does_not_follow_redirects(loopback: LoopbackServer) -> None:
    async with build_http_client(allow_private=True) as client:
        response = await client.get(f"http://127.0.0.1:{loopback.port}/redirect")
    assert response.status_code == 302
    assert len(loopback.request_heads) == 1


async def test_redirects_are_checked_on_every_hop(fake_dns: Callable[..., None]) -> None:
    fake_dns({"public.test": ["93.184.216.34"], "internal.test": ["10.1.2.3"]})
    for target in ("http://169.254.169.254/latest/meta-data/", "http://internal.test/admin"):
        recorder = Recorder(lambda r, target=target: httpx.Response(302, headers={"Location": target}))
        async with guarded_client(recorder, follow_redirects=True) as client:
            with pytest.raises(UnsafeURL):
                await client.get("http://public.test/hook")
        assert len(recorder.requests) == 1


async def test_http_request_is_pinned_to_the_checked_address(fake_dns: Callable[..., None]) -> None:
    """A second DNS answer (rebinding) cannot move the connection: the inner transport gets the
    address that was checked, and the Host header keeps the name."""
    fake_dns({"rebind.test": ["93.184.216.34"]})
    recorder = Recorder()
    async with guarded_client(recorder) as client:
        response = await client.post("http://rebind.test:8080/hook?x=1", content=b"payload")
    sent = recorder.requests[0]
    assert sent.url == httpx.URL("http://93.184.216.34:8080/hook?x=1")
    assert sent.headers["host"] == "rebind.test:8080"
    assert sent.content == b"payload"
    assert response.request.url.host == "rebind.test"


async def test_pinned_request_travels_a_real_socket(loopback: LoopbackServer) -> None:
    """The request the guard rebuilds for a checked address (body stream, Host header) survives
    httpx's real transport and socket, here to a loopback server standing in for a public one."""
    request = httpx.Request("POST", f"http://pinned.test:{loopback.port}/hook", content=b"payload")
    async with httpx.AsyncHTTPTransport() as transport:
        response = await transport.handle_async_request(http_guard._pin_address(request, "127.0.0.1"))
        body = await response.aread()
    assert body == b"hello from loopback"
    assert f"\r\nHost: pinned.test:{loopback.port}\r\n".encode() in loopback.request_heads[0]


async def test_https_request_keeps_its_name_for_tls(fake_dns: Callable[..., None]) -> None:
    fake_dns({"public.test": ["93.184.216.34"]})
    recorder = Recorder()
    async with guarded_client(recorder) as client:
        await client.get("https://public.test/hook")
    assert recorder.requests[0].url.host == "public.test"


async def test_name_resolving_inside_is_refused_by_transport(fake_dns: Callable[..., None]) -> None:
    fake_dns({"metadata.test": ["169.254.169.254"]})
    recorder = Recorder()
    async with guarded_client(recorder) as client:
        with pytest.raises(UnsafeURL, match="metadata"):
            await client.get("http://metadata.test/")
    assert recorder.requests == []


async def test_unresolvable_name_is_a_connect_error(fake_dns: Callable[..., None]) -> None:
    fake_dns({})
    async with guarded_client(Recorder()) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("https://nowhere.test/")


# --- bounded reads --------------------------------------------------------------------------------


async def test_read_bounded_stops_pulling_at_the_limit() -> None:
    pulled = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        while True:
            pulled += 1
            yield b"x" * 1000

    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=endless()))
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.send(client.build_request("GET", "http://t/"), stream=True)
        assert await read_bounded(response, 2500) == b"x" * 2500
    assert pulled == 3
    assert response.is_closed


async def test_read_bounded_returns_short_bodies_whole() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=b"short"))
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.send(client.build_request("GET", "http://t/"), stream=True)
        assert await read_bounded(response, 1000) == b"short"


async def test_read_bounded_over_a_real_socket(loopback: LoopbackServer) -> None:
    async with (
        build_http_client(allow_private=True) as client,
        client.stream("GET", f"http://127.0.0.1:{loopback.port}/big") as response,
    ):
        excerpt = await read_bounded(response, 1000)
    assert excerpt == b"x" * 1000
