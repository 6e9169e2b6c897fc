"""Which files archive stores, under which extension and `Content-Type` (DESIGN §6).

Only the formats the provider produces for each media type are stored, and always under a content type
from this table, never the source's own string: an SVG (script inside an "image") or a bare `audio/`
is refused, and what a browser gets from a presigned URL is what the file is.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from suno_callbacks.models.kinds import MediaType

# Per media type: extension -> the content type stored for it. The first entry is the default, used when
# neither the source's content type nor its URL's extension tells.
FORMATS: dict[MediaType, dict[str, str]] = {
    MediaType.AUDIO: {
        "mp3": "audio/mpeg",
        "m4a": "audio/mp4",
        "aac": "audio/aac",
        "wav": "audio/wav",
        "ogg": "audio/ogg",
        "flac": "audio/flac",
    },
    MediaType.WAV: {"wav": "audio/wav"},
    MediaType.IMAGE: {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"},
    MediaType.VIDEO: {"mp4": "video/mp4", "webm": "video/webm", "mov": "video/quicktime"},
}
# Other spellings sources use for the same formats.
_ALIASES = {
    "audio/mp3": "audio/mpeg",
    "audio/mpeg3": "audio/mpeg",
    "audio/x-mpeg": "audio/mpeg",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "audio/x-aac": "audio/aac",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/x-flac": "audio/flac",
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
}
_EXTENSION_ALIASES = {"jpg": "jpeg"}
# What a CDN says when it does not know better: the URL's extension decides then.
_GENERIC = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def url_extension(url: str, media_type: MediaType) -> str | None:
    """The URL path's extension when it is one of the media type's formats (`.jpg` read as `jpeg`)."""
    path = urlsplit(url).path
    if "." not in path.rsplit("/", 1)[-1]:
        return None
    suffix = path.rsplit(".", 1)[-1].lower()
    suffix = _EXTENSION_ALIASES.get(suffix, suffix)
    return suffix if suffix in FORMATS[media_type] else None


def stored_format(header: str | None, url: str, media_type: MediaType) -> tuple[str, str] | None:
    """(extension, content type) to store a download under, or None when the source's content type is
    not a format of `media_type` (the asset is refused)."""
    formats = FORMATS[media_type]
    declared = (header or "").split(";", 1)[0].strip().lower()
    declared = _ALIASES.get(declared, declared)
    from_url = url_extension(url, media_type)
    if declared in _GENERIC:
        extension = from_url or next(iter(formats))
        return extension, formats[extension]
    by_type = [ext for ext, content_type in formats.items() if content_type == declared]
    if not by_type:
        return None
    # The URL's extension when it names this very format (`.m4a` for audio/mp4), else the format's own.
    extension = from_url if from_url in by_type else by_type[0]
    return extension, declared
