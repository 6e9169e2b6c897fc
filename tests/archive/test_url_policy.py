"""The URL policy's decisions (with an injected resolver: no connection to any of these addresses), and the
connection that enforces them, against servers on 127.0.0.1 only."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from suno_callbacks.errors import PermanentMediaError, TransientMediaError
from suno_callbacks.logic.download import DownloadLimits, open_media
from suno_callbacks.logic.url_policy import UrlPolicy
from suno_callbacks.models.kinds import MediaType
from suno_callbacks.models.settings import DEFAULT_MEDIA_HOSTS
from tests.archive.conftest import FakeDns, MediaServer, Route

LIMITS = DownloadLimits(
    connect_timeout_seconds=1,
    read_timeout_seconds=1,
    max_redirects=3,
    max_bytes=dict.fromkeys(MediaType, 1024 * 1024),
)


def policy_resolving(*addresses: str, local: tuple[str, ...] = ()) -> UrlPolicy:
    return UrlPolicy(
        allowed_hosts=DEFAULT_MEDIA_HOSTS, local_hosts=local, resolver=lambda host, port: addresses
    )


def refusal(policy: UrlPolicy, url: str) -> str:
    with pytest.raises(PermanentMediaError) as refused:
        policy.vet_addresses(policy.check_url(url))
    return refused.value.reason


@pytest.mark.parametrize(
    "addresses",
    [["93.184.216.34"], ["2606:2800:220:1:248:1893:25c8:1946"], ["::ffff:93.184.216.34", "8.8.8.8"]],
)
def test_public_addresses_are_accepted(addresses: list[str]) -> None:
    policy = policy_resolving(*addresses)

    vetted = policy.vet_addresses(policy.check_url("https://cdn1.suno.ai/abc.mp3"))

    assert vetted == [ipaddress.ip_address(a) for a in addresses]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.8.8",
        "::1",
        "0.0.0.0",
        "::",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.0.1",
        "100.64.0.1",  # carrier-grade NAT
        "198.18.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "224.0.0.1",
        "ff02::1",
        "169.254.169.254",  # instance metadata
        "169.254.170.2",  # ECS credentials
        "100.100.100.200",  # Alibaba metadata
        "192.0.0.192",  # Oracle metadata
        "fd00:ec2::254",  # AWS metadata over IPv6
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fec0::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "2002:a9fe:a9fe::1",  # 6to4 around 169.254.169.254
        "64:ff9b::a9fe:a9fe",  # NAT64 around 169.254.169.254
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo around documentation addresses
        "not-an-address",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert refusal(policy_resolving(address), "https://cdn1.suno.ai/abc.mp3") == "address_not_public"


def test_every_resolved_address_must_be_public() -> None:
    assert refusal(policy_resolving("93.184.216.34", "10.0.0.1"), "https://cdn1.suno.ai/a.mp3") == (
        "address_not_public"
    )


def test_only_local_hosts_may_be_loopback_and_never_private() -> None:
    local = policy_resolving("127.0.0.1", "::1", local=("media.local",))
    assert len(local.vet_addresses(local.check_url("http://media.local:8080/a.mp3"))) == 2
    private = policy_resolving("10.0.0.1", local=("media.local",))
    assert refusal(private, "http://media.local/a.mp3") == "address_not_public"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://cdn1.suno.ai/abc.mp3", "scheme_not_allowed"),
        ("ftp://cdn1.suno.ai/abc.mp3", "scheme_not_allowed"),
        ("video_url_847715e66259", "invalid_url"),
        ("https://cdn1.suno.ai:99999/abc.mp3", "invalid_url"),
        ("https://user:pw@cdn1.suno.ai/abc.mp3", "invalid_url"),
        ("https://evilsuno.ai/abc.mp3", "host_not_allowed"),
        ("https://suno.ai.evil.example/abc.mp3", "host_not_allowed"),
        ("https://169.254.169.254/latest/meta-data/", "host_not_allowed"),
        ("https://[::1]/abc.mp3", "host_not_allowed"),
    ],
)
def test_urls_are_refused_before_any_lookup(url: str, reason: str) -> None:
    dns = FakeDns()
    policy = UrlPolicy(allowed_hosts=DEFAULT_MEDIA_HOSTS, resolver=dns)

    with pytest.raises(PermanentMediaError) as refused:
        policy.check_url(url)

    assert refused.value.reason == reason
    assert dns.lookups == []


# Every media host of SUNO_CALLBACKS.md §17 and §20, as the provider writes them.
PROVIDER_MEDIA_HOSTS = [
    "tempfile.aiquickdraw.com",
    "file.aiquickdraw.com",
    "apiboxfiles.erweima.ai",
    "apibox.erweima.ai",
    "mfile.erweima.ai",
    "r2.erweima.ai",
    "cdn1.suno.ai",
    "cdn2.suno.ai",
    "audiopipe.suno.ai",
    "cdn.sunoai.ai",
    "audiostream.api.box",
    "musicfile.api.box",
    "musicfile.removeai.ai",
    "musicfile.kie.ai",
    "audiostream.kie.ai",
    "sunoapi.org",
    "sunoapiorg.redpandaai.co",
]


@pytest.mark.parametrize("host", PROVIDER_MEDIA_HOSTS)
def test_the_provider_media_hosts_are_allowed_by_default(host: str) -> None:
    policy = policy_resolving("93.184.216.34")
    assert policy.check_url(f"https://{host}/r/8f1e.mp3").host == host
    assert policy.check_url(f"https://{host.upper()}./r/8f1e.mp3").scheme == "https"


def test_a_path_with_spaces_is_requested_encoded() -> None:
    target = policy_resolving().check_url("https://tempfile.aiquickdraw.com/r/a_Lead Vocal.mp3?x=1%2F2")
    assert target.request_path == "/r/a_Lead%20Vocal.mp3?x=1%2F2"


def test_a_host_that_does_not_resolve_is_a_transient_failure() -> None:
    policy = UrlPolicy(allowed_hosts=DEFAULT_MEDIA_HOSTS, resolver=FakeDns())
    with pytest.raises(TransientMediaError):
        policy.vet_addresses(policy.check_url("https://cdn1.suno.ai/a.mp3"))


# --- enforcement on the connection ----------------------------------------------------------------------


def test_the_address_is_checked_on_the_connection_itself(media_server: MediaServer) -> None:
    media_server.serve("/a.mp3", Route(body=b"audio"))
    dns = FakeDns()
    dns.names["media.test"] = ["127.0.0.1"]  # an allowed name that resolves to loopback
    policy = UrlPolicy(allowed_hosts=("media.test",), resolver=dns)

    with (
        pytest.raises(PermanentMediaError, match="address_not_public"),
        open_media(
            f"https://media.test:{media_server.port}/a.mp3", MediaType.AUDIO, policy=policy, limits=LIMITS
        ),
    ):
        pass

    assert media_server.hits == {}


def test_the_connection_uses_the_one_address_it_vetted(media_server: MediaServer) -> None:
    media_server.serve("/a.mp3", Route(body=b"audio"))
    answers = iter([["127.0.0.1"], ["192.168.9.9"]])  # a rebinding name: the second answer is never used
    lookups: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        lookups.append(host)
        return next(answers)

    policy = UrlPolicy(allowed_hosts=(), local_hosts=("media.test",), resolver=rebinding)

    with open_media(
        f"http://media.test:{media_server.port}/a.mp3", MediaType.AUDIO, policy=policy, limits=LIMITS
    ) as stream:
        assert stream.read() == b"audio"

    assert lookups == ["media.test"]
    assert media_server.hits == {"/a.mp3": 1}


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """An HTTPS server on 127.0.0.1 whose certificate names `media.test`; yields its port and CA file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "media.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("media.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "audio/mpeg")
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"audio")

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1], cert_file
    httpd.shutdown()
    httpd.server_close()


def test_tls_verifies_the_host_name_while_connecting_to_the_vetted_address(
    tls_server: tuple[int, Path],
) -> None:
    port, ca_file = tls_server
    dns = FakeDns()
    dns.names["media.test"] = dns.names["other.test"] = ["127.0.0.1"]
    policy = UrlPolicy(allowed_hosts=(), local_hosts=("media.test", "other.test"), resolver=dns)

    with open_media(
        f"https://media.test:{port}/a.mp3",
        MediaType.AUDIO,
        policy=policy,
        limits=LIMITS,
        ca_certs=str(ca_file),
    ) as stream:
        assert stream.read() == b"audio"
    with (
        pytest.raises(TransientMediaError, match="certificate"),
        open_media(
            f"https://other.test:{port}/a.mp3",
            MediaType.AUDIO,
            policy=policy,
            limits=LIMITS,
            ca_certs=str(ca_file),
        ),
    ):
        pass
