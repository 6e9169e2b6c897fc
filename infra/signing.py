"""The secret that signs callback URLs (DESIGN §3), generated at deploy.

Shape: `{"current": <generated>, "previous": "", "kie_webhook_key": ""}`. Ingest accepts URLs signed
with `current` or `previous`, so rotating is: copy `current` to `previous`, set a new `current`, and
once every pending task has called back, clear `previous` (README "Rotating the signing secret").
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import constants
from infra.storage import RETAINED


class SigningSecretConstruct(Construct):
    """`secret`: encrypted with the AWS-managed key, so readers need no KMS statement."""

    def __init__(self, scope: Construct, id_: str) -> None:
        super().__init__(scope, id_)
        self.secret = secretsmanager.Secret(
            self,
            "UrlSigning",
            description="suno-callbacks: HMAC keys for callback URLs; optional kie.ai webhook key",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=constants.SECRET_TEMPLATE,
                generate_string_key=constants.SECRET_GENERATED_KEY,
                exclude_punctuation=True,
                password_length=constants.SECRET_LENGTH,
            ),
            # Kept like the records: URLs signed with it may still be in providers' pending requests.
            removal_policy=RETAINED,
        )
        Validations.of(self.secret).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SMG4",
                reason=(
                    "Signed URLs are already in providers' pending requests, so an automatic rotation would "
                    "reject their callbacks; rotation is the documented two-key swap (current -> previous)."
                ),
            )
        )
