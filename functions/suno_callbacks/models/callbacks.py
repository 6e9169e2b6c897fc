"""What the provider sends, one lenient pydantic model per payload shape (SUNO_CALLBACKS.md, DESIGN §2).

The provider drifts; these models absorb it in one place:
- camelCase and snake_case spellings of a known field are both accepted (`ProviderModel`);
- `""` and `null` are the same absence; numbers may come as strings (pydantic's lax mode);
- lists may be `[]`, `null` or absent;
- unknown fields are kept (`extra="allow"`) under their original names.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake_case(key: str) -> str:
    return _CAMEL_BOUNDARY.sub(r"_\1", key).lower()


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _none_to_empty_list(value: Any) -> Any:
    return [] if value is None else value


def _epoch_ms_to_iso(value: Any) -> Any:
    """`createTime` is "YYYY-MM-DD HH:MM:SS" or epoch milliseconds (number or digits)."""
    value = _blank_to_none(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        moment = datetime.fromtimestamp(float(value) / 1000, tz=UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return value


OptStr = Annotated[str | None, BeforeValidator(_blank_to_none)]
OptFloat = Annotated[float | None, BeforeValidator(_blank_to_none)]
OptInt = Annotated[int | None, BeforeValidator(_blank_to_none)]
Timestamp = Annotated[str | None, BeforeValidator(_epoch_ms_to_iso)]


class ProviderModel(BaseModel):
    """Base of every provider shape: camelCase keys map to the snake_case field, unknown keys are kept."""

    # Built on first use: a function instance only pays for the shapes of the kinds it receives.
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _accept_either_case(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        renamed: dict[str, Any] = {}
        for key, item in value.items():
            snake = snake_case(key) if isinstance(key, str) else key
            # The snake_case spelling wins when both are present; the other is kept as an extra field.
            use_snake = snake != key and snake in cls.model_fields and snake not in value
            renamed[snake if use_snake else key] = item
        return renamed

    @property
    def extra_fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


# `[]`, `null` and an absent key all mean "no entries".
EMPTY_IF_NULL = BeforeValidator(_none_to_empty_list)


class Envelope(ProviderModel):
    """`{code, msg, data}`; MIDI (sunoapi) puts `task_id` beside them."""

    code: int
    msg: OptStr = None
    data: Any = None
    task_id: OptStr = None


class StagedData(ProviderModel):
    task_id: OptStr = None
    callback_type: OptStr = None


class Track(ProviderModel):
    id: OptStr = None
    audio_url: OptStr = None
    source_audio_url: OptStr = None
    stream_audio_url: OptStr = None
    source_stream_audio_url: OptStr = None
    image_url: OptStr = None
    source_image_url: OptStr = None
    prompt: str | None = None
    model_name: OptStr = None
    title: str | None = None
    tags: str | None = None
    create_time: Timestamp = None
    duration: OptFloat = None


class TracksData(StagedData):
    """music, extend, upload-cover, upload-extend, add-instrumental, add-vocals, replace-section."""

    data: Annotated[list[Track], EMPTY_IF_NULL] = Field(default_factory=list)
    error: OptStr = None


class LyricsVariant(ProviderModel):
    text: str | None = None
    title: str | None = None
    status: OptStr = None
    error_message: OptStr = None


class LyricsData(StagedData):
    data: Annotated[list[LyricsVariant], EMPTY_IF_NULL] = Field(default_factory=list)
    # Legacy payloads name the list `lyricsData`.
    lyrics_data: Annotated[list[LyricsVariant], EMPTY_IF_NULL] = Field(default_factory=list)


class CoverImageData(StagedData):
    images: Annotated[list[OptStr], EMPTY_IF_NULL] = Field(default_factory=list)


class WavData(StagedData):
    audio_wav_url: OptStr = None


class SeparationData(StagedData):
    vocal_removal_info: dict[str, Any] | None = None
    # kie.ai's English docs name the same object differently.
    vocal_separation_info: dict[str, Any] | None = None


class MidiNote(ProviderModel):
    pitch: int
    start: float
    end: float
    velocity: float = 1.0


class MidiInstrument(ProviderModel):
    name: str = ""
    notes: Annotated[list[MidiNote], EMPTY_IF_NULL] = Field(default_factory=list)


class MidiData(StagedData):
    state: OptStr = None
    instruments: Annotated[list[MidiInstrument], EMPTY_IF_NULL] = Field(default_factory=list)


class VideoData(StagedData):
    video_url: OptStr = None


class VoiceData(StagedData):
    """voice, voice-validate, voice-regenerate."""

    voice_id: OptStr = None
    validate_info: OptStr = None
    status: OptStr = None
    error_code: OptInt = None
    error_message: OptStr = None
