"""`suno-callbacks trigger`: send a kind's example callback, the way `stripe trigger` does.

The examples are the provider's own (`suno_callbacks/examples/<kind>.<outcome>.json`; the Market
envelope's are music's `market-success` and `market-failure`). Each send is a new task unless a task id
is given. Sent to local mode, the example's media links (the provider's, long expired) are pointed at
sample files this process serves on 127.0.0.1 (`local.samples`), and the command waits until archive has
settled the stage.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from suno_callbacks.cli.output import CliError
from suno_callbacks.logic.normalise import InvalidCallback, normalise_body
from suno_callbacks.models.kinds import Kind, MediaType
from suno_callbacks.models.records import MediaRef
from suno_callbacks.reader import Reader, TaskView

SETTLE_TIMEOUT_SECONDS = 30
_MARKET_PREFIX = "market-envelope."
_MARKET_KIND = Kind.MUSIC
_EXTENSIONS = {MediaType.AUDIO: "mp3", MediaType.IMAGE: "jpeg", MediaType.VIDEO: "mp4", MediaType.WAV: "wav"}


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


def outcomes(kind: Kind) -> list[str]:
    """The outcomes there is an example of, for this kind."""
    names = [entry.name for entry in resources.files("suno_callbacks").joinpath("examples").iterdir()]
    found = [
        n.removeprefix(f"{kind.value}.").removesuffix(".json") for n in names if n.startswith(f"{kind}.")
    ]
    if kind is _MARKET_KIND:
        found += [
            "market-" + n.removeprefix(_MARKET_PREFIX).removesuffix(".json")
            for n in names
            if n.startswith(_MARKET_PREFIX)
        ]
    return sorted(found)


def default_outcome(kind: Kind) -> str:
    """`success` when there is one, else the first success-like outcome, else the first there is."""
    known = outcomes(kind)
    return next((o for o in known if o == "success"), None) or next(
        (o for o in known if o.startswith("success")), known[0]
    )


def check_outcome(kind: Kind, outcome: str) -> None:
    known = outcomes(kind)
    if outcome not in known:
        raise CliError(f"no {outcome!r} example for {kind.value}: use one of {', '.join(known)}")


def example_body(kind: Kind, outcome: str, *, task_id: str, media_base: str | None) -> bytes:
    """The example as bytes, with its task id replaced and, given `media_base`, its links pointed there."""
    check_outcome(kind, outcome)
    name = (
        _MARKET_PREFIX + outcome.removeprefix("market-")
        if outcome.startswith("market-")
        else f"{kind.value}.{outcome}"
    )
    text = resources.files("suno_callbacks").joinpath("examples", f"{name}.json").read_text("utf-8")
    try:
        example = normalise_body(kind, text.encode())
    except InvalidCallback as error:  # an example the normaliser cannot read is a bug of this package
        raise AssertionError(f"example {name} does not normalise: {error}") from error
    replacements = {example.task_id: task_id}
    if media_base is not None:
        replacements |= {m.url: _sample_link(media_base, m) for m in example.media}
    # Whole JSON strings only (`"…"`, or `\"…\"` inside `resultJson`): a link that begins another stays.
    for old in sorted(replacements, key=len, reverse=True):
        quoted = re.escape(json.dumps(old)[1:-1])
        text = re.sub(f'(?<="){quoted}(?=\\\\?")', _literal(json.dumps(replacements[old])[1:-1]), text)
    return text.encode()


def new_task_id(kind: Kind) -> str:
    return f"trigger-{kind.value}-{secrets.token_hex(4)}"


def send(url: str, body: bytes) -> Answer:
    request = urllib.request.Request(  # noqa: S310 - the user's callback URL (http or https)
        url, data=body, headers={"content-type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            return Answer(response.status, _json(response.read()))
    except urllib.error.HTTPError as error:
        return Answer(error.code, _json(error.read()))
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise CliError(
            f"nothing answered at {_origin(url)} ({reason}): is local mode (or the stack) running?"
        ) from None


def is_local(url: str) -> bool:
    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


def wait_settled(reader: Reader, task_id: str, stage: str) -> TaskView:
    """The task once archive has settled the stage that was sent (a `first` or `text` stage settles
    without ending the task)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        view = reader.get_task(task_id)
        if view is not None and any(s.stage == stage and s.settled_at for s in view.stages):
            return view
        time.sleep(0.2)
    raise CliError(
        f"task {task_id} was not settled within {SETTLE_TIMEOUT_SECONDS} s: look at local mode's output "
        f"and at `suno-callbacks task {task_id}`"
    )


def _sample_link(media_base: str, media: MediaRef) -> str:
    """A distinct link per source (examples hold placeholders, not links), named with its extension."""
    name = urlsplit(media.url).path.rsplit("/", 1)[-1]
    if "." not in name:
        name = f"{media.field}.{_EXTENSIONS[media.media_type]}"
    return f"{media_base}/{hashlib.sha256(media.url.encode()).hexdigest()[:12]}/{name}"


def _literal(value: str) -> Callable[[re.Match[str]], str]:
    """A replacement taken as it is (`re.sub` would read backslashes in a string)."""
    return lambda _: value


def _json(data: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(data)
    except ValueError:
        return {"body": data.decode("utf-8", "replace")[:200]}
    return parsed if isinstance(parsed, dict) else {"body": parsed}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
