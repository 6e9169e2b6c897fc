"""MIDI notes from the provider's callback, as JSON and as a Standard MIDI File (via mido).

The notes are the provider's: any name (CJK, emoji), any time. Times are clamped to what a MIDI file
holds; anything the renderer still refuses is `InvalidNotes`, which archive records as a failed asset.
"""

from __future__ import annotations

import io
import json

import mido

from suno_callbacks.models.records import Instrument

TICKS_PER_BEAT = 480
# The provider gives seconds; at the default tempo (120 bpm) one second is two beats.
_TEMPO = mido.bpm2tempo(120)
_TICKS_PER_SECOND = TICKS_PER_BEAT * 2
# A delta time is at most 0x0FFFFFFF ticks: about 77 hours at this resolution. No song is a day long.
_MAX_SECONDS = 24 * 3600
_DRUM_CHANNEL = 9
_MELODIC_CHANNELS = [c for c in range(16) if c != _DRUM_CHANNEL]


class InvalidNotes(ValueError):
    """The notes cannot be written as MIDI."""


def notes_json(task_id: str, instruments: list[Instrument]) -> bytes:
    """Every instrument with all its notes (start and end in seconds, velocity 0-1)."""
    document = {
        "task_id": task_id,
        "instruments": [
            {"name": i.name, "notes": [note.model_dump() for note in i.notes]} for i in instruments
        ],
    }
    try:
        return json.dumps(document, separators=(",", ":"), allow_nan=False).encode()
    except ValueError as error:
        raise InvalidNotes(str(error)) from None


def standard_midi_file(instruments: list[Instrument]) -> bytes:
    """A type 1 MIDI file: one track per instrument, drums on the General MIDI percussion channel."""
    try:
        return _render(instruments)
    except (ValueError, OverflowError, TypeError) as error:
        raise InvalidNotes(str(error)) from None


def _ticks(seconds: float) -> int:
    return round(min(max(seconds, 0.0), _MAX_SECONDS) * _TICKS_PER_SECOND)


def _render(instruments: list[Instrument]) -> bytes:
    # Track names are text the provider chose: UTF-8, not MIDI's customary Latin-1.
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT, charset="utf-8")
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=_TEMPO, time=0)]))
    melodic = 0
    for instrument in instruments:
        if "drum" in instrument.name.lower():
            channel = _DRUM_CHANNEL
        else:
            channel = _MELODIC_CHANNELS[melodic % len(_MELODIC_CHANNELS)]
            melodic += 1
        events: list[tuple[int, int, str, int, int]] = []
        for note in instrument.notes:
            pitch = min(max(note.pitch, 0), 127)
            velocity = min(max(round(note.velocity * 127), 1), 127)
            start = _ticks(note.start)
            end = max(_ticks(note.end), start)
            # Offs sort before ons at the same tick, so a repeated pitch is not cut short.
            events.append((start, 1, "note_on", pitch, velocity))
            events.append((end, 0, "note_off", pitch, 0))
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=instrument.name, time=0)])
        now = 0
        for tick, _order, kind, pitch, velocity in sorted(events):
            track.append(mido.Message(kind, channel=channel, note=pitch, velocity=velocity, time=tick - now))
            now = tick
        midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()
