"""What keeps the console to its own page: the Host and Origin it accepts, its POST token, its headers.

The console listens on loopback only, but a web page the user opens elsewhere can still make the browser
talk to it: by DNS rebinding (a foreign name resolving to 127.0.0.1, sent with that name as Host) or by a
cross-site form posted to replay or redrive. So every request must name the console itself as Host, and a
POST must come from the console's own page (its Origin, or `Sec-Fetch-Site: same-origin` when a browser
sends no Origin) and carry the per-process token that only the console's own forms hold.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Guard:
    port: int
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    @property
    def hosts(self) -> frozenset[str]:
        return frozenset({f"127.0.0.1:{self.port}", f"localhost:{self.port}"})

    def host_allowed(self, host: str | None) -> bool:
        return host is not None and host.lower() in self.hosts

    def post_allowed(self, headers: Mapping[str, str]) -> bool:
        """From the console's own page: by Origin, else (a browser that sent none) by Sec-Fetch-Site."""
        origin = headers.get("origin")
        if origin is not None:
            return origin.lower() in {f"http://{host}" for host in self.hosts}
        return headers.get("sec-fetch-site") == "same-origin"

    def token_matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())


def security_headers(media_origins: Iterable[str]) -> dict[str, str]:
    """Headers of every answer. Media may come only from the exact origins of the page's presigned URLs."""
    media = " ".join(sorted(set(media_origins))) or "'none'"
    policy = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            f"img-src {media}",
            f"media-src {media}",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        # Not no-referrer: with it, browsers send `Origin: null` on the console's own form posts.
        "Referrer-Policy": "same-origin",
    }
