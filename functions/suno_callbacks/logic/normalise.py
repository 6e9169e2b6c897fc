"""Provider payload -> `NormalisedCallback`: task id, stage, code, msg, items and media to archive.

Plain Python: knows nothing of Lambda or AWS. Raises `InvalidCallback` (ingest quarantines the body) when
a payload cannot be understood; everything the provider is documented to vary on is accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from suno_callbacks.models.callbacks import (
    CoverImageData,
    Envelope,
    LyricsData,
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
# Track fields copied to S3, as (payload field, our field name, media type). Stream URLs are provisional
# (sometimes zero-byte, sometimes endless) and stay in `links` only.
_TRACK_MEDIA = (
    ("audio_url", "audio", MediaType.AUDIO),
    ("source_audio_url", "source_audio", MediaType.AUDIO),
    ("image_url", "image", MediaType.IMAGE),
    ("source_image_url", "source_image", MediaType.IMAGE),
)


class InvalidCallback(ValueError):
    """The body is authenticated but cannot be understood; `reason` says why (kept with the quarantine)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def normalise_callback(kind: Kind, payload: Any) -> NormalisedCallback:
    """One provider callback of `kind`, as our record shape."""
    if not isinstance(payload, dict):
        raise InvalidCallback("body is not a JSON object")
    envelope = _validate(Envelope, payload, "envelope")
    if envelope.data is not None and not isinstance(envelope.data, dict):
        raise InvalidCallback("data is not an object")
    model, to_items = _SHAPES[kind]
    data = _validate(model, envelope.data or {}, "data")

    task_id = data.task_id or envelope.task_id
    if task_id is None:
        raise InvalidCallback("no task id (looked at data.task_id, data.taskId and task_id)")
    task_id = task_id.strip()
    if len(task_id) > MAX_TASK_ID_LENGTH or not task_id.isprintable():
        raise InvalidCallback("task id is not a printable string of at most 200 characters")

    items, media, error = to_items(data)
    return NormalisedCallback(
        task_id=task_id,
        kind=kind,
        stage=_stage(envelope.code, data, items),
        code=envelope.code,
        msg=envelope.msg or "",
        error=error,
        items=items,
        media=media,
        extra=_extra(envelope, data),
    )


def _validate(model: type[M], value: Any, where: str) -> M:
    try:
        return model.model_validate(value)
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in (where, *first["loc"]))
        raise InvalidCallback(f"{location}: {first['msg']} ({error.error_count()} error(s))") from None


def _stage(code: int, data: StagedData, items: list[Item]) -> Stage:
    """A non-200 code is always an error; a kind without stages maps success to complete."""
    if code != SUCCESS_CODE:
        return Stage.ERROR
    if isinstance(data, VoiceData) and data.status in _VOICE_FAILURES:
        return Stage.ERROR
    name = (data.callback_type or "complete").strip().lower()
    if name not in _STAGE_NAMES:
        raise InvalidCallback(f"unknown callbackType {data.callback_type!r}")
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


Parsed = tuple[list[Item], list[MediaRef], str | None]


def _tracks(data: TracksData) -> Parsed:
    items: list[Item] = []
    media: list[MediaRef] = []
    seen: set[str] = set()
    for position, track in enumerate(data.data, start=1):
        item_id = track.id or str(position)
        if item_id in seen:  # two tracks sharing an id must not share S3 keys
            item_id = f"{item_id}~{position}"
        seen.add(item_id)
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
    info = data.vocal_removal_info or data.vocal_separation_info
    if not info:
        return [], [], None
    links: dict[str, str] = {}
    extra: dict[str, Any] = {}
    for name, value in info.items():
        key = snake_case(name)
        if key.endswith("_url") and isinstance(value, str):
            if value.strip():
                links[key] = value
        else:
            extra[name] = value
    item = Item(item_id=SINGLE_RESULT_ITEM, links=links, extra=extra)
    media = [
        MediaRef(
            item_id=SINGLE_RESULT_ITEM, field=key.removesuffix("_url"), url=url, media_type=MediaType.AUDIO
        )
        for key, url in links.items()
    ]
    return [item], media, None


def _midi(data: MidiData) -> Parsed:
    if not data.instruments:
        return [], [], None
    instruments = [
        Instrument(
            name=instrument.name,
            note_count=len(instrument.notes),
            notes=[
                Note(pitch=n.pitch, start=n.start, end=n.end, velocity=n.velocity) for n in instrument.notes
            ],
        )
        for instrument in data.instruments
    ]
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
