"""`SunoCallbackReceiver`: the whole receiver as one construct that any CDK app can embed.

receiver = SunoCallbackReceiver(stack, "SunoCallbacks", config=ReceiverConfig(alarm_email="ops@…"))
receiver.grant_read(my_function)            # read tasks and archived media
receiver.topic.add_subscription(...)        # or react to task.completed / task.failed
receiver.callback_base_url                  # https://…/callbacks (append /{kind} and sign it)
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct

from infra import constants
from infra.archive import ArchiveConstruct
from infra.bundling import function_code
from infra.config import ReceiverConfig
from infra.functions import powertools_layer
from infra.ingest_api import IngestApiConstruct
from infra.messaging import MessagingConstruct
from infra.monitoring import MonitoredResources, MonitoringConstruct
from infra.signing import SigningSecretConstruct
from infra.storage import StorageConstruct
from infra.sweep import SweepConstruct
from suno_callbacks.dal import keys


class SunoCallbackReceiver(Construct):
    """Callback URL, records table, media bucket, archive queue, events topic, sweep and alarms."""

    def __init__(self, scope: Construct, id_: str, *, config: ReceiverConfig | None = None) -> None:
        super().__init__(scope, id_)
        config = config or ReceiverConfig()
        self.storage = StorageConstruct(self, "Storage", config=config)
        self.messaging = MessagingConstruct(
            self, "Messaging", config=config, consumer_timeout_seconds=constants.ARCHIVE_TIMEOUT_SECONDS
        )
        self.signing = SigningSecretConstruct(self, "Signing")
        code = function_code()
        layer = powertools_layer(self, config.powertools_layer_version)
        self.ingest = IngestApiConstruct(
            self,
            "Ingest",
            config=config,
            code=code,
            layer=layer,
            table=self.storage.table,
            bucket=self.storage.bucket,
            queue=self.messaging.queue,
            secret=self.signing.secret,
        )
        self.archive = ArchiveConstruct(
            self,
            "Archive",
            config=config,
            code=code,
            layer=layer,
            table=self.storage.table,
            bucket=self.storage.bucket,
            queue=self.messaging.queue,
            topic=self.messaging.topic,
        )
        self.sweep = SweepConstruct(
            self,
            "Sweep",
            config=config,
            code=code,
            layer=layer,
            table=self.storage.table,
            queue=self.messaging.queue,
        )
        self.monitoring = MonitoringConstruct(
            self,
            "Monitoring",
            config=config,
            resources=MonitoredResources(
                stage=self.ingest.stage,
                ingest=self.ingest.function,
                archive=self.archive.function,
                sweep=self.sweep.function,
                queue=self.messaging.queue,
                dead_letter_queue=self.messaging.dead_letter_queue,
            ),
        )
        self.table = self.storage.table
        self.bucket = self.storage.bucket
        self.topic = self.messaging.topic
        self.queue = self.messaging.queue
        self.dead_letter_queue = self.messaging.dead_letter_queue
        self.secret = self.signing.secret
        self.callback_base_url = self.ingest.callback_base_url

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read tasks (GetItem, BatchGetItem, Query on the table and its indexes) and archived media.

        Nothing else: no Scan, no writes, no quarantined bodies, no secret.
        """
        table_read = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"],
            resource_arns=[
                self.table.table_arn,
                f"{self.table.table_arn}/index/{keys.BY_KIND_TIME_INDEX}",
                f"{self.table.table_arn}/index/{keys.BY_REF_INDEX}",
            ],
        )
        media_read = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:GetObject"],
            resource_arns=[self.bucket.arn_for_objects(f"{constants.MEDIA_PREFIX}*")],
        )
        return table_read.combine(media_read)
