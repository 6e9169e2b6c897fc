"""Names, defaults, context keys and output keys of the CDK app, in one place.

The handlers read the same environment variable names through `suno_callbacks.models.settings`; the
metric names come from `suno_callbacks.observability`, so alarms cannot drift from what is emitted.
"""

from __future__ import annotations

from pathlib import Path

from suno_callbacks.models.settings import PREFIX

SERVICE_NAME = "suno-callbacks"
STACK_NAME = "SunoCallbacks"
RECEIVER_ID = "Receiver"

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"
PACKAGE = "suno_callbacks"
# Kept out of the Lambda asset: what only developers run (the CLI, the console, local mode, the examples
# `trigger` sends) and build litter.
DEVELOPER_MODULES = ("cli", "console", "examples", "local")
ASSET_EXCLUDES = (
    *(f"{PACKAGE}/{name}*" for name in DEVELOPER_MODULES),
    "__pycache__",
    "*.pyc",
    "*.egg-info",
)
# Every package the handlers import that neither the Powertools layer (aws-lambda-powertools, pydantic,
# aws-xray-sdk) nor the runtime (boto3, botocore and their dependencies) is guaranteed to provide, with
# the dependencies of each: installed without dependency resolution, so this list is the whole of it and
# two synths of one commit give one asset (tests/infra/test_asset_runs.py proves it is enough).
# - urllib3: logic/download.py needs urllib3 2 (`BaseHTTPResponse`); the layer deletes its urllib3 and the
#   runtime's version is not documented. Bundled, it comes first on the path, for botocore too (which
#   supports urllib3 2 on Python >= 3.10).
# - mido (MIDI files) and packaging, which mido imports for its version.
BUNDLED_REQUIREMENTS = ("urllib3==2.8.0", "mido==1.3.3", "packaging==26.3")

# --- Lambda ---------------------------------------------------------------------------------------
# Python 3.14 is the newest runtime of both aws-cdk-lib 2.275 (Runtime.PYTHON_3_14) and the AWS-managed
# Powertools v3 layer (AWSLambdaPowertoolsPythonV3-python314-arm64), so it is what we run.
PYTHON_VERSION = "3.14"
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsPythonV3-python314-arm64"

INGEST_HANDLER = f"{PACKAGE}.handlers.ingest.lambda_handler"
ARCHIVE_HANDLER = f"{PACKAGE}.handlers.archive.lambda_handler"
SWEEP_HANDLER = f"{PACKAGE}.handlers.sweep.lambda_handler"

# Ingest only parses JSON and makes two DynamoDB/SQS calls: 256 MB gives it twice the CPU of
# 128 MB (cold start imports pydantic) at a cost that stays negligible. 10 s leaves headroom under
# the provider's 15 s answer limit for the SDK's bounded retries (dal/aws.py: 2 s connect, 5 s read).
INGEST_MEMORY_MB = 256
INGEST_TIMEOUT_SECONDS = 10
# Archive streams media in parts (memory bounded by the part size, not the file), hashes it and uploads
# it: 512 MB buys the CPU for SHA-256 at network speed. 600 s covers a batch of stages that includes a
# 1 GB video on a slow source; anything longer is retried through SQS.
ARCHIVE_MEMORY_MB = 512
ARCHIVE_TIMEOUT_SECONDS = 600
ARCHIVE_BATCH_SIZE = 5
# How many archive invocations the SQS poller runs at once when no concurrency is reserved: it bounds the
# parallel downloads from the provider's hosts without taking any of the account's concurrency quota.
ARCHIVE_MAX_CONCURRENCY = 5
# Lambda's limits for an SQS event source's maximum concurrency.
MIN_EVENT_SOURCE_CONCURRENCY = 2
MAX_EVENT_SOURCE_CONCURRENCY = 1000
# The sweep runs one Query per kind and a few sends: small and short.
SWEEP_MEMORY_MB = 256
SWEEP_TIMEOUT_SECONDS = 120

# --- queue ----------------------------------------------------------------------------------------
# AWS recommends a visibility timeout of six times the consumer's timeout for SQS event sources, so a
# batch that is retried by the poller is not delivered twice while the first attempt still runs.
QUEUE_VISIBILITY_FACTOR = 6
QUEUE_MAX_RECEIVE_COUNT = 5
QUEUE_RETENTION_DAYS = 14

# --- sweep ----------------------------------------------------------------------------------------
# A task still unsettled this many days before its source's expiry is "near expiry" (alarmed on).
NEAR_EXPIRY_MARGIN_DAYS = 2

# --- API ------------------------------------------------------------------------------------------
CALLBACK_PATH = "/callbacks"
CALLBACK_ROUTE = f"{CALLBACK_PATH}/{{kind}}"

# --- storage --------------------------------------------------------------------------------------
MEDIA_PREFIX = "media/"
# Callback bodies too large for a DynamoDB item (only with a raised body limit), by SHA-256.
BODIES_PREFIX = "bodies/"
# Task events too large for SNS (the message published names the object).
EVENTS_PREFIX = "events/"
ABORT_MULTIPART_AFTER_DAYS = 2

# --- function environment (source of truth: suno_callbacks/models/settings.py) ---------------------
ENV_TABLE = f"{PREFIX}TABLE"
ENV_BUCKET = f"{PREFIX}BUCKET"
ENV_RECORD_TTL_DAYS = f"{PREFIX}RECORD_TTL_DAYS"
ENV_QUEUE_URL = f"{PREFIX}QUEUE_URL"
ENV_SECRET_ID = f"{PREFIX}SECRET_ID"
ENV_TOPIC_ARN = f"{PREFIX}TOPIC_ARN"
ENV_MEDIA_HOSTS = f"{PREFIX}MEDIA_HOSTS"
ENV_SOURCE_RETENTION_DAYS = f"{PREFIX}SOURCE_RETENTION_DAYS"
ENV_SWEEP_NEAR_EXPIRY_DAYS = f"{PREFIX}SWEEP_NEAR_EXPIRY_DAYS"
ENV_MAX_ATTEMPTS = f"{PREFIX}MAX_ATTEMPTS"

# --- signing secret -------------------------------------------------------------------------------
SECRET_TEMPLATE = '{"previous": "", "kie_webhook_key": ""}'  # noqa: S105 - a shape, no value
SECRET_GENERATED_KEY = "current"  # noqa: S105 - a JSON key
SECRET_LENGTH = 48

# --- cdk.json context keys (documented in README "Settings") ---------------------------------------
CTX_PREFIX = "suno-callbacks:"
CTX_STACK_NAME = f"{CTX_PREFIX}stackName"
CTX_RESOURCE_PREFIX = f"{CTX_PREFIX}resourcePrefix"
CTX_MEDIA_HOSTS = f"{CTX_PREFIX}mediaHosts"
CTX_SOURCE_RETENTION_DAYS = f"{CTX_PREFIX}sourceRetentionDays"
CTX_RECORD_TTL_DAYS = f"{CTX_PREFIX}recordTtlDays"
CTX_MEDIA_TRANSITION_DAYS = f"{CTX_PREFIX}mediaTransitionDays"
CTX_MEDIA_EXPIRY_DAYS = f"{CTX_PREFIX}mediaExpiryDays"
CTX_LOG_RETENTION_DAYS = f"{CTX_PREFIX}logRetentionDays"
CTX_ALARM_EMAIL = f"{CTX_PREFIX}alarmEmail"
CTX_NOTIFICATION_EMAIL = f"{CTX_PREFIX}notificationEmail"
CTX_ARCHIVE_RESERVED_CONCURRENCY = f"{CTX_PREFIX}archiveReservedConcurrency"
CTX_DELETION_PROTECTION = f"{CTX_PREFIX}deletionProtection"
CTX_THROTTLE_RATE = f"{CTX_PREFIX}throttleRatePerSecond"
CTX_THROTTLE_BURST = f"{CTX_PREFIX}throttleBurst"
CTX_SWEEP_SCHEDULE_MINUTES = f"{CTX_PREFIX}sweepEveryMinutes"
CTX_POWERTOOLS_LAYER_VERSION = f"{CTX_PREFIX}powertoolsLayerVersion"
CTX_LOG_LEVEL = f"{CTX_PREFIX}logLevel"

# --- CloudFormation outputs (stable logical ids: tests and the CLI find resources by them) ----------
OUTPUT_CALLBACK_BASE_URL = "CallbackBaseUrl"
OUTPUT_TABLE_NAME = "TableName"
OUTPUT_BUCKET_NAME = "BucketName"
OUTPUT_TOPIC_ARN = "TopicArn"
OUTPUT_QUEUE_URL = "QueueUrl"
OUTPUT_DLQ_URL = "DeadLetterQueueUrl"
OUTPUT_SECRET_ARN = "SecretArn"  # noqa: S105 - an output name
OUTPUT_ALARM_TOPIC_ARN = "AlarmTopicArn"
OUTPUT_DASHBOARD_NAME = "DashboardName"
