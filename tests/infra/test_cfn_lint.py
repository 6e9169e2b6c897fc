"""cfn-lint finds nothing in the synthesised template, default or fully configured, in any region.

Its settings (every region; the one warning ignored, with its reason) are `.cfnlintrc`, which
`make synth` uses too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.stack import build_app
from tests.infra.conftest import ROOT, app_context
from tests.infra.test_config import OVERRIDES

pytestmark = pytest.mark.slow

CFN_LINT = Path(sys.executable).with_name("cfn-lint")
CONFIG = ROOT / ".cfnlintrc"


def cfn_lint(template: dict[str, Any], directory: Path) -> list[dict[str, Any]]:
    path = directory / "template.json"
    path.write_text(json.dumps(template, indent=1))
    completed = subprocess.run(
        [str(CFN_LINT), "--config-file", str(CONFIG), "--format", "json", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    # The exit status says which levels were found; the JSON says what. No JSON: cfn-lint itself failed.
    assert completed.stdout.strip(), completed.stderr
    findings: list[dict[str, Any]] = json.loads(completed.stdout)
    return findings


def _summary(findings: list[dict[str, Any]]) -> list[str]:
    return [
        f"{finding['Rule']['Id']} {finding['Message']} at {'/'.join(map(str, finding['Location']['Path']))}"
        for finding in findings
    ]


@pytest.mark.parametrize("overrides", [{}, OVERRIDES], ids=["default", "configured"])
def test_template_has_no_cfn_lint_errors_or_warnings(overrides: dict[str, Any], tmp_path: Path) -> None:
    app, stack = build_app(app_context(**overrides))
    template = app.synth().get_stack_by_name(stack.stack_name).template
    assert _summary(cfn_lint(template, tmp_path)) == []


def test_cfn_lint_reports_what_it_finds(tmp_path: Path) -> None:
    """The control: a broken template is reported, so an empty report means something."""
    queue = {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": "soon"}}
    broken = {"Resources": {"Queue": queue}}
    findings = cfn_lint(broken, tmp_path)
    assert [f["Rule"]["Id"][0] for f in findings] == ["E"]
