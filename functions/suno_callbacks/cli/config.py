"""Where the CLI finds the stack: `--stack NAME` (its CloudFormation outputs) or the environment."""

from __future__ import annotations

from pydantic import ValidationError

from suno_callbacks.cli.output import CliError
from suno_callbacks.errors import StoreUnavailable
from suno_callbacks.models.settings import PREFIX, CliSettings, load_settings
from suno_callbacks.reader import settings_from_stack

HOW_TO_CONFIGURE = (
    "run `suno-callbacks local` and paste its export lines into this shell, or pass --stack NAME "
    f"for a deployed stack (or set {PREFIX}TABLE and {PREFIX}BUCKET)"
)


def load_cli_settings(stack_name: str | None) -> CliSettings:
    try:
        if stack_name:
            return settings_from_stack(stack_name, CliSettings)
        settings: CliSettings = load_settings(CliSettings)
        return settings
    except ValidationError:
        raise CliError(f"no table configured: {HOW_TO_CONFIGURE}") from None
    except StoreUnavailable as error:
        raise CliError(f"{error}: check the stack's name, your AWS credentials and region") from None


def require(value: str | None, variable: str) -> str:
    """A setting only some commands need; missing, the error says where it comes from."""
    if not value:
        raise CliError(f"{PREFIX}{variable} is not set: {HOW_TO_CONFIGURE}")
    return value
