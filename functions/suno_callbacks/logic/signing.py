"""Callback authentication (DESIGN §3): signed callback URLs and kie.ai webhook signatures.

A signed URL carries `sig` = HMAC-SHA256(secret, "suno-callbacks/v1", kind, ref) and an optional `ref`
(the caller's own job id), so a URL made for one kind or ref is refused for any other. Two secrets are
accepted at once (current and previous) so that the secret can be rotated without losing callbacks.
Comparisons are constant-time; every secret is a `SecretStr`, so it never prints.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, SecretStr

SIGNATURE_PARAM = "sig"
REF_PARAM = "ref"
KIE_SIGNATURE_HEADER = "x-webhook-signature"
KIE_TIMESTAMP_HEADER = "x-webhook-timestamp"
CALLBACKS_PATH = "/callbacks"

# A ref is the caller's job id: short, URL-safe, printable.
REF_PATTERN = re.compile(r"^[A-Za-z0-9._:@~-]{1,128}$")
_SIGNING_CONTEXT = "suno-callbacks/v1"


class SigningKeys(BaseModel):
    """The signing secret's JSON: {"current": ..., "previous": ..., "kie_webhook_key": ...}."""

    model_config = ConfigDict(frozen=True)

    current: SecretStr
    previous: SecretStr | None = None
    kie_webhook_key: SecretStr | None = None

    def url_secrets(self) -> list[bytes]:
        secrets = [self.current, self.previous]
        return [s.get_secret_value().encode() for s in secrets if s is not None and s.get_secret_value()]


def url_signature(secret: bytes, kind: str, ref: str | None) -> str:
    message = f"{_SIGNING_CONTEXT}\n{kind}\n{ref or ''}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def signed_callback_url(base_url: str, kind: str, keys: SigningKeys, ref: str | None = None) -> str:
    """The URL to put in a Suno request's `callBackUrl` for `kind` (and optionally your own `ref`)."""
    if ref is not None and not REF_PATTERN.match(ref):
        raise ValueError("ref must be 1-128 characters of letters, digits and . _ : @ ~ -")
    query = {} if ref is None else {REF_PARAM: ref}
    query[SIGNATURE_PARAM] = url_signature(keys.current.get_secret_value().encode(), kind, ref)
    return f"{base_url.rstrip('/')}{CALLBACKS_PATH}/{kind}?{urlencode(query)}"


def verify_url_signature(keys: SigningKeys, kind: str, ref: str | None, signature: str | None) -> bool:
    """True when `signature` was made for this kind and ref with the current or the previous secret."""
    if not signature or (ref is not None and not REF_PATTERN.match(ref)):
        return False
    given = signature.encode()
    matches = [hmac.compare_digest(url_signature(s, kind, ref).encode(), given) for s in keys.url_secrets()]
    return any(matches)


def verify_kie_signature(
    keys: SigningKeys,
    *,
    task_id: str | None,
    timestamp: str | None,
    signature: str | None,
    now: float,
    window_seconds: int,
) -> bool:
    """kie.ai: base64(HMAC-SHA256(key, taskId + "." + timestamp)), timestamp within the window."""
    if keys.kie_webhook_key is None or not (task_id and timestamp and signature):
        return False
    key = keys.kie_webhook_key.get_secret_value().encode()
    if not key:
        return False
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent_at) > window_seconds:
        return False
    digest = hmac.new(key, f"{task_id}.{timestamp}".encode(), hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest), signature.strip().encode())
