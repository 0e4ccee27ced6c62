"""Outbound HTTP that cannot be pointed at internal services (SSRF protection).

The host is resolved here and EVERY address is checked; the connection then goes to a checked
address (Host header and TLS SNI/certificate still use the name), so a DNS answer that changes
between check and connect (rebinding) cannot redirect us. Redirects are followed by hand, each
hop checked again. Private, loopback, link-local and other non-global addresses are refused
unless ``FACECORE_ALLOW_PRIVATE_URLS`` is on.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings

ALLOWED_SCHEMES = ("http", "https")
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
USER_AGENT = "facecore/1.0"


class UnsafeUrl(ValueError):
    """A URL we refuse or could not fetch; the API answers 400 ``bad_url``."""

    code = "bad_url"


class UrlRefused(UnsafeUrl):
    """Refused by policy (scheme, credentials, private address): trying again cannot help."""


@dataclass
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: list[str]


def address_allowed(address: str, allow_private: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_multicast or ip.is_unspecified:
        return False
    return allow_private or ip.is_global


def check_url(url: str, allow_private: bool | None = None) -> Target:
    """Parse ``url``, resolve its host and check every address; raise UnsafeUrl if refused."""
    if allow_private is None:
        allow_private = settings.FACECORE_ALLOW_PRIVATE_URLS
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(f"Malformed URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UrlRefused("Only http and https URLs are allowed.")
    host = parts.hostname
    if not host:
        raise UrlRefused("The URL has no host.")
    if parts.username or parts.password:
        raise UrlRefused("URLs with credentials are not allowed.")
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"Cannot resolve host {host!r}.") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeUrl(f"Host {host!r} has no address.")
    refused = [a for a in addresses if not address_allowed(a, allow_private)]
    if refused:
        raise UrlRefused(f"Host {host!r} resolves to a private or reserved address ({refused[0]}); refused.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=addresses)


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def _pool(target: Target, address: str, timeout: float) -> urllib3.HTTPConnectionPool:
    t = urllib3.Timeout(connect=timeout, read=timeout)
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address,
            target.port,
            timeout=t,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            assert_hostname=target.host,
            server_hostname=target.host,
        )
    return urllib3.HTTPConnectionPool(address, target.port, timeout=t, retries=False)


def request_checked(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
    allow_private: bool | None = None,
) -> urllib3.BaseHTTPResponse:
    """One request (no redirects) to a checked address of ``url``. The body is not preloaded."""
    target = check_url(url, allow_private)
    all_headers = {"Host": _host_header(target), "User-Agent": USER_AGENT, **(headers or {})}
    last_error: Exception | None = None
    for address in target.addresses:
        pool = _pool(target, address, timeout)
        try:
            return pool.urlopen(
                method,
                target.path,
                body=body,
                headers=all_headers,
                redirect=False,
                preload_content=False,
                assert_same_host=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            last_error = exc
    raise UnsafeUrl(f"Cannot connect to {target.host}: {last_error}")


def fetch_bytes(
    url: str, max_bytes: int, timeout: float | None = None, max_redirects: int | None = None
) -> bytes:
    """GET ``url`` (following up to ``max_redirects`` checked redirects) and return at most ``max_bytes``.

    Raises UnsafeUrl for refused or unfetchable URLs and ImageTooLarge for bigger bodies.
    """
    timeout = settings.FACECORE_URL_TIMEOUT if timeout is None else timeout
    max_redirects = settings.FACECORE_URL_MAX_REDIRECTS if max_redirects is None else max_redirects
    for _hop in range(max_redirects + 1):
        response = request_checked("GET", url, timeout=timeout)
        try:
            if response.status in REDIRECT_STATUSES and response.headers.get("Location"):
                url = urljoin(url, response.headers["Location"])
                continue
            if not 200 <= response.status < 300:
                raise UnsafeUrl(f"Fetching the image URL failed with HTTP {response.status}.")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise ResponseTooLarge(int(declared), max_bytes)
            chunks, size = [], 0
            deadline = time.monotonic() + 3 * timeout
            try:
                for chunk in response.stream(65536):
                    if time.monotonic() > deadline:
                        raise UnsafeUrl("Downloading the image URL took too long.")
                    size += len(chunk)
                    if size > max_bytes:
                        raise ResponseTooLarge(size, max_bytes)
                    chunks.append(chunk)
            except urllib3.exceptions.HTTPError as exc:
                raise UnsafeUrl(f"Reading the image URL failed: {exc}") from exc
            return b"".join(chunks)
        finally:
            response.release_conn()
    raise UnsafeUrl(f"Too many redirects (more than {max_redirects}).")


class ResponseTooLarge(ValueError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"The image at the URL is larger than the limit of {limit} bytes.")
        self.size = size
        self.limit = limit
