"""Provider payload -> `NormalisedCallback`: task id, stage, code, msg, items and media to archive.

Plain Python: knows nothing of Lambda or AWS. Raises `InvalidCallback` (the body is quarantined) when a
payload cannot be understood; everything the provider is documented to vary on is accepted:
- the legacy body `{code, msg, data}`, nested (`data.task_id`, `data.data[]`) or flat (`task_id` beside
  `code`, `data` the result list: sounds, recovery);
- kie.ai's Market envelope (`data.taskId`, `data.state`, `data.resultJson`: SUNO_CALLBACKS.md §18),
  unwrapped first, its result normalised as the URL's kind.
The URL's kind decides the shape; `msg` is never interpreted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from suno_callbacks.logic.payload import InvalidJson, has_replaced_text, parse_json
from suno_callbacks.models.callbacks import (
    CoverImageData,
    Envelope,
    LyricsData,
    MarketData,
    MidiData,
    ProviderModel,
    SeparationData,
    StagedData,
    TracksData,
    VideoData,
    VoiceData,
    WavData,
    snake_case,
)
from suno_callbacks.models.kinds import TRACK_KINDS, Kind, MediaType, Stage
from suno_callbacks.models.records import Instrument, Item, MediaRef, NormalisedCallback, Note

M = TypeVar("M", bound=BaseModel)

MAX_TASK_ID_LENGTH = 200
SUCCESS_CODE = 200
SINGLE_RESULT_ITEM = "result"

_STAGE_NAMES = {
    "text": Stage.TEXT,
    "first": Stage.FIRST,
    "complete": Stage.COMPLETE,
    "error": Stage.ERROR,
    "failed": Stage.ERROR,  # docs.api.box
}
# Voice statuses that mean the task failed even when `code` says 200.
_VOICE_FAILURES = frozenset({"fail", "processing_validate_fail"})
# Market states: the terminal ones come in callbacks; the others are polling states.
_MARKET_SUCCESS = "success"
_MARKET_FAILURES = frozenset({"fail", "failed"})
_MARKET_STATES = frozenset({_MARKET_SUCCESS, *_MARKET_FAILURES, "waiting", "queuing", "generating"})
_MARKET_KEYS = frozenset({"resultJson", "result_json", "response", "failCode", "fail_code", "failMsg"})
# Track fields copied to S3, as (payload field, our field name, media type). Stream URLs are provisional
# (sometimes zero-byte, sometimes endless) and stay in `links` only.
_TRACK_MEDIA = (
    ("audio_url", "audio", MediaType.AUDIO),
    ("source_audio_url", "source_audio", MediaType.AUDIO),
    ("image_url", "image", MediaType.IMAGE),
    ("source_image_url", "source_image", MediaType.IMAGE),
)


class InvalidCallback(ValueError):
    """The body is authenticated but cannot be understood; `reason` says why (kept with the quarantine).

    `task_id` is the task the body names when that much could be read (kie.ai's signature covers it).
    """

    def __init__(self, reason: str, task_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.task_id = task_id


def normalise_body(kind: Kind, body: bytes) -> NormalisedCallback:
    """A raw callback body of `kind`, as our record shape."""
    try:
        payload = parse_json(body)
    except InvalidJson as invalid:
        raise InvalidCallback(invalid.reason) from None
    return normalise_callback(kind, payload)


def normalise_callback(kind: Kind, payload: Any) -> NormalisedCallback:
    """One parsed provider callback of `kind` (from `parse_json`), as our record shape."""
    if not isinstance(payload, dict):
        raise InvalidCallback("body is not a JSON object")
    try:
        envelope = _validate(Envelope, payload, "body")
        if _is_market(envelope.data):
            return _market(kind, envelope)
        return _legacy(kind, envelope)
    except InvalidCallback as invalid:
        if invalid.task_id is None:
            invalid.task_id = _named_task_id(payload)
        raise


def _named_task_id(payload: dict[str, Any]) -> str | None:
    """The task id a body names, read without understanding the rest (for a body we quarantine)."""
    data = payload.get("data")
    places = [data.get("taskId"), data.get("task_id")] if isinstance(data, dict) else []
    places += [payload.get("task_id"), payload.get("taskId")]
    return next((p for p in places if isinstance(p, str) and p.strip() and p.isprintable()), None)


def _is_market(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    state = data.get("state")
    # MIDI's own `data.state` is "complete", which is not a Market state.
    return not _MARKET_KEYS.isdisjoint(data) or (isinstance(state, str) and state.lower() in _MARKET_STATES)


def _market(kind: Kind, envelope: Envelope) -> NormalisedCallback:
    """Unwrap kie.ai's Market envelope: its task id, its state, the legacy body inside `resultJson`."""
    market = _validate(MarketData, envelope.data, "data")
    task_id = _task_id(market.task_id or envelope.task_id)
    extra = {**envelope.extra_fields, "market": _market_fields(market, envelope)}
    state = (market.state or "").strip().lower()
    if envelope.code != SUCCESS_CODE or state in _MARKET_FAILURES:
        error = ": ".join(text for text in (market.fail_code, market.fail_msg) if text) or None
        return NormalisedCallback(
            task_id=task_id,
            kind=kind,
            stage=Stage.ERROR,
            code=envelope.code,
            msg=envelope.msg or "",
            error=error,
            extra=extra,
        )
    result = _market_result(market, task_id)
    if result is None:
        raise InvalidCallback(
            f"Market callback in state {market.state!r} carries no resultJson or response", task_id
        )
    try:
        inner = normalise_callback(kind, result)
    except InvalidCallback as invalid:
        raise InvalidCallback(f"data.resultJson: {invalid.reason}", task_id) from None
    # The envelope's task id is the one kie.ai signs and the one we record (the inner one is the same).
    return inner.model_copy(update={"task_id": task_id, "extra": {**inner.extra, **extra}})


def _market_result(market: MarketData, task_id: str) -> Any:
    """The legacy body inside the envelope: `resultJson` (a JSON string) or `response` (parsed or not)."""
    for field, given in (("resultJson", market.result_json), ("response", market.response)):
        if given is None or given == "":
            continue
        result = given
        try:
            for _ in range(2):  # a JSON string, sometimes itself encoded as a JSON string
                if isinstance(result, str):
                    result = parse_json(result, what=f"data.{field}")
        except InvalidJson as invalid:
            raise InvalidCallback(invalid.reason, task_id) from None
        if not isinstance(result, dict):
            raise InvalidCallback(f"data.{field} is not a JSON object", task_id)
        return result
    return None


def _market_fields(market: MarketData, envelope: Envelope) -> dict[str, Any]:
    """What the envelope said besides the result: kept, never required (`param` included, as sent)."""
    fields = {"msg": envelope.msg, "model": market.model, "state": market.state, **market.extra_fields}
    if market.fail_code or market.fail_msg:
        fields |= {"fail_code": market.fail_code, "fail_msg": market.fail_msg}
    return {name: value for name, value in fields.items() if value is not None}


def _legacy(kind: Kind, envelope: Envelope) -> NormalisedCallback:
    data = envelope.data
    if isinstance(data, list):  # the flat shape: `data` is the result list itself
        data = {"data": data}
    elif data is not None and not isinstance(data, dict):
        raise InvalidCallback("data is neither an object nor a list")
    warnings = _misrouted(kind, data or {})
    model, to_items = _SHAPES[kind]
    parsed = _validate(model, data or {}, "data")
    task_id = _task_id(parsed.task_id or envelope.task_id)
    try:
        items, media, error = to_items(parsed)
        stage = _stage(envelope, parsed)
    except InvalidCallback as invalid:
        raise InvalidCallback(invalid.reason, task_id) from None
    return NormalisedCallback(
        task_id=task_id,
        kind=kind,
        stage=stage,
        code=envelope.code,
        msg=envelope.msg or "",
        error=error,
        items=items,
        media=media,
        extra=_extra(envelope, parsed),
        warnings=warnings,
    )


# Keys that only one kind's result has (either spelling), and what the kind is.
_SHAPE_MARKERS: tuple[tuple[frozenset[str], Kind], ...] = (
    (
        frozenset({"vocal_removal_info", "vocalRemovalInfo", "vocal_separation_info", "vocalSeparationInfo"}),
        Kind.SEPARATION,
    ),
    (frozenset({"audio_wav_url", "audioWavUrl"}), Kind.WAV),
    (frozenset({"video_url", "videoUrl"}), Kind.VIDEO),
    (frozenset({"images"}), Kind.COVER_IMAGE),
    (frozenset({"instruments"}), Kind.MIDI),
    (frozenset({"voice_id", "voiceId"}), Kind.VOICE),
    (frozenset({"lyrics_data", "lyricsData"}), Kind.LYRICS),
)
_TRACK_KEYS = frozenset({"audio_url", "audioUrl", "stream_audio_url", "streamAudioUrl", "image_url"})
_LYRICS_KEYS = frozenset({"text"})


def _misrouted(kind: Kind, data: dict[str, Any]) -> list[str]:
    """A warning when the body clearly has another kind's shape: the request's callBackUrl was another
    kind's URL (the kind decides how a body is read, so its files would not be found)."""
    looks_like: str | None = next(
        (k.value for markers, k in _SHAPE_MARKERS if not markers.isdisjoint(data)), None
    )
    entries = (
        [e for e in data.get("data") or [] if isinstance(e, dict)]
        if isinstance(data.get("data"), list)
        else []
    )
    if looks_like is None and entries:
        if any(not _TRACK_KEYS.isdisjoint(e) for e in entries):
            looks_like = "tracks (the music family)"
        elif all(not _LYRICS_KEYS.isdisjoint(e) for e in entries):
            looks_like = Kind.LYRICS.value
    belongs = (
        looks_like is None
        or looks_like == kind.value
        or (looks_like.startswith("tracks") and kind in TRACK_KINDS)
        or (looks_like == Kind.VOICE.value and kind in (Kind.VOICE_VALIDATE, Kind.VOICE_REGENERATE))
    )
    if belongs:
        return []
    return [f"the body looks like {looks_like}, not {kind.value}: was the task given another kind's URL?"]


def _task_id(value: str | None) -> str:
    if value is None:
        raise InvalidCallback("no task id (looked at data.task_id, data.taskId and task_id)")
    task_id = value.strip()
    if len(task_id) > MAX_TASK_ID_LENGTH or not task_id.isprintable() or has_replaced_text(task_id):
        raise InvalidCallback("task id is not a printable string of at most 200 characters")
    return task_id


def _validate(model: type[M], value: Any, where: str) -> M:
    try:
        return model.model_validate(value)
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in (where, *first["loc"]))
        raise InvalidCallback(f"{location}: {first['msg']} ({error.error_count()} error(s))") from None


def _stage(envelope: Envelope, data: StagedData) -> Stage:
    """A non-200 code is always an error; a kind without stages maps success to complete."""
    if envelope.code != SUCCESS_CODE:
        return Stage.ERROR
    if isinstance(data, VoiceData) and data.status in _VOICE_FAILURES:
        return Stage.ERROR
    given = data.callback_type or envelope.callback_type
    name = (given or "complete").strip().lower()
    if name not in _STAGE_NAMES:
        raise InvalidCallback(f"unknown callbackType {given!r}")
    return _STAGE_NAMES[name]


def _extra(envelope: Envelope, data: ProviderModel) -> dict[str, Any]:
    extra: dict[str, Any] = envelope.extra_fields
    if data.extra_fields:
        extra["data"] = data.extra_fields
    return extra


def _links(model: ProviderModel, known: dict[str, str | None]) -> dict[str, str]:
    """Every URL an item carried, known fields and unknown ones alike."""
    links = {name: url for name, url in known.items() if url}
    for name, value in model.extra_fields.items():
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            links[snake_case(name)] = value
    return links


def unique_names(names: Iterable[str]) -> list[str]:
    """`names` made distinct by suffixing repeats with `~<position>` (and `~` more while still taken).

    Positions count from 1. Stable: the same list gives the same names, so a `first` and a `complete`
    naming the same tracks give the same item ids (and S3 keys).
    """
    seen: set[str] = set()
    unique: list[str] = []
    for position, name in enumerate(names, start=1):
        candidate = name
        if candidate in seen:
            candidate = f"{name}~{position}"
        while candidate in seen:
            candidate += "~"
        seen.add(candidate)
        unique.append(candidate)
    return unique


Parsed = tuple[list[Item], list[MediaRef], str | None]


def _tracks(data: TracksData) -> Parsed:
    tracks = data.data or data.suno_data
    ids = unique_names((track.id or str(position)).strip() for position, track in enumerate(tracks, 1))
    items: list[Item] = []
    media: list[MediaRef] = []
    for item_id, track in zip(ids, tracks, strict=True):
        urls = {
            "audio_url": track.audio_url,
            "source_audio_url": track.source_audio_url,
            "stream_audio_url": track.stream_audio_url,
            "source_stream_audio_url": track.source_stream_audio_url,
            "image_url": track.image_url,
            "source_image_url": track.source_image_url,
        }
        items.append(
            Item(
                item_id=item_id,
                title=track.title,
                tags=track.tags.strip() if track.tags else track.tags,
                duration=track.duration,
                prompt=track.prompt,
                model=track.model_name,
                created_at=track.create_time,
                status=track.status,
                error=track.error,
                links=_links(track, urls),
                extra=track.extra_fields,
            )
        )
        media.extend(
            MediaRef(item_id=item_id, field=field, url=url, media_type=media_type)
            for source, field, media_type in _TRACK_MEDIA
            if (url := urls[source])
        )
    return items, media, data.error


def _lyrics(data: LyricsData) -> Parsed:
    variants = data.data or data.lyrics_data
    items = [
        Item(
            item_id=str(position),
            title=variant.title,
            lyrics=variant.text,
            status=variant.status,
            error=variant.error_message,
            extra=variant.extra_fields,
        )
        for position, variant in enumerate(variants, start=1)
    ]
    return items, [], None


def _cover_images(data: CoverImageData) -> Parsed:
    items: list[Item] = []
    media: list[MediaRef] = []
    for position, url in enumerate(data.images, start=1):
        if url:
            item_id = str(position)
            items.append(Item(item_id=item_id, links={"image_url": url}))
            media.append(MediaRef(item_id=item_id, field="image", url=url, media_type=MediaType.IMAGE))
    return items, media, None


def _wav(data: WavData) -> Parsed:
    if not data.audio_wav_url:
        return [], [], None
    url = data.audio_wav_url
    item = Item(item_id=SINGLE_RESULT_ITEM, links={"audio_wav_url": url})
    return (
        [item],
        [MediaRef(item_id=SINGLE_RESULT_ITEM, field="audio_wav", url=url, media_type=MediaType.WAV)],
        None,
    )


def _separation(data: SeparationData) -> Parsed:
    """Every `*_url` key of the separation object is a stem (`piano_url` included). Spellings of one key
    (`vocalUrl`, `vocal_url`) naming the same URL are one stem; naming different URLs, two."""
    info = data.vocal_removal_info or data.vocal_separation_info
    if not info:
        return [], [], None
    stems: dict[str, str] = {}  # field -> URL
    extra: dict[str, Any] = {}
    for name, value in info.items():
        key = snake_case(name)
        if not key.endswith("_url"):
            extra[name] = value
        elif isinstance(value, str) and value.strip() and value not in stems.values():
            field = unique_names([*stems, key.removesuffix("_url")])[-1]
            stems[field] = value
    links = {f"{field}_url": url for field, url in stems.items()}
    item = Item(item_id=SINGLE_RESULT_ITEM, links=links, extra=extra)
    media = [
        MediaRef(item_id=SINGLE_RESULT_ITEM, field=field, url=url, media_type=MediaType.AUDIO)
        for field, url in stems.items()
    ]
    return [item], media, None


def _midi(data: MidiData) -> Parsed:
    """Instruments with their playable notes; a note without pitch or finite times is left out."""
    if not data.instruments:
        return [], [], None
    instruments = []
    for instrument in data.instruments:
        notes = [
            Note(
                pitch=n.pitch,
                start=n.start,
                end=n.end,
                velocity=1.0 if n.velocity is None else n.velocity,
            )
            for n in instrument.notes
            if n.pitch is not None and n.start is not None and n.end is not None
        ]
        instruments.append(Instrument(name=instrument.name or "", note_count=len(notes), notes=notes))
    return [Item(item_id=SINGLE_RESULT_ITEM, status=data.state, instruments=instruments)], [], None


def _video(data: VideoData) -> Parsed:
    if not data.video_url:
        return [], [], None
    url = data.video_url
    item = Item(item_id=SINGLE_RESULT_ITEM, links={"video_url": url})
    return (
        [item],
        [MediaRef(item_id=SINGLE_RESULT_ITEM, field="video", url=url, media_type=MediaType.VIDEO)],
        None,
    )


def _voice(data: VoiceData) -> Parsed:
    item = Item(
        item_id=SINGLE_RESULT_ITEM,
        voice_id=data.voice_id,
        validation_phrase=data.validate_info,
        status=data.status,
        error=data.error_message,
        error_code=data.error_code,
    )
    return [item], [], data.error_message


_Shape = tuple[type[StagedData], Callable[[Any], Parsed]]
_SHAPES: dict[Kind, _Shape] = {
    **dict.fromkeys(TRACK_KINDS, (TracksData, _tracks)),
    Kind.LYRICS: (LyricsData, _lyrics),
    Kind.COVER_IMAGE: (CoverImageData, _cover_images),
    Kind.WAV: (WavData, _wav),
    Kind.SEPARATION: (SeparationData, _separation),
    Kind.MIDI: (MidiData, _midi),
    Kind.VIDEO: (VideoData, _video),
    Kind.VOICE: (VoiceData, _voice),
    Kind.VOICE_VALIDATE: (VoiceData, _voice),
    Kind.VOICE_REGENERATE: (VoiceData, _voice),
}
