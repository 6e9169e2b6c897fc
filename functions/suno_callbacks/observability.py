"""Logger and Metrics singletons, and the metric names that alarms and the dashboard use (the Tracer is in
`tracing`: creating it imports the X-Ray SDK, about 250 ms of cold start that ingest does not pay).

Metrics go to namespace `SunoCallbacks` with the Powertools `service` dimension, plus `kind` where a
callback's kind is known.
"""

from aws_lambda_powertools import Logger, Metrics

SERVICE = "suno-callbacks"
NAMESPACE = "SunoCallbacks"

# ingest
CALLBACKS_RECEIVED = "CallbacksReceived"
CALLBACKS_DUPLICATE = "CallbacksDuplicate"
CALLBACKS_QUARANTINED = "CallbacksQuarantined"
CALLBACKS_UNAUTHORISED = "CallbacksUnauthorised"
# archive
ASSETS_ARCHIVED = "AssetsArchived"
ARCHIVED_BYTES = "ArchivedBytes"
ASSET_FAILURES = "AssetFailures"
TASKS_COMPLETED = "TasksCompleted"
TASKS_FAILED = "TasksFailed"
CALLBACK_TO_ARCHIVED_SECONDS = "CallbackToArchivedSeconds"
# sweep
STAGES_REQUEUED = "StagesRequeued"
STAGES_NEAR_EXPIRY = "StagesNearExpiry"

logger = Logger(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)
