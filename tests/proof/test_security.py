"""Security battery (DESIGN §3, §6; extends tests/archive/test_url_policy.py without repeating it).

- The URL policy's decisions on address classes and URL forms, made with an injected resolver: nothing here
  connects to any address but 127.0.0.1.
- Redirects and DNS answers that change between checks, against a media server on 127.0.0.1.
- The logs, records, objects and events of a whole pipeline run hold no secret and no signature.
- Each function's IAM role allows exactly the actions its code calls (derived from the calls it makes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import ipaddress
import json
import logging
import os
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suno_callbacks.dal.aws import client
from suno_callbacks.errors import PermanentMediaError, TransientMediaError
from suno_callbacks.logic.download import DownloadLimits, open_media
from suno_callbacks.logic.url_policy import UrlPolicy, is_public
from suno_callbacks.models.kinds import MediaType
from suno_callbacks.models.settings import DEFAULT_MEDIA_HOSTS, load_settings
from suno_callbacks.observability import logger
from tests.archive.conftest import LambdaContext, MediaServer, Route, running_out
from tests.ingest.conftest import CURRENT_SECRET, KIE_KEY, PREVIOUS_SECRET, http_event, invoke, signed_path
from tests.ingest.faults import unavailable
from tests.proof.conftest import Pipeline

LIMITS = DownloadLimits(
    connect_timeout_seconds=1,
    read_timeout_seconds=1,
    max_redirects=3,
    max_bytes=dict.fromkeys(MediaType, 1 << 20),
)


class Resolver:
    """An injected resolver: answers from a script, records every lookup, never touches the network."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.lookups.append(host)
        return self.answers[min(len(self.lookups), len(self.answers)) - 1] if self.answers else []


def decide(url: str, *answers: Sequence[str], local: tuple[str, ...] = ()) -> str:
    """'ok' or the refusal reason, for `url` resolving to `answers`."""
    policy = UrlPolicy(allowed_hosts=DEFAULT_MEDIA_HOSTS, local_hosts=local, resolver=Resolver(*answers))
    try:
        policy.vet_addresses(policy.check_url(url))
    except PermanentMediaError as refused:
        return refused.reason
    except TransientMediaError:
        return "transient"
    return "ok"


# --- address classes the policy must refuse (beyond test_url_policy.py's) --------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "0.1.2.3",  # "this network"
        "127.255.255.254",
        "169.254.0.1",  # link-local, not a metadata address
        "169.254.169.123",  # Amazon Time Sync
        "169.254.169.253",  # Amazon DNS
        "192.0.0.8",  # IETF protocol assignments
        "192.0.2.1",  # documentation
        "198.51.100.1",
        "203.0.113.1",
        "198.19.255.255",  # benchmarking
        "233.252.0.1",  # multicast (documentation)
        "2001:db8::1",  # documentation
        "3fff::1",  # documentation (RFC 9637)
        "100::1",  # discard-only
        "2001:10::1",  # ORCHID
        "5f00::1",  # SRv6 SIDs
        "ff0e::1",  # global-scope multicast
        "FD00:EC2::254",  # metadata, upper case
        "0:0:0:0:0:ffff:a9fe:a9fe",  # IPv4-mapped metadata, uncompressed hex
        "::ffff:0.0.0.0",
        "::ffff:0:a9fe:a9fe",  # IPv4-translated (SIIT) metadata
        "::a9fe:a9fe",  # IPv4-compatible (deprecated) metadata
        "::127.0.0.1",  # IPv4-compatible loopback
        "64:ff9b:1::a9fe:a9fe",  # local-use NAT64 (RFC 8215) around metadata
        "64:ff9b::7f00:1",  # well-known NAT64 around loopback
        "2002:7f00:1::1",  # 6to4 around loopback
        "2002:c0a8:101::1",  # 6to4 around 192.168.1.1
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo around 127.0.0.1 (obfuscated client)
        "fe80::a9fe:a9fe%25eth0",  # link-local with a zone id
        # What a hostile resolver might answer instead of an address:
        "0x7f000001",
        "2130706433",
        "0177.0.0.1",
        "127.1",
        " 127.0.0.1",
        "",
        "localhost",
    ],
)
def test_non_public_answers_are_refused(address: str) -> None:
    assert decide("https://cdn1.suno.ai/a.mp3", [address]) == "address_not_public"


@pytest.mark.parametrize(
    "addresses",
    [["8.8.8.8"], ["2606:4700::1111"], ["::ffff:8.8.8.8"], ["64:ff9b::808:808"], ["1.1.1.1", "8.8.4.4"]],
)
def test_public_answers_are_accepted(addresses: list[str]) -> None:
    """The battery discriminates: the same check accepts public addresses in their usual forms."""
    assert decide("https://cdn1.suno.ai/a.mp3", addresses) == "ok"


def test_one_non_public_answer_among_public_ones_refuses_all() -> None:
    for position in range(3):
        answer = ["8.8.8.8", "1.1.1.1"]
        answer.insert(position, "::ffff:10.0.0.1")
        assert decide("https://cdn1.suno.ai/a.mp3", answer) == "address_not_public"


def test_no_answer_is_transient_not_accepted() -> None:
    assert decide("https://cdn1.suno.ai/a.mp3") == "transient"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        # Address literals in every notation: never on the allow-list.
        ("https://2852039166/latest/meta-data/", "host_not_allowed"),  # decimal 169.254.169.254
        ("https://0xA9FEA9FE/", "host_not_allowed"),  # hex
        ("https://0xa9.0xfe.0xa9.0xfe/", "host_not_allowed"),  # dotted hex
        ("https://0251.0376.0251.0376/", "host_not_allowed"),  # octal
        ("https://169.254.43518/", "host_not_allowed"),  # mixed short form
        ("https://127.1/", "host_not_allowed"),
        ("https://0/", "host_not_allowed"),
        ("https://[::ffff:a9fe:a9fe]/", "host_not_allowed"),
        ("https://[fd00:ec2::254]/", "host_not_allowed"),
        ("https://[::1]:443/", "host_not_allowed"),
        # Userinfo and parser-confusion tricks.
        ("https://cdn1.suno.ai@169.254.169.254/", "invalid_url"),
        ("https://cdn1.suno.ai:443@169.254.169.254/", "invalid_url"),
        ("https://169.254.169.254\\@cdn1.suno.ai/", "invalid_url"),
        ("https://cdn1.suno.ai%2F@evil.example/", "invalid_url"),
        ("https://:@cdn1.suno.ai/", "invalid_url"),
        ("https://169.254.169.254#@cdn1.suno.ai/", "host_not_allowed"),
        ("https://169.254.169.254?@cdn1.suno.ai/", "host_not_allowed"),
        ("https://cdn1.suno.ai%40evil.example/", "host_not_allowed"),
        ("https://evil.example#.suno.ai", "host_not_allowed"),
        ("https://evil.example/cdn1.suno.ai/a.mp3", "host_not_allowed"),
        ("https://cdn1.suno.ai.evil.example/", "host_not_allowed"),
        ("https://evilsuno.ai/", "host_not_allowed"),
        ("https://cdn1\u3002suno\u3002ai/", "host_not_allowed"),  # ideographic full stops
        ("https://cdn1.suno.ai\u0000.evil.example/", "host_not_allowed"),
        ("https://cdn1.suno.ai\r\nHost: evil.example/", "invalid_url"),
        # Schemes and shapes.
        ("http://cdn1.suno.ai/a.mp3", "scheme_not_allowed"),
        ("//cdn1.suno.ai/a.mp3", "scheme_not_allowed"),
        ("file:///etc/passwd", "invalid_url"),
        ("gopher://cdn1.suno.ai/", "scheme_not_allowed"),
        ("ftp://cdn1.suno.ai/a.mp3", "scheme_not_allowed"),
        ("data:audio/mpeg;base64,AAAA", "invalid_url"),
        ("https:/cdn1.suno.ai/a.mp3", "invalid_url"),
        ("https:cdn1.suno.ai/a.mp3", "invalid_url"),
    ],
)
def test_url_forms_are_refused_before_any_lookup(url: str, reason: str) -> None:
    resolver = Resolver(["8.8.8.8"])
    policy = UrlPolicy(allowed_hosts=DEFAULT_MEDIA_HOSTS, resolver=resolver)

    with pytest.raises(PermanentMediaError) as refused:
        policy.check_url(url)

    assert refused.value.reason == reason
    assert resolver.lookups == []


_allowed = st.sampled_from(["cdn1.suno.ai", "tempfile.aiquickdraw.com", "musicfile.kie.ai", "suno.ai"])
_hosts = st.one_of(
    _allowed,
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-", min_size=1, max_size=30),
    st.builds(lambda a, b: f"{a}.{b}", st.text(alphabet="abc.-@:[]%0", max_size=8), _allowed),
    st.builds(
        lambda a, b: f"{a}{b}", _allowed, st.sampled_from(["", ".", "..", ".evil.example", "@x", ":0", ":99"])
    ),
)
_urls = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda scheme, user, host, path: f"{scheme}://{user}{host}{path}",
        st.sampled_from(["https", "HTTPS", "http", "ftp", "", "https:"]),
        st.sampled_from(["", "user@", "a:b@", "cdn1.suno.ai@", "%40", "\\"]),
        _hosts,
        st.text(max_size=30),
    ),
)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(url=_urls, answer=st.lists(st.ip_addresses().map(str), min_size=1, max_size=3))
def test_whatever_the_url_and_the_answer_only_allowed_hosts_and_public_addresses_pass(
    url: str, answer: list[str]
) -> None:
    resolver = Resolver(answer)
    policy = UrlPolicy(allowed_hosts=DEFAULT_MEDIA_HOSTS, resolver=resolver)
    try:
        target = policy.check_url(url)
        vetted = policy.vet_addresses(target)
    except (PermanentMediaError, TransientMediaError):
        return
    assert target.scheme == "https"
    assert any(target.host == h or target.host.endswith("." + h) for h in DEFAULT_MEDIA_HOSTS)
    assert resolver.lookups == [target.host]  # the name looked up is the name that was checked
    assert target.request_path.startswith("/")
    assert not any(c.isspace() or ord(c) < 0x20 or c == "#" for c in target.request_path)
    assert all(is_public(address) for address in vetted)
    assert vetted == [ipaddress.ip_address(a.split("%")[0]) for a in answer]


# --- redirects, and DNS answers that change between checks (on 127.0.0.1) ---------------------------------


def fetch(url: str, policy: UrlPolicy) -> bytes:
    with open_media(url, MediaType.AUDIO, policy=policy, limits=LIMITS) as stream:
        return stream.read()


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://cdn1.suno.ai/a.mp3", "scheme_not_allowed"),  # a downgrade to plain http
        ("//169.254.169.254/latest/meta-data/", "scheme_not_allowed"),  # scheme-relative: http here
        ("https://2852039166/latest/meta-data/", "host_not_allowed"),
        ("https://[::ffff:169.254.169.254]/", "host_not_allowed"),
        ("https://cdn1.suno.ai@169.254.169.254/", "invalid_url"),
        ("https://169.254.169.254\\@cdn1.suno.ai/", "invalid_url"),
        ("file:///proc/self/environ", "invalid_url"),
        ("gopher://127.0.0.1:6379/_INFO", "scheme_not_allowed"),
    ],
)
def test_each_redirect_target_is_checked_like_the_first_url(
    media_server: MediaServer, location: str, reason: str
) -> None:
    start = media_server.serve("/start", Route(status=302, location=location))
    resolver = Resolver(["127.0.0.1"])
    policy = UrlPolicy(allowed_hosts=DEFAULT_MEDIA_HOSTS, local_hosts=("127.0.0.1",), resolver=resolver)

    with pytest.raises(PermanentMediaError) as refused:
        fetch(start, policy)

    assert refused.value.reason == reason
    assert media_server.hits == {"/start": 1}
    assert resolver.lookups == ["127.0.0.1"]  # the refused target was never looked up


def test_a_redirect_to_the_same_name_is_looked_up_again_and_a_changed_answer_is_refused(
    media_server: MediaServer,
) -> None:
    """Rebinding across a redirect: the second answer for the same name is private; nothing connects to it."""
    media_server.serve("/start", Route(status=302, location="/next"))
    media_server.serve("/next", Route(body=b"audio"))
    resolver = Resolver(["127.0.0.1"], ["10.0.0.7"])
    policy = UrlPolicy(allowed_hosts=(), local_hosts=("media.test",), resolver=resolver)

    with pytest.raises(PermanentMediaError, match="address_not_public"):
        fetch(f"http://media.test:{media_server.port}/start", policy)

    assert resolver.lookups == ["media.test", "media.test"]
    assert media_server.hits == {"/start": 1}


def test_a_name_whose_answer_changes_between_two_fetches_is_refused_the_second_time(
    media_server: MediaServer,
) -> None:
    media_server.serve("/a.mp3", Route(body=b"audio"))
    resolver = Resolver(["127.0.0.1"], ["169.254.169.254"])
    policy = UrlPolicy(allowed_hosts=(), local_hosts=("media.test",), resolver=resolver)
    url = f"http://media.test:{media_server.port}/a.mp3"

    assert fetch(url, policy) == b"audio"
    with pytest.raises(PermanentMediaError, match="address_not_public"):
        fetch(url, policy)  # the redelivery: a fresh lookup, vetted again

    assert media_server.hits == {"/a.mp3": 1}


def test_local_hosts_never_open_private_or_metadata_addresses(media_server: MediaServer) -> None:
    for answer in (["10.0.0.1"], ["169.254.169.254"], ["127.0.0.1", "192.168.0.1"], ["fd00:ec2::254"]):
        policy = UrlPolicy(allowed_hosts=(), local_hosts=("media.test",), resolver=Resolver(answer))
        with pytest.raises(PermanentMediaError, match="address_not_public"):
            fetch(f"http://media.test:{media_server.port}/a.mp3", policy)
    assert media_server.hits == {}


# --- secrets stay out of logs, records, objects and events -------------------------------------------------


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    lines = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(lines)
    try:
        yield lines
    finally:
        handler.setStream(previous)


def kie_headers(task_id: str) -> tuple[dict[str, str], str]:
    timestamp = str(int(time.time()))
    digest = hmac.new(KIE_KEY.encode(), f"{task_id}.{timestamp}".encode(), hashlib.sha256).digest()
    signature = base64.b64encode(digest).decode()
    return {"X-Webhook-Timestamp": timestamp, "X-Webhook-Signature": signature}, signature


def test_no_secret_or_signature_reaches_logs_records_objects_or_events(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_secret = "AwsSecretAccessKeyForTheProof0123456789"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws_secret)
    client.cache_clear()
    pipeline.media.serve("/a.mp3", Route(body=b"audio"))
    track = {"id": "t1", "audio_url": pipeline.media.url("/a.mp3")}

    def music(task_id: str, stage: str = "complete") -> dict[str, Any]:
        return {
            "code": 200,
            "msg": "ok",
            "data": {"callbackType": stage, "task_id": task_id, "data": [track]},
        }

    path = signed_path("music", ref="job-1")
    url_signature = path.split("sig=")[1]
    headers, kie_signature = kie_headers("task-kie")
    with captured_logs() as lines:
        assert invoke(http_event(path, music("task-1")))[0] == 200
        assert invoke(http_event(path, music("task-1")))[0] == 200  # duplicate
        assert invoke(http_event(path.replace("job-1", "job-2"), music("task-2")))[0] == 401  # tampered
        assert invoke(http_event(path + "x", music("task-3")))[0] == 401
        assert invoke(http_event("/callbacks/music", music("task-kie"), headers=headers))[0] == 200
        assert invoke(http_event(path, "not json"))[0] == 200  # quarantined
        with unavailable("dynamodb", "PutItem"):
            assert invoke(http_event(path, music("task-4")))[0] == 503  # logged with its traceback
        pipeline.settle()
    logged = lines.getvalue() + capsys.readouterr().out

    assert "callback answered" in logged and "outcome published" in logged  # the logs were captured
    stored = json.dumps(pipeline.all_items(), default=_readable)
    objects = json.dumps({k: _readable(v) for k, v in pipeline.objects().items()})
    events = json.dumps(pipeline.published())
    assert "job-1" in stored and "task-kie" in events  # what was looked through is the real output
    for secret in (CURRENT_SECRET, PREVIOUS_SECRET, KIE_KEY, url_signature, kie_signature, aws_secret):
        for where, text in (("logs", logged), ("records", stored), ("objects", objects), ("events", events)):
            assert secret not in text, f"a secret or signature in the {where}"


def _readable(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        try:
            return zlib.decompress(bytes(value)).decode("utf-8", "replace")
        except Exception:
            return bytes(value).decode("utf-8", "replace")
    return str(value)


# --- IAM: each role allows what its function calls, and nothing more -------------------------------------

# boto3 operations (as recorded) -> the IAM action they need. A multipart upload is all `s3:PutObject`.
_ACTION = {
    ("s3", "CreateMultipartUpload"): "s3:PutObject",
    ("s3", "UploadPart"): "s3:PutObject",
    ("s3", "CompleteMultipartUpload"): "s3:PutObject",
}
# Called for the archive function by Lambda's SQS event source mapping, with the function's role.
_EVENT_SOURCE_MAPPING = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
}
_RUNTIME = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}


@contextmanager
def recorded_actions() -> Iterator[set[str]]:
    """The IAM action of every AWS call made meanwhile (through fresh clients that carry the recorder)."""
    actions: set[str] = set()
    services = ("dynamodb", "sqs", "s3", "sns", "secretsmanager")

    def record(model: Any, **_: Any) -> None:
        name = (model.service_model.endpoint_prefix, model.name)
        actions.add(_ACTION.get(name, f"{model.service_model.signing_name}:{model.name}"))

    client.cache_clear()
    for service in services:
        client(service).meta.events.register("before-call", record, unique_id="proof-iam")
    try:
        yield actions
    finally:
        for service in services:
            client(service).meta.events.unregister("before-call", unique_id="proof-iam")


def music_task(pipeline: Pipeline, task_id: str, audio: str) -> dict[str, Any]:
    pipeline.media.serve(f"/{audio}", Route(body=b"a" * (6 << 20)))  # over the part size: multipart
    pipeline.media.serve("/c.jpeg", Route(body=b"c", content_type="image/jpeg"))  # one PUT
    track = {
        "id": "t1",
        "audio_url": pipeline.media.url(f"/{audio}"),
        "image_url": pipeline.media.url("/c.jpeg"),
    }
    return {
        "code": 200,
        "msg": "ok",
        "data": {"callbackType": "complete", "task_id": task_id, "data": [track]},
    }


@pytest.mark.slow
def test_each_role_allows_exactly_what_its_function_calls(pipeline: Pipeline) -> None:
    from infra.stack import build_app
    from tests.infra.conftest import app_context

    path = signed_path("music", ref="job-1")
    # A callback too large for a DynamoDB item (with a raised body limit): its body is kept in S3.
    oversize = music_task(pipeline, "t3", "d.mp3")
    oversize["padding"] = base64.b64encode(os.urandom(450 << 10)).decode()
    with recorded_actions() as ingest_actions:
        invoke(http_event(path, music_task(pipeline, "t1", "a.mp3")))
        invoke(http_event(path, music_task(pipeline, "t1", "a.mp3")))  # a duplicate, counted
        invoke(http_event(path, b"\xff" * (400 << 10), base64_encoded=True))  # 413: nothing
        pipeline.monkeypatch.setenv("SUNO_CALLBACKS_MAX_BODY_BYTES", str(1 << 20))
        load_settings.cache_clear()
        big = os.urandom(600 << 10)  # incompressible, not JSON: quarantined in S3 (too large for an item)
        assert invoke(http_event(path, big, base64_encoded=True))[1]["status"] == "quarantined"
        invoke(http_event(path, big, base64_encoded=True))  # the same again: its repeat counted
        invoke(http_event(path, music_task(pipeline, "t2", "b.mp3")))
        invoke(http_event(path, oversize))
        # the same task under another ref: archive quarantines it (keeping its body in S3 again)
        invoke(http_event(signed_path("music", ref="job-2"), oversize))
    with recorded_actions() as archive_actions:
        with unavailable("s3", "UploadPart"):  # a failed multipart upload is aborted
            pipeline.deliver()
        # time runs out before the next file (the handler asks once first, for its own deadline): the
        # rest of the stage continues in a new message
        pipeline.deliver(LambdaContext(remaining_millis=running_out(1)))
        pipeline.settle()
    assert pipeline.task_items("t2")["TASK"]["outcome"] == "completed"
    assert pipeline.task_items("t3")["TASK"]["outcome"] == "completed"

    app, stack = build_app(app_context())
    template = app.synth().get_stack_by_name(stack.stack_name).template
    for function, used in (("ingest", ingest_actions), ("archive", archive_actions | _EVENT_SOURCE_MAPPING)):
        construct = getattr(stack.receiver, function).function
        granted = (
            _granted_actions(template, stack.get_logical_id(construct.role.node.default_child)) - _RUNTIME
        )
        # CDK's grantConsumeMessages adds GetQueueUrl, which the event source mapping does not need.
        assert granted - used - {"sqs:GetQueueUrl"} == set(), f"{function} is allowed more than it uses"
        assert used - granted == set(), f"{function} uses what it is not allowed"
    assert {"s3:AbortMultipartUpload", "s3:GetObject", "sqs:SendMessage"} <= archive_actions
    assert {"s3:PutObject", "dynamodb:UpdateItem"} <= ingest_actions  # oversize bodies; quarantine repeats


def _granted_actions(template: dict[str, Any], role: str) -> set[str]:
    granted: set[str] = set()
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"]["Roles"]:
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Allow"
                actions = statement["Action"]
                granted |= {actions} if isinstance(actions, str) else set(actions)
    assert granted and not any("*" in action for action in granted), "no wildcard actions"
    return granted
