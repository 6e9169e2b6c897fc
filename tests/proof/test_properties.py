"""Bad input, property-based (hypothesis): DESIGN §2-§4 hold for inputs nobody wrote down.

- The ingest handler, with arbitrary bodies, headers, paths, methods, encodings and sizes around the limit:
  no 5xx without an injected fault, no exception escaping, an answer from DESIGN §4's table, and nothing
  stored (no item, no object, no message) unless the request was authenticated.
- The normaliser, with the provider payloads of `tests/fixtures` mutated along the drift classes of
  DESIGN §2: a drift that does not change the meaning does not change the result; `msg` never matters; a
  non-200 `code` is always `error`; and any mutation at all gives a result or `InvalidCallback`, never
  another exception.

Reproducible: `derandomize=True` (the same examples on every run, no example database). Set
`PROOF_EXAMPLES` to a multiple (e.g. 10) for a longer search.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import zlib
from typing import Any
from urllib.parse import unquote

from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_event
from hypothesis import strategies as st

from suno_callbacks.dal import keys
from suno_callbacks.dal.aws import client
from suno_callbacks.logic.archive import media_key
from suno_callbacks.logic.midi import InvalidNotes, notes_json, standard_midi_file
from suno_callbacks.logic.normalise import InvalidCallback, normalise_body, normalise_callback
from suno_callbacks.models.callbacks import snake_case
from suno_callbacks.models.kinds import Kind, Stage
from suno_callbacks.models.records import NormalisedCallback
from tests.conftest import fixture_files, kind_of_fixture, load_fixture
from tests.ingest.conftest import http_event, invoke, signed_path
from tests.proof.conftest import BUCKET, TABLE, Pipeline

SCALE = int(os.environ.get("PROOF_EXAMPLES", "1"))
LIMIT = 256 * 1024  # the default body limit


def bounded(examples: int) -> settings:
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        derandomize=True,
        database=None,
        # One moto per test, shared by its examples: each example compares what is stored before and after.
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


FIXTURES: list[tuple[Kind, dict[str, Any]]] = [
    (Kind(kind_of_fixture(path)), load_fixture(path))
    for path in fixture_files("examples") + fixture_files("seeds")
]

json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


# --- the ingest handler ---------------------------------------------------------------------------------


def stored(pipeline: Pipeline) -> tuple[int, int, int]:
    """(table items, objects, queued messages): what an unauthenticated request must not change."""
    items = client("dynamodb").scan(TableName=TABLE, Select="COUNT")["Count"]
    objects = client("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount", 0)
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=pipeline.queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return items, objects, sum(int(v) for v in attributes.values())


real_kinds = st.sampled_from([k.value for k in Kind])
kinds = st.one_of(
    real_kinds,
    real_kinds,
    real_kinds,
    st.text(alphabet=st.characters(codec="ascii", categories=("L", "N", "P", "S")), min_size=1, max_size=20),
)
# JSON text no encoder writes but parsers accept, or that breaks what comes after the parse: numbers that
# are not finite or do not fit a double or DynamoDB, lone UTF-16 surrogates, nesting, duplicate keys.
HOSTILE_LEAVES = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    "1e-200",
    "1e-400",
    "1" + "0" * 40,
    "-" + "9" * 60,
    '"\\ud83d"',
    '"half \\ud83d an emoji"',
    '"\\udead\\ud800"',
    '"..\\/#%25/../."',
    "[" * 70 + "]" * 70,
    "[" * 1500 + "]" * 1500,
    '{"a": 1, "a": {"a": [1, "a"]}}',
]


def hostile(text: str) -> st.SearchStrategy[str]:
    """`text` (JSON) with a hostile leaf written in for one of its values."""
    return st.sampled_from(HOSTILE_LEAVES).flatmap(
        lambda leaf: st.sampled_from([text.replace(m, f": {leaf},", 1) for m in (": 200,", ': "', ": null,")])
    )


FIXTURE_TEXTS = [json.dumps(payload) for _, payload in FIXTURES]
hostile_bodies = st.sampled_from(FIXTURE_TEXTS).flatmap(hostile)
bodies = st.one_of(
    st.sampled_from(FIXTURE_TEXTS),
    json_values.map(json.dumps),
    hostile_bodies,
    st.sampled_from(HOSTILE_LEAVES),
    st.text(max_size=300),
    st.binary(max_size=300),
    st.sampled_from([LIMIT - 1, LIMIT, LIMIT + 1, 3 * LIMIT]).map(lambda n: b"{" + b" " * (n - 2) + b"}"),
)
header_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-ABCXYZ", min_size=1, max_size=20)
headers = st.dictionaries(
    st.one_of(header_names, st.sampled_from(["X-Webhook-Timestamp", "X-Webhook-Signature", "Content-Type"])),
    st.text(alphabet=st.characters(codec="latin-1", exclude_categories=("Cc",)), max_size=60),
    max_size=5,
)
auth_modes = st.sampled_from(
    ["signed", "signed", "signed-with-ref", "signed-with-ref", "unsigned", "wrong-kind", "forged", "garbled"]
)
path_shapes = st.sampled_from(
    ["/callbacks/{}", "/callbacks/{}", "/callbacks/{}", "/callbacks/{}/", "/callbacks/{}/x", "/{}"]
)


def query_for(mode: str, kind: str, ref: str) -> str:
    if mode == "unsigned":
        return ""
    if mode == "forged":
        return f"sig={'A' * 43}"
    if mode == "garbled":
        return "sig=%ZZ&&ref=&sig="
    signed_kind = (
        "music" if mode == "wrong-kind" and kind != "music" else ("video" if mode == "wrong-kind" else kind)
    )
    try:
        return signed_path(signed_kind, ref if mode == "signed-with-ref" else None).split("?", 1)[1]
    except ValueError:  # not a signable kind or ref: as good as unsigned
        return ""


@bounded(200)
@given(
    kind=kinds,
    mode=auth_modes,
    ref=st.from_regex(r"\A[A-Za-z0-9._:@~-]{1,20}\Z"),
    body=bodies,
    extra_headers=headers,
    shape=path_shapes,
    method=st.sampled_from(["POST", "POST", "POST", "POST", "GET", "PUT"]),
    encode=st.booleans(),
)
def test_the_ingest_handler_answers_every_request_and_stores_only_what_is_authenticated(
    pipeline: Pipeline,
    kind: str,
    mode: str,
    ref: str,
    body: str | bytes,
    extra_headers: dict[str, str],
    shape: str,
    method: str,
    encode: bool,
) -> None:
    raw = body.encode() if isinstance(body, str) else body
    query = query_for(mode, kind, ref)
    path = shape.format(kind) + (f"?{query}" if query else "")
    event = http_event(path, raw, method=method, headers=extra_headers, base64_encoded=True)
    if not encode and isinstance(body, str):
        event = http_event(path, body, method=method, headers=extra_headers)
    before = stored(pipeline)

    status, answer = invoke(event)  # nothing may escape
    note_event(f"{status} {answer.get('status', '')}")

    authenticated = (
        mode in ("signed", "signed-with-ref")
        and query != ""
        and kind in {k.value for k in Kind}
        and shape in ("/callbacks/{}", "/callbacks/{}/")
        and method == "POST"
    )
    assert status in (200, 401, 404, 405, 413), (status, answer)
    if status == 200:
        assert authenticated
        assert answer["status"] in ("received", "duplicate", "quarantined")
    if not authenticated:
        assert status != 200
        assert stored(pipeline) == before, "nothing stored without authentication"
    elif shape == "/callbacks/{}":
        assert status == (413 if len(raw) > LIMIT else 200)


@bounded(40)
@given(
    body=st.binary(min_size=1, max_size=200),
    extra_headers=headers,
    signature=st.text(max_size=60),
    timestamp=st.one_of(st.text(max_size=15), st.integers().map(str)),
)
def test_kie_signature_headers_without_the_key_never_authenticate(
    pipeline: Pipeline, body: bytes, extra_headers: dict[str, str], signature: str, timestamp: str
) -> None:
    event = http_event(
        "/callbacks/music",
        body,
        headers={**extra_headers, "x-webhook-signature": signature, "x-webhook-timestamp": timestamp},
        base64_encoded=True,
    )
    before = stored(pipeline)

    status, _ = invoke(event)

    assert status == 401
    assert stored(pipeline) == before


@bounded(150)
@given(fixture=st.sampled_from(FIXTURES), data=st.data())
def test_a_signed_body_with_anything_in_it_is_recorded_or_quarantined_never_lost(
    pipeline: Pipeline, fixture: tuple[Kind, dict[str, Any]], data: st.DataObject
) -> None:
    kind, payload = fixture
    text = data.draw(hostile(json.dumps(payload)))

    status, answer = invoke(http_event(signed_path(kind.value), text))

    assert status == 200 and answer["status"] in ("received", "duplicate", "quarantined"), answer
    note_event(answer["status"])
    if answer["status"] == "quarantined":
        kept = [i for i in pipeline.all_items() if i.get("quarantine_id") == answer["quarantine_id"]]
    else:
        kept = [i for i in pipeline.all_items() if i.get("task_id") == answer["task_id"] and "raw_body" in i]
    assert text.encode() in {zlib.decompress(i["raw_body"]) for i in kept}, "the body is kept"


def test_the_generators_signed_requests_really_authenticate(pipeline: Pipeline) -> None:
    """Otherwise the property above would prove little: its `signed` modes get past authentication."""
    music = next(payload for kind, payload in FIXTURES if kind is Kind.MUSIC)
    for mode in ("signed", "signed-with-ref"):
        query = query_for(mode, "music", "job-1")
        status, answer = invoke(http_event(f"/callbacks/music?{query}", music))
        assert (status, answer["status"]) in ((200, "received"), (200, "duplicate"))
    for mode in ("unsigned", "wrong-kind", "forged", "garbled"):
        query = query_for(mode, "music", "job-1")
        assert invoke(http_event(f"/callbacks/music?{query}", music))[0] == 401


# --- the normaliser ---------------------------------------------------------------------------------------


def canonical(callback: NormalisedCallback, *, without: tuple[str, ...] = ()) -> dict[str, Any]:
    """The result, without the fields a drift may legitimately change (unknown fields keep their spelling)."""
    dumped = callback.model_dump(mode="json", exclude={"extra", *without})
    for item in dumped["items"]:
        item.pop("extra", None)
    dumped["media"].sort(key=lambda ref: (ref["item_id"], ref["field"]))  # key order is not meaning
    return dumped


def dict_nodes(tree: Any, *, into_lists: bool = True) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(tree, dict):
        found.append(tree)
        for value in tree.values():
            found += dict_nodes(value, into_lists=into_lists)
    elif isinstance(tree, list) and into_lists:
        for value in tree:
            found += dict_nodes(value, into_lists=into_lists)
    return found


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)


def flip_case(data: st.DataObject, payload: dict[str, Any]) -> None:
    """A snake_case key becomes camelCase or the reverse (never both spellings in one object)."""
    candidates = [
        (node, key)
        for node in dict_nodes(payload)
        for key in node
        if isinstance(key, str)
        and (other := _flip(key)) != key
        and other not in node
        and snake_case(other) == snake_case(key)
    ]
    if candidates:
        node, key = data.draw(st.sampled_from(candidates))
        node[_flip(key)] = node.pop(key)


def _flip(key: str) -> str:
    return _camel(key) if "_" in key else snake_case(key)


def numbers_as_strings(data: st.DataObject, payload: dict[str, Any]) -> None:
    candidates = [
        (node, key)
        for node in dict_nodes(payload)
        for key, value in node.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]
    if candidates:
        node, key = data.draw(st.sampled_from(candidates))
        node[key] = repr(node[key])


def move_task_id(data: st.DataObject, payload: dict[str, Any]) -> None:
    inner = payload.get("data")
    if not isinstance(inner, dict):
        return
    for name in ("task_id", "taskId"):
        if inner.get(name):
            value = inner.pop(name)
            where = data.draw(st.sampled_from(["data.task_id", "data.taskId", "task_id"]))
            (payload if where == "task_id" else inner)[where.removeprefix("data.")] = value
            return


def callback_type_case(data: st.DataObject, payload: dict[str, Any]) -> None:
    inner = payload.get("data")
    if isinstance(inner, dict):
        for name in ("callbackType", "callback_type"):
            if isinstance(inner.get(name), str):
                style = data.draw(st.sampled_from([str.upper, str.title, str.lower, lambda s: f" {s} "]))
                inner[name] = style(inner[name])


def add_unknown_field(data: st.DataObject, payload: dict[str, Any]) -> None:
    """An unknown field on the envelope, on `data`, or on one of `data`'s listed items."""
    inner = payload.get("data")
    targets = [payload]
    if isinstance(inner, dict):
        targets.append(inner)
        targets += [v for lst in inner.values() if isinstance(lst, list) for v in lst if isinstance(v, dict)]
    node = data.draw(st.sampled_from(targets))
    name = data.draw(st.sampled_from(["proofField", "proof_field_2", "newThing", "x_unknown"]))
    value = data.draw(json_values.filter(lambda v: not (isinstance(v, str) and v.startswith("http"))))
    node.setdefault(name, value)


def reorder_keys(data: st.DataObject, payload: dict[str, Any]) -> None:
    """Keys of one object in another order (the provider sometimes sends them alphabetically)."""
    node = data.draw(st.sampled_from(dict_nodes(payload)))
    order = data.draw(st.permutations(list(node)))
    items = [(key, node.pop(key)) for key in order]
    node.update(items)


def flatten(data: st.DataObject, payload: dict[str, Any]) -> None:
    """The nested shape as the flat one of sounds and recovery: `task_id` (and `callbackType`) beside
    `code`, `data` the result list itself."""
    inner = payload.get("data")
    if not (isinstance(inner, dict) and isinstance(inner.get("data"), list) and len(inner) <= 3):
        return
    if not set(inner) <= {"data", "task_id", "taskId", "callbackType"}:
        return
    for name in ("task_id", "taskId", "callbackType"):
        if name in inner:
            payload.setdefault(name, inner[name])
    payload["data"] = inner["data"]


PRESERVING = [
    flip_case,
    numbers_as_strings,
    move_task_id,
    callback_type_case,
    add_unknown_field,
    reorder_keys,
    flatten,
]


@bounded(300)
@given(fixture=st.sampled_from(FIXTURES), data=st.data())
def test_drift_that_keeps_the_meaning_keeps_the_result(
    fixture: tuple[Kind, dict[str, Any]], data: st.DataObject
) -> None:
    kind, original = fixture
    expected = normalise_callback(kind, original)
    payload = copy.deepcopy(original)
    for mutate in data.draw(st.lists(st.sampled_from(PRESERVING), min_size=1, max_size=6)):
        mutate(data, payload)

    assert canonical(normalise_callback(kind, payload)) == canonical(expected)


LEGACY_SUCCESSES = [
    (kind, payload)
    for kind, payload in FIXTURES
    if str(payload.get("code")) == "200" and "resultJson" not in str(payload.get("data"))
]


def market_envelope(data: st.DataObject, task_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """`body` as kie.ai's Market API calls back: the legacy body as `resultJson` (a JSON string, its keys
    sorted or not) or as a parsed `response`, the task id as `data.taskId`, other fields around it."""
    inner = data.draw(
        st.sampled_from(
            [
                {"resultJson": json.dumps(body)},
                {"resultJson": json.dumps(body, sort_keys=True)},
                {"response": body},
                {"response": json.dumps(body)},
            ]
        )
    )
    market: dict[str, Any] = {
        "taskId": task_id,
        "model": data.draw(st.sampled_from(["ai-music-api/generate", "ai-music-api/other", "chirp-hawk"])),
        "state": data.draw(st.sampled_from(["success", "SUCCESS", "Success"])),
        "param": data.draw(st.sampled_from(['{"model": "x"}', '"{\\"doubly\\": 1}"', "{not json", None])),
        "failCode": None,
        "failMsg": None,
        "completeTime": 1781100041000,
        **inner,
    }
    order = data.draw(st.permutations(list(market)))
    return {
        "code": 200,
        "msg": "Playground task completed successfully.",
        "data": {k: market[k] for k in order},
    }


@bounded(300)
@given(fixture=st.sampled_from(LEGACY_SUCCESSES), data=st.data())
def test_a_market_envelope_around_any_kind_gives_the_legacy_result(
    fixture: tuple[Kind, dict[str, Any]], data: st.DataObject
) -> None:
    kind, original = fixture
    expected = normalise_callback(kind, original)
    payload = copy.deepcopy(original)
    for mutate in data.draw(st.lists(st.sampled_from(PRESERVING), max_size=4)):
        mutate(data, payload)  # the inner body drifts as any legacy body does

    wrapped = normalise_callback(kind, market_envelope(data, expected.task_id, payload))

    assert canonical(wrapped) == canonical(expected)
    assert wrapped.extra["market"]["state"].lower() == "success"


@bounded(100)
@given(
    fixture=st.sampled_from(FIXTURES),
    state=st.sampled_from(["fail", "FAIL", "failed", "success"]),
    code=st.sampled_from([501, 500, "501", 200]),
    fail_code=st.sampled_from(["500", None, "", "E42"]),
    fail_msg=st.one_of(st.none(), st.text(max_size=40)),
)
def test_a_failed_market_task_is_an_error_with_its_fail_code_and_message(
    fixture: tuple[Kind, dict[str, Any]], state: str, code: Any, fail_code: str | None, fail_msg: str | None
) -> None:
    kind, _ = fixture
    if state == "success" and code == 200:
        code = 501
    envelope = {
        "code": code,
        "msg": "Playground task failed.",
        "data": {"taskId": "market-task", "state": state, "failCode": fail_code, "failMsg": fail_msg},
    }

    callback = normalise_callback(kind, envelope)

    assert (callback.task_id, callback.stage, callback.media) == ("market-task", Stage.ERROR, [])
    for text in (fail_code, fail_msg):
        if text and text.strip():
            assert callback.error is not None and text in callback.error


@bounded(100)
@given(
    fixture=st.sampled_from(FIXTURES),
    msg=st.one_of(
        st.text(max_size=80), st.none(), st.sampled_from(["failed", "error", "success", "complete"])
    ),
)
def test_msg_never_changes_the_outcome(fixture: tuple[Kind, dict[str, Any]], msg: str | None) -> None:
    kind, original = fixture
    payload = {**copy.deepcopy(original), "msg": msg}

    assert canonical(normalise_callback(kind, payload), without=("msg",)) == canonical(
        normalise_callback(kind, original), without=("msg",)
    )


@bounded(100)
@given(
    fixture=st.sampled_from(FIXTURES),
    code=st.integers(100, 999).filter(lambda c: c != 200),
    as_text=st.booleans(),
    callback_type=st.sampled_from(["complete", "COMPLETE", "first", "text", None, "failed"]),
)
def test_a_non_200_code_is_always_an_error(
    fixture: tuple[Kind, dict[str, Any]], code: int, as_text: bool, callback_type: str | None
) -> None:
    kind, original = fixture
    payload = copy.deepcopy(original)
    payload["code"] = str(code) if as_text else code
    if isinstance(payload.get("data"), dict) and callback_type is not None:
        payload["data"]["callbackType"] = callback_type

    assert normalise_callback(kind, payload).stage is Stage.ERROR


def _replace_somewhere(data: st.DataObject, payload: dict[str, Any]) -> None:
    nodes = dict_nodes(payload)
    node = data.draw(st.sampled_from(nodes))
    if node:
        key = data.draw(st.sampled_from(sorted(node, key=str)))
        action = data.draw(st.sampled_from(["replace", "delete", "null", "empty-list", "empty-string"]))
        if action == "delete":
            del node[key]
        else:
            node[key] = {
                "replace": data.draw(json_values),
                "null": None,
                "empty-list": [],
                "empty-string": "",
            }[action]


@bounded(300)
@given(fixture=st.sampled_from(FIXTURES), data=st.data())
def test_any_mutation_gives_a_result_or_invalid_callback_and_nothing_else(
    fixture: tuple[Kind, dict[str, Any]], data: st.DataObject
) -> None:
    kind, original = fixture
    payload = copy.deepcopy(original)
    for _ in range(data.draw(st.integers(1, 5))):
        mutate = data.draw(st.sampled_from([*PRESERVING, _replace_somewhere, _replace_somewhere]))
        mutate(data, payload)

    try:
        callback = normalise_callback(kind, payload)
    except InvalidCallback as invalid:
        assert invalid.reason
        return
    assert callback.task_id and len(callback.task_id) <= 200 and callback.task_id.isprintable()
    assert json.loads(callback.model_dump_json())["kind"] == kind.value
    assert all(ref.url.strip() for ref in callback.media)


@bounded(150)
@given(kind=st.sampled_from(list(Kind)), payload=json_values)
def test_arbitrary_json_gives_a_result_or_invalid_callback(kind: Kind, payload: Any) -> None:
    with contextlib.suppress(InvalidCallback):
        normalise_callback(kind, payload)


def test_the_fixtures_cover_every_kind() -> None:
    assert {kind for kind, _ in FIXTURES} == set(Kind)


# --- the archive's renderings and keys --------------------------------------------------------------------

names = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["鼓", "Drums 🥁", "", "..", "a\x00b", "\ufffd", "Piano\nRight hand"]),
)
times = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**40), 10**40),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "0.5", "", "abc"]),
    st.none(),
)


@bounded(200)
@given(
    instruments=st.lists(
        st.fixed_dictionaries(
            {
                "name": names,
                "notes": st.lists(
                    st.fixed_dictionaries(
                        {
                            "pitch": st.one_of(st.integers(-(10**6), 10**6), times),
                            "start": times,
                            "end": times,
                            "velocity": times,
                        }
                    ),
                    max_size=6,
                ),
            }
        ),
        max_size=4,
    )
)
def test_any_midi_notes_render_or_are_refused_as_invalid_notes(instruments: list[dict[str, Any]]) -> None:
    body = {"code": 200, "data": {"taskId": "t", "state": "complete", "instruments": instruments}}
    try:  # json.dumps writes NaN and Infinity as the provider's encoders do
        callback = normalise_body(Kind.MIDI, json.dumps(body).encode())
    except InvalidCallback:
        return
    for item in callback.items:
        played = item.instruments or []
        with contextlib.suppress(InvalidNotes):
            assert json.loads(notes_json("t", played))["task_id"] == "t"
        with contextlib.suppress(InvalidNotes):
            assert standard_midi_file(played).startswith(b"MThd")


ids = st.one_of(
    st.text(max_size=12),
    st.sampled_from([".", "..", "/", "a/b", "#", "%", "%2E", "a#b", "*", "~1", "x~2"]),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)


@bounded(200)
@given(task_id=st.text(min_size=1, max_size=30).filter(str.isprintable), track_ids=st.lists(ids, max_size=8))
def test_every_track_gets_its_own_keys_and_no_key_has_a_dot_segment(
    task_id: str, track_ids: list[Any]
) -> None:
    tracks = [{"id": i, "audio_url": f"https://cdn1.suno.ai/{n}.mp3"} for n, i in enumerate(track_ids)]
    body = {"code": 200, "data": {"callbackType": "complete", "task_id": task_id, "data": tracks}}
    try:
        callback = normalise_callback(Kind.MUSIC, body)
    except InvalidCallback:
        return
    s3_keys = [media_key(Kind.MUSIC, callback.task_id, m.item_id, m.field, "mp3") for m in callback.media]
    table_keys = [keys.asset_sk(m.item_id, m.field) for m in callback.media]
    assert len(set(s3_keys)) == len(set(table_keys)) == len(tracks), "one file per track"
    for key in s3_keys:
        segments = key.split("/")
        assert "" not in segments and not {".", ".."} & set(segments)
        assert [unquote(part) for part in segments[2:4]] == [
            callback.task_id,
            segments and unquote(segments[3]),
        ]
