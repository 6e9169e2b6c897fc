#!/usr/bin/env python3
"""CDK entry point (`cdk.json` runs it): builds the one stack of infra/stack.py."""

from infra.stack import build_app

app, _stack = build_app()
app.synth()
