"""The callback kinds (the route segment), the stages of a task and the media types we archive."""

from enum import StrEnum


class Kind(StrEnum):
    MUSIC = "music"
    EXTEND = "extend"
    UPLOAD_COVER = "upload-cover"
    UPLOAD_EXTEND = "upload-extend"
    ADD_INSTRUMENTAL = "add-instrumental"
    ADD_VOCALS = "add-vocals"
    REPLACE_SECTION = "replace-section"
    COVER_IMAGE = "cover-image"
    LYRICS = "lyrics"
    WAV = "wav"
    SEPARATION = "separation"
    MIDI = "midi"
    VIDEO = "video"
    VOICE = "voice"
    VOICE_VALIDATE = "voice-validate"
    VOICE_REGENERATE = "voice-regenerate"
    MASHUP = "mashup"
    SOUNDS = "sounds"
    RECOVERY = "recovery"


# Kinds whose payload is a list of tracks (`data.data[]`, or `data[]` in the flat shape of sounds and
# recovery) with audio, image and stream URLs.
TRACK_KINDS = frozenset(
    {
        Kind.MUSIC,
        Kind.EXTEND,
        Kind.UPLOAD_COVER,
        Kind.UPLOAD_EXTEND,
        Kind.ADD_INSTRUMENTAL,
        Kind.ADD_VOCALS,
        Kind.REPLACE_SECTION,
        Kind.MASHUP,
        Kind.SOUNDS,
        Kind.RECOVERY,
    }
)


class Stage(StrEnum):
    TEXT = "text"
    FIRST = "first"
    COMPLETE = "complete"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """Status order: text < first < complete < error. A task's status only moves up."""
        return _RANK[self]

    @property
    def is_terminal(self) -> bool:
        return self in (Stage.COMPLETE, Stage.ERROR)


_RANK = {Stage.TEXT: 1, Stage.FIRST: 2, Stage.COMPLETE: 3, Stage.ERROR: 4}


class MediaType(StrEnum):
    AUDIO = "audio"
    IMAGE = "image"
    VIDEO = "video"
    WAV = "wav"
