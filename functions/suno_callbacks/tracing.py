"""The X-Ray Tracer, for the functions that trace (archive, sweep); ingest does not import it."""

from aws_lambda_powertools import Tracer

from suno_callbacks.observability import SERVICE

tracer = Tracer(service=SERVICE)
