"""What local mode keeps across restarts: `local.json` in a state folder (default `.suno-callbacks/` in the
current directory) holds the signing secret it generated, so that URLs signed by one run are accepted by
the next. The store itself (table, bucket, queues) lives in memory and does not survive a restart.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from suno_callbacks.models.settings import PREFIX

SECRET_ENV = f"{PREFIX}SECRET"
DEFAULT_STATE_DIR = Path(".suno-callbacks")
STATE_FILE_NAME = "local.json"


class SecretOrigin(StrEnum):
    ENVIRONMENT = "environment"  # SECRET_ENV was set: it wins, and nothing is saved
    SAVED = "saved"  # read from the state file, written by an earlier run
    GENERATED = "generated"  # new (first run, or --reset), and saved to the state file


@dataclass(frozen=True)
class LocalSecret:
    value: str
    origin: SecretOrigin
    state_file: Path


def generate_secret() -> str:
    """48 letters and digits, like the stack's generated secret."""
    return secrets.token_hex(24)


class StateError(Exception):
    """The state file cannot be read or written; the message says which and why."""


def local_secret(state_dir: Path, *, reset: bool = False) -> LocalSecret:
    """The signing secret for this run: SECRET_ENV when set, else the saved one (unless `reset`), else a
    new one, saved for the next run."""
    state_file = state_dir / STATE_FILE_NAME
    given = os.environ.get(SECRET_ENV)
    if given:
        return LocalSecret(given, SecretOrigin.ENVIRONMENT, state_file)
    if not reset and state_file.exists():
        return LocalSecret(_read_secret(state_file), SecretOrigin.SAVED, state_file)
    secret = generate_secret()
    _write_secret(state_file, secret)
    return LocalSecret(secret, SecretOrigin.GENERATED, state_file)


def _read_secret(state_file: Path) -> str:
    try:
        saved = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise StateError(
            f"cannot read {state_file} ({error}): pass --reset to start with a new secret"
        ) from None
    secret = saved.get("secret") if isinstance(saved, dict) else None
    if not isinstance(secret, str) or not secret:
        raise StateError(f"{state_file} holds no secret: pass --reset to start with a new secret")
    return secret


def _write_secret(state_file: Path, secret: str) -> None:
    try:
        state_file.parent.mkdir(parents=True, exist_ok=True)
        # Readable by its owner only, like any file holding a key.
        descriptor = os.open(state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump({"secret": secret}, out, indent=2)
            out.write("\n")
    except OSError as error:
        raise StateError(
            f"cannot write {state_file} ({error.strerror}): pass --state-dir PATH in a folder you can write"
        ) from None
