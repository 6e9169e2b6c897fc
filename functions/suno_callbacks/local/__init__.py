"""Local mode: the whole pipeline on a laptop, with moto server on loopback as the AWS it talks to.

Developer-only: the Lambda asset leaves this package out (infra/constants.py `ASSET_EXCLUDES`).
"""
