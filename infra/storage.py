"""The records table and the media bucket (DESIGN §5, §6).

Both are kept when the stack is updated or deleted: they are the product. Not when they were created by a
deployment that failed and rolled back (`RETAINED`): they are empty then, and left behind they would only
pile up. The media bucket logs its access to a second bucket, which only S3's log delivery may write to.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import constants
from infra.config import ReceiverConfig
from suno_callbacks.dal import keys

# CloudFormation's `RetainExceptOnCreate` (and `Retain` on replacement): kept on later updates and deletes,
# removed by the rollback of the create that made them. The signing secret uses it too (signing.py).
RETAINED = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE


class StorageConstruct(Construct):
    """`table`, `bucket` (media and quarantined bodies) and `access_log_bucket`."""

    def __init__(self, scope: Construct, id_: str, *, config: ReceiverConfig) -> None:
        super().__init__(scope, id_)
        self.table = self._build_table(config)
        self.access_log_bucket = self._build_access_log_bucket(config)
        self.bucket = self._build_media_bucket(config, self.access_log_bucket)

    def _build_table(self, config: ReceiverConfig) -> dynamodb.TableV2:
        string = dynamodb.AttributeType.STRING
        return dynamodb.TableV2(
            self,
            "Records",
            partition_key=dynamodb.Attribute(name=keys.PK, type=string),
            sort_key=dynamodb.Attribute(name=keys.SK, type=string),
            billing=dynamodb.Billing.on_demand(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # Set on every record only when `recordTtlDays` > 0 (the functions decide); harmless otherwise.
            time_to_live_attribute=keys.TTL_ATTRIBUTE,
            deletion_protection=config.deletion_protection,
            removal_policy=RETAINED,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=keys.BY_KIND_TIME_INDEX,
                    partition_key=dynamodb.Attribute(name=keys.KIND_KEY, type=string),
                    sort_key=dynamodb.Attribute(name=keys.TIME_KEY, type=string),
                    projection_type=dynamodb.ProjectionType.ALL,
                ),
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=keys.BY_REF_INDEX,
                    partition_key=dynamodb.Attribute(name=keys.REF, type=string),
                    sort_key=dynamodb.Attribute(name=keys.TIME_KEY, type=string),
                    projection_type=dynamodb.ProjectionType.ALL,
                ),
                # Sparse: stages archive has not settled (ingest sets `unsettled`, archive removes it).
                # It projects only what the sweep sends, so each stage costs it one small index write.
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=keys.UNSETTLED_INDEX,
                    partition_key=dynamodb.Attribute(name=keys.UNSETTLED, type=string),
                    sort_key=dynamodb.Attribute(name=keys.RECEIVED_AT, type=string),
                    projection_type=dynamodb.ProjectionType.INCLUDE,
                    non_key_attributes=list(keys.UNSETTLED_PROJECTION),
                ),
            ],
        )

    def _build_access_log_bucket(self, config: ReceiverConfig) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RETAINED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(max(config.log_retention_days, 90)))],
        )
        Validations.of(bucket).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason="This is the access-log bucket itself; logging it to itself would loop.",
            )
        )
        return bucket

    def _build_media_bucket(self, config: ReceiverConfig, access_logs: s3.IBucket) -> s3.Bucket:
        rules = [
            # Archive uploads large files in parts; a function that dies mid-upload leaves parts behind.
            s3.LifecycleRule(
                id="abort-incomplete-multipart-uploads",
                abort_incomplete_multipart_upload_after=Duration.days(constants.ABORT_MULTIPART_AFTER_DAYS),
            )
        ]
        if config.media_transition_days or config.media_expiry_days:
            rules.append(self._media_rule(config))
        return s3.Bucket(
            self,
            "Media",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="media-bucket/",
            removal_policy=RETAINED,
            lifecycle_rules=rules,
        )

    @staticmethod
    def _media_rule(config: ReceiverConfig) -> s3.LifecycleRule:
        """Optional cost controls for archived media: move to Intelligent-Tiering, then expire."""
        transitions = None
        if config.media_transition_days:
            transitions = [
                s3.Transition(
                    storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                    transition_after=Duration.days(config.media_transition_days),
                )
            ]
        return s3.LifecycleRule(
            id="media-tiering-and-expiry",
            prefix=constants.MEDIA_PREFIX,
            transitions=transitions,
            expiration=Duration.days(config.media_expiry_days) if config.media_expiry_days else None,
        )
