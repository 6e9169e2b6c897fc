"""The signing secret, from Secrets Manager through Powertools parameters (cached for `max_age`)."""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError
from pydantic import ValidationError

from suno_callbacks.dal.aws import client
from suno_callbacks.errors import StoreUnavailable
from suno_callbacks.logic.signing import SigningKeys


@cache
def _provider() -> SecretsProvider:
    # Our client, so that the secret is read with the same short timeouts as everything else.
    return SecretsProvider(boto3_client=client("secretsmanager"))


def load_signing_keys(secret_id: str, max_age_seconds: int) -> SigningKeys:
    """The current keys; `StoreUnavailable` (fail closed, answer 503) when they cannot be read."""
    try:
        value = _provider().get(secret_id, transform="json", max_age=max_age_seconds)
        return SigningKeys.model_validate(value)
    except (GetParameterError, TransformParameterError):
        raise StoreUnavailable("signing secret unavailable") from None
    except ValidationError:
        raise StoreUnavailable("signing secret is not JSON with a 'current' key") from None
