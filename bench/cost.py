"""What a million callbacks cost at AWS list prices (us-east-1, on-demand, arm64), from request counts.

Run `python bench/cost.py` for the table the README quotes. The request counts are constants so that tests
can check them against what the functions really do (tests/infra/test_cost.py measures ingest's).

Scope: the per-callback work. Not included: the free tiers, storage (S3 per GB-month, listed apart),
data transfer, SNS deliveries (free to SQS and Lambda, priced per protocol otherwise), X-Ray (sampled),
and the fixed monthly cost (one secret $0.40, alarms $0.10 each, one dashboard $3 beyond the free three).
"""

from __future__ import annotations

from dataclasses import dataclass

# --- list prices, USD (us-east-1, checked against the public price pages in 2026) -------------------
PRICE_HTTP_API_PER_MILLION = 1.00
PRICE_LAMBDA_REQUESTS_PER_MILLION = 0.20
PRICE_LAMBDA_ARM_PER_GB_SECOND = 0.0000133334
PRICE_DYNAMODB_WRITE_PER_MILLION = 0.625  # on-demand write request units
PRICE_DYNAMODB_READ_PER_MILLION = 0.125  # on-demand read request units
PRICE_SQS_PER_MILLION = 0.40  # standard queue, per 64 KB request
PRICE_SNS_PUBLISH_PER_MILLION = 0.50
PRICE_S3_PUT_PER_THOUSAND = 0.005
PRICE_LOGS_INGEST_PER_GB = 0.50
PRICE_S3_STANDARD_PER_GB_MONTH = 0.023

# --- what one new callback (one stage) makes ingest do -----------------------------------------------
INGEST_PUT_ITEM = 1  # the stage record, conditional
INGEST_UPDATE_ITEM = 2  # raise the task's status; mark the stage queued
INGEST_SEND_MESSAGE = 1  # the archive request
# Write units: the stage record holds the compressed body (~2 KB for a typical callback); the task item
# is also written to both indexes (by-kind-time, and by-ref when the URL carries a ref).
INGEST_WRITE_UNITS = 3 + (1 + 2) + 3

# --- what archiving one stage makes the archive function do ------------------------------------------
ARCHIVE_SQS_REQUESTS = 0.4  # the poller's receive and delete, shared by a batch of up to 5
ARCHIVE_QUERY = 1  # the whole task, consistent
ARCHIVE_READ_UNITS = 2  # ~5 KB of task items, strongly consistent (4 KB per unit)
ARCHIVE_S3_PUTS_PER_ASSET = 1  # audio and images fit one PUT; a long video adds a part per 8 MB
ARCHIVE_PUT_ITEM_PER_ASSET = 1  # the asset record (<1 KB)
ARCHIVE_SNS_PUBLISH = 1  # task.progress for text/first, task.completed / task.failed at the end
ARCHIVE_OUTCOME_WRITES = 2  # the outcome item, and `outcome` on the task item
ARCHIVE_OUTCOME_WRITE_UNITS = 1 + (1 + 2)  # the task item is re-written in both indexes

# --- the typical task, and function time (estimates: the functions' work, not measured in AWS) --------
# A music task calls back three times (text, first, complete) and archives 2 tracks x (audio + image).
CALLBACKS_PER_TASK = 3
ASSETS_PER_TASK = 4
TERMINAL_SHARE = 1 / CALLBACKS_PER_TASK  # the share of callbacks that end a task
INGEST_SECONDS = 0.05
INGEST_MEMORY_GB = 0.25
ARCHIVE_SECONDS_PER_STAGE = 0.15
ARCHIVE_SECONDS_PER_ASSET = 0.6  # a 4 MB file from the provider's CDN at ~10 MB/s, hashed and uploaded
ARCHIVE_MEMORY_GB = 0.5
LOG_BYTES_PER_CALLBACK = 2_500  # access log, ingest and archive JSON logs
MEDIA_MB_PER_TASK = 2 * 4 + 2 * 0.3  # two ~4 MB MP3s and two cover images


@dataclass(frozen=True)
class Line:
    item: str
    usd_per_million_callbacks: float


def per_million_callbacks() -> list[Line]:
    assets = ASSETS_PER_TASK / CALLBACKS_PER_TASK  # per callback
    writes = (
        INGEST_WRITE_UNITS
        + assets * ARCHIVE_PUT_ITEM_PER_ASSET
        + TERMINAL_SHARE * ARCHIVE_OUTCOME_WRITE_UNITS
    )
    lambda_gb_seconds = INGEST_SECONDS * INGEST_MEMORY_GB + ARCHIVE_MEMORY_GB * (
        ARCHIVE_SECONDS_PER_STAGE + assets * ARCHIVE_SECONDS_PER_ASSET
    )
    return [
        Line("API Gateway HTTP API requests", PRICE_HTTP_API_PER_MILLION),
        # Archive is invoked per batch of up to 5; counted as one invocation per callback (quiet traffic).
        Line("Lambda requests (ingest + archive)", 2 * PRICE_LAMBDA_REQUESTS_PER_MILLION),
        Line("Lambda compute (arm64)", 1e6 * lambda_gb_seconds * PRICE_LAMBDA_ARM_PER_GB_SECOND),
        Line("DynamoDB writes", writes * PRICE_DYNAMODB_WRITE_PER_MILLION),
        Line("DynamoDB reads", ARCHIVE_QUERY * ARCHIVE_READ_UNITS * PRICE_DYNAMODB_READ_PER_MILLION),
        Line("SQS requests", (INGEST_SEND_MESSAGE + ARCHIVE_SQS_REQUESTS) * PRICE_SQS_PER_MILLION),
        Line("SNS publishes", ARCHIVE_SNS_PUBLISH * PRICE_SNS_PUBLISH_PER_MILLION),
        Line("S3 PUTs", assets * ARCHIVE_S3_PUTS_PER_ASSET * 1000 * PRICE_S3_PUT_PER_THOUSAND),
        Line("CloudWatch Logs ingestion", LOG_BYTES_PER_CALLBACK * 1e6 / 1e9 * PRICE_LOGS_INGEST_PER_GB),
    ]


def total_per_million_callbacks() -> float:
    return sum(line.usd_per_million_callbacks for line in per_million_callbacks())


def storage_per_million_callbacks_per_month() -> float:
    """S3 Standard storage of the media a million callbacks archive, per month they are kept."""
    gigabytes = 1e6 / CALLBACKS_PER_TASK * MEDIA_MB_PER_TASK / 1024
    return gigabytes * PRICE_S3_STANDARD_PER_GB_MONTH


# Webhook gateways' list prices per million events, as quoted in the proof issue (not re-checked here):
# they receive and forward webhooks; they do not archive media, keep records or dedupe per stage.
GATEWAYS_PER_MILLION = (("Hookdeck", 3.30, 10.00), ("Svix", 100.00, 100.00))


def receive_only_per_million_callbacks() -> float:
    """The receiving part, comparable to a gateway: API, ingest invocation and compute, writes, enqueue."""
    lambda_ingest = 1e6 * INGEST_SECONDS * INGEST_MEMORY_GB * PRICE_LAMBDA_ARM_PER_GB_SECOND
    return (
        PRICE_HTTP_API_PER_MILLION
        + PRICE_LAMBDA_REQUESTS_PER_MILLION
        + lambda_ingest
        + INGEST_WRITE_UNITS * PRICE_DYNAMODB_WRITE_PER_MILLION
        + INGEST_SEND_MESSAGE * PRICE_SQS_PER_MILLION
    )


def main() -> None:
    print("| per million callbacks | USD |")
    print("|---|---:|")
    for line in per_million_callbacks():
        print(f"| {line.item} | {line.usd_per_million_callbacks:.2f} |")
    print(f"| **total** | **{total_per_million_callbacks():.2f}** |")
    print(f"\nS3 storage of their media: {storage_per_million_callbacks_per_month():.2f} USD per month kept")
    total, receive = total_per_million_callbacks(), receive_only_per_million_callbacks()
    print("\nAgainst webhook gateways' list prices per million events (baseline; ratio = ours / theirs):")
    print("| per million callbacks | USD | ratio to Hookdeck ($3.30-10) | ratio to Svix ($100) |")
    print("|---|---:|---:|---:|")
    for name, usd in (
        ("suno-callbacks, receive only (API, ingest, stage write, enqueue)", receive),
        ("suno-callbacks, whole pipeline (media archived, events)", total),
    ):
        hookdeck = f"{usd / GATEWAYS_PER_MILLION[0][2]:.2f}-{usd / GATEWAYS_PER_MILLION[0][1]:.2f}"
        print(f"| {name} | {usd:.2f} | {hookdeck} | {usd / GATEWAYS_PER_MILLION[1][1]:.2f} |")


if __name__ == "__main__":
    main()
