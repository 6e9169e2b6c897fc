"""Where the CLI finds the stack: `--stack NAME` (its CloudFormation outputs) or the environment."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from suno_callbacks.cli.output import CliError
from suno_callbacks.errors import StoreUnavailable
from suno_callbacks.models.settings import PREFIX, CliSettings, load_settings
from suno_callbacks.reader import settings_from_stack

HOW_TO_CONFIGURE = (
    "run `suno-callbacks local` and paste its export lines into this shell, or pass --stack NAME "
    "for a deployed stack"
)
_CHECK_STACK = "check the stack's name, your AWS credentials and region"


class UrlSettings(BaseModel):
    """What signing a callback URL needs: the API's root and the signing secret, no table."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    base_url: str = Field(alias=f"{PREFIX}BASE_URL", min_length=1)
    secret_id: str = Field(alias=f"{PREFIX}SECRET_ID", min_length=1)


def load_cli_settings(stack_name: str | None) -> CliSettings:
    try:
        if stack_name:
            return settings_from_stack(stack_name, CliSettings)
        settings: CliSettings = load_settings(CliSettings)
        return settings
    except ValidationError:
        raise CliError(
            f"no table configured: {HOW_TO_CONFIGURE} (or set {PREFIX}TABLE and {PREFIX}BUCKET)"
        ) from None
    except StoreUnavailable as error:
        raise CliError(f"{error}: {_CHECK_STACK}") from None


def load_url_settings(stack_name: str | None) -> UrlSettings:
    try:
        if stack_name:
            return settings_from_stack(stack_name, UrlSettings)
        return UrlSettings.model_validate(dict(os.environ))
    except ValidationError:
        raise CliError(
            f"no callback URL configured: {HOW_TO_CONFIGURE} (or set {PREFIX}BASE_URL and {PREFIX}SECRET_ID)"
        ) from None
    except StoreUnavailable as error:
        raise CliError(f"{error}: {_CHECK_STACK}") from None


def require(value: str | None, variable: str) -> str:
    """A setting only some commands need; missing, the error says where it comes from."""
    if not value:
        raise CliError(f"{PREFIX}{variable} is not set: {HOW_TO_CONFIGURE}")
    return value
