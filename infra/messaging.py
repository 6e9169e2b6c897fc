"""The archive queue with its dead-letter queue, and the events topic subscribers listen to (DESIGN §1, §7).

The queue is FIFO: each task is a message group, so archive settles a task's stages one at a time, in
the order they arrived, while different tasks go in parallel (high-throughput mode: deduplication and
throughput per message group). Ingest gives each stage a deduplication id, so a redelivered callback
queued again within five minutes is dropped by SQS.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants
from infra.config import ReceiverConfig


class MessagingConstruct(Construct):
    """`queue` (ingest -> archive), `dead_letter_queue` and `topic` (task outcomes)."""

    def __init__(
        self, scope: Construct, id_: str, *, config: ReceiverConfig, consumer_timeout_seconds: int
    ) -> None:
        super().__init__(scope, id_)
        self.dead_letter_queue = self._build_dead_letter_queue()
        self.queue = self._build_queue(self.dead_letter_queue, consumer_timeout_seconds)
        self.topic = self._build_topic(config)

    def _build_dead_letter_queue(self) -> sqs.Queue:
        # A FIFO queue's dead-letter queue must be FIFO too.
        return sqs.Queue(
            self,
            "ArchiveDeadLetters",
            fifo=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(constants.QUEUE_RETENTION_DAYS),
        )

    def _build_queue(self, dead_letter_queue: sqs.IQueue, consumer_timeout_seconds: int) -> sqs.Queue:
        # SQS-managed encryption, not a CMK: producers and the consumer need no KMS permissions.
        return sqs.Queue(
            self,
            "ArchiveRequests",
            fifo=True,
            content_based_deduplication=False,
            deduplication_scope=sqs.DeduplicationScope.MESSAGE_GROUP,
            fifo_throughput_limit=sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(consumer_timeout_seconds * constants.QUEUE_VISIBILITY_FACTOR),
            retention_period=Duration.days(constants.QUEUE_RETENTION_DAYS),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=dead_letter_queue, max_receive_count=constants.QUEUE_MAX_RECEIVE_COUNT
            ),
        )

    def _build_topic(self, config: ReceiverConfig) -> sns.Topic:
        topic = sns.Topic(
            self,
            "TaskEvents",
            display_name="suno-callbacks task events",
            enforce_ssl=True,
            # The AWS-managed key: encrypted at rest with no key to pay for and no KMS statement for the
            # publisher (its key policy admits callers of this account through SNS).
            master_key=kms.Alias.from_alias_name(self, "SnsManagedKey", "alias/aws/sns"),
        )
        if config.notification_email:
            topic.add_subscription(subscriptions.EmailSubscription(config.notification_email))
        return topic
