"""What the provider sends, one lenient pydantic model per payload shape (SUNO_CALLBACKS.md, DESIGN §2).

The provider drifts; these models absorb it in one place:
- camelCase and snake_case spellings of a known field are both accepted (`ProviderModel`);
- `""` and `null` are the same absence; numbers may come as strings;
- a descriptive field of the wrong type (a title that is a list, an id that is an object) is read as
  absent rather than failing the whole callback: the raw body keeps what was sent;
- lists may be `[]`, `null` or absent, and entries that are not objects are skipped;
- unknown fields are kept (`extra="allow"`) under their original names.
Only what decides a callback's meaning is strict: the envelope's `code`.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])([A-Z])")
# A provider result code is an HTTP-like status; anything else is not a code we can interpret.
_CODE_RANGE = range(-(2**31), 2**31)


@lru_cache(maxsize=4096)
def snake_case(key: str) -> str:
    """Provider keys repeat from callback to callback: each spelling is converted once per process."""
    return _CAMEL_BOUNDARY.sub(r"_\1", key).lower()


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _loose_text(value: Any) -> str | None:
    """Text, or a number written as text; anything else (blank, object, list, bool) is absent."""
    if isinstance(value, bool) or _is_blank(value):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return str(value)
    return None


def _loose_float(value: Any) -> float | None:
    """A finite number, or text holding one; anything else is absent."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _loose_int(value: Any) -> int | None:
    number = _loose_float(value)
    return int(number) if number is not None and number.is_integer() else None


def _epoch_ms_to_iso(value: Any) -> str | None:
    """`createTime` is "YYYY-MM-DD HH:MM:SS" or epoch milliseconds (number or digits)."""
    if isinstance(value, str) and not value.strip().isdigit():
        return _loose_text(value)
    millis = _loose_float(value)
    if millis is None:
        return None
    try:
        moment = datetime.fromtimestamp(millis / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return str(value)  # a number no calendar holds: kept as it came
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _objects_only(value: Any) -> list[Any]:
    if not isinstance(value, list):
        return []
    return [entry for entry in value if isinstance(entry, dict)]


def _texts_only(value: Any) -> list[str | None]:
    if not isinstance(value, list):
        return []
    return [_loose_text(entry) for entry in value]


def _code(value: Any) -> Any:
    """The envelope's `code`: an integer (or digits); other values fail validation."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value not in _CODE_RANGE:
        raise ValueError("not a status code")
    return value


Text = Annotated[str | None, BeforeValidator(_loose_text)]
Number = Annotated[float | None, BeforeValidator(_loose_float)]
Integer = Annotated[int | None, BeforeValidator(_loose_int)]
Timestamp = Annotated[str | None, BeforeValidator(_epoch_ms_to_iso)]
Texts = Annotated[list[str | None], BeforeValidator(_texts_only)]
# A list of provider objects: `null` or absent is empty, entries that are not objects are skipped.
OBJECTS = BeforeValidator(_objects_only)


class ProviderModel(BaseModel):
    """Base of every provider shape: camelCase keys map to the snake_case field, unknown keys are kept."""

    # Built on first use: a function instance only pays for the shapes of the kinds it receives.
    model_config = ConfigDict(extra="allow", defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _accept_either_case(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        renamed = dict(value)
        for key, item in value.items():
            snake = snake_case(key) if isinstance(key, str) else key
            if snake == key or snake not in cls.model_fields:
                continue
            # The snake_case spelling wins when both carry a value (the other stays an extra field); a
            # blank one yields to a camelCase one that has a value.
            if snake not in value or (_is_blank(value[snake]) and not _is_blank(item)):
                renamed[snake] = renamed.pop(key)
        return renamed

    @property
    def extra_fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Envelope(ProviderModel):
    """`{code, msg, data}`. Flat bodies (sounds, recovery, sunoapi.org MIDI) put `task_id` (and sometimes
    `callbackType`) beside them, and `data` may then be the result list itself."""

    code: Annotated[int, BeforeValidator(_code)]
    msg: Text = None
    data: Any = None
    task_id: Text = None
    callback_type: Text = None


class MarketData(ProviderModel):
    """kie.ai's Market envelope (`data` of `{code, msg, data}`, SUNO_CALLBACKS.md §18).

    `result_json` is the legacy callback body as a JSON string (absent on failure); `response` a parsed copy
    that may appear instead. `param` (the create request) and the other fields are kept, never required.
    """

    task_id: Text = None
    model: Text = None
    state: Text = None
    result_json: Any = None
    response: Any = None
    fail_code: Text = None
    fail_msg: Text = None


class StagedData(ProviderModel):
    task_id: Text = None
    callback_type: Text = None


class Track(ProviderModel):
    """A track of the music family, sounds and recovery (recovery adds a per-item `status` and `error`)."""

    id: Text = None
    audio_url: Text = None
    source_audio_url: Text = None
    stream_audio_url: Text = None
    source_stream_audio_url: Text = None
    image_url: Text = None
    source_image_url: Text = None
    prompt: Text = None
    model_name: Text = None
    title: Text = None
    tags: Text = None
    create_time: Timestamp = None
    duration: Number = None
    status: Text = None
    error: Text = None


class TracksData(StagedData):
    """music, extend, upload-cover, upload-extend, add-instrumental, add-vocals, replace-section, mashup,
    sounds, recovery. kie.ai's polling shape names the list `sunoData`."""

    data: Annotated[list[Track], OBJECTS] = Field(default_factory=list)
    suno_data: Annotated[list[Track], OBJECTS] = Field(default_factory=list)
    error: Text = None


class LyricsVariant(ProviderModel):
    text: Text = None
    title: Text = None
    status: Text = None
    error_message: Text = None


class LyricsData(StagedData):
    data: Annotated[list[LyricsVariant], OBJECTS] = Field(default_factory=list)
    # Legacy payloads name the list `lyricsData`.
    lyrics_data: Annotated[list[LyricsVariant], OBJECTS] = Field(default_factory=list)


class CoverImageData(StagedData):
    images: Texts = Field(default_factory=list)


class WavData(StagedData):
    audio_wav_url: Text = None


class SeparationData(StagedData):
    vocal_removal_info: dict[str, Any] | None = None
    # kie.ai's English docs name the same object differently.
    vocal_separation_info: dict[str, Any] | None = None


class MidiNote(ProviderModel):
    """`start`/`end` come as numbers or strings; a note without finite times or pitch is not playable."""

    pitch: Integer = None
    start: Number = None
    end: Number = None
    velocity: Number = None


class MidiInstrument(ProviderModel):
    name: Text = None
    notes: Annotated[list[MidiNote], OBJECTS] = Field(default_factory=list)


class MidiData(StagedData):
    state: Text = None
    instruments: Annotated[list[MidiInstrument], OBJECTS] = Field(default_factory=list)


class VideoData(StagedData):
    video_url: Text = None


class VoiceData(StagedData):
    """voice, voice-validate, voice-regenerate."""

    voice_id: Text = None
    validate_info: Text = None
    status: Text = None
    error_code: Integer = None
    error_message: Text = None
