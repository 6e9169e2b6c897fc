"""MIDI notes from the provider's callback, as JSON and as a Standard MIDI File (via mido)."""

from __future__ import annotations

import io
import json

import mido

from suno_callbacks.models.records import Instrument

TICKS_PER_BEAT = 480
# The provider gives seconds; at the default tempo (120 bpm) one second is two beats.
_TEMPO = mido.bpm2tempo(120)
_TICKS_PER_SECOND = TICKS_PER_BEAT * 2
_DRUM_CHANNEL = 9
_MELODIC_CHANNELS = [c for c in range(16) if c != _DRUM_CHANNEL]


def notes_json(task_id: str, instruments: list[Instrument]) -> bytes:
    """Every instrument with all its notes (start and end in seconds, velocity 0-1)."""
    document = {
        "task_id": task_id,
        "instruments": [
            {"name": i.name, "notes": [note.model_dump() for note in i.notes]} for i in instruments
        ],
    }
    return json.dumps(document, separators=(",", ":")).encode()


def standard_midi_file(instruments: list[Instrument]) -> bytes:
    """A type 1 MIDI file: one track per instrument, drums on the General MIDI percussion channel."""
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
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
            start = max(round(note.start * _TICKS_PER_SECOND), 0)
            end = max(round(note.end * _TICKS_PER_SECOND), start)
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
