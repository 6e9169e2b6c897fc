"""Synthesis helpers: the app is synthesised in-process (no npm, no CDK CLI), once per test module.

Bundling is skipped (`aws:cdk:bundling-stacks: []`): it needs pip downloads and proves nothing about the
template; `make synth` bundles for real.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

# Node 20 is past its end of life; jsii says so on every start. The CLI uses the node of package.json.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

ROOT = Path(__file__).resolve().parents[2]


def app_context(**overrides: Any) -> dict[str, Any]:
    """`cdk.json`'s context (the same feature flags and settings `cdk synth` uses), without bundling."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    context["aws:cdk:bundling-stacks"] = []
    context.update(overrides)
    return context


def statements(template: dict[str, Any], role_logical_id: str) -> set[tuple[tuple[str, ...], str]]:
    """Every (actions, resource) an IAM role is allowed, from the policies attached to it."""
    allowed: set[tuple[tuple[str, ...], str]] = set()
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        if {"Ref": role_logical_id} not in resource["Properties"]["Roles"]:
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"]
            actions = tuple(sorted([actions] if isinstance(actions, str) else actions))
            targets = statement["Resource"]
            for target in targets if isinstance(targets, list) else [targets]:
                allowed.add((actions, json.dumps(target, sort_keys=True)))
    return allowed


def get_att(logical_id: str, attribute: str = "Arn") -> str:
    return json.dumps({"Fn::GetAtt": [logical_id, attribute]}, sort_keys=True)


def ref(logical_id: str) -> str:
    return json.dumps({"Ref": logical_id}, sort_keys=True)


def arn_with_suffix(logical_id: str, suffix: str) -> str:
    return json.dumps({"Fn::Join": ["", [{"Fn::GetAtt": [logical_id, "Arn"]}, suffix]]}, sort_keys=True)
