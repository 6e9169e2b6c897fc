"""Every code block of README.md runs as written.

The convention, for README.md:

- A block fenced ```python runs in a fresh interpreter, one fenced ```sh with `bash -e`; it must exit 0
  without a traceback or an `error:` line. Both run in an empty folder against local mode, with the
  environment a user gets by pasting the export lines `suno-callbacks local` prints, and `.venv/bin` first
  on PATH. Local mode's moto also holds a CloudFormation stack named `SunoCallbacks` whose outputs are
  local mode's resources: that is how `Reader.from_stack("SunoCallbacks")` (and `--stack SunoCallbacks`)
  run without an AWS account. The task the README uses as its example, `2fac****9f72` (an upload-extend
  song, ref `job-42`), is recorded and archived, media included.
- A block whose fence is directly preceded by the line `<!-- illustrative: <why> -->` does not run (it
  needs a CDK app or AWS, or runs until stopped); a python one must still compile, a sh one pass `bash -n`.
- A block fenced without a language, or ```json, is text (diagrams, key templates, the JSON of an event,
  lists of `make` targets); any other language fails the test, so that no code escapes the convention.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from suno_callbacks.local.stack import LocalStack
from suno_callbacks.logic.signing import CALLBACKS_PATH
from suno_callbacks.reader import STACK_OUTPUTS
from tests.cli.conftest import post_callback
from tests.local.conftest import MediaServer, clean_environment, seed_track_callbacks

pytestmark = pytest.mark.slow

README = Path(__file__).parents[2] / "README.md"
RUNNERS = {"python": [sys.executable], "sh": ["bash", "-e"]}
TEXT = {"", "json"}
_FENCE = re.compile(r"^```([\w-]*)\s*$")
_ILLUSTRATIVE = re.compile(r"^<!-- illustrative: .+ -->$")
EXAMPLE_TASK_ID, EXAMPLE_REF, EXAMPLE_STACK = "2fac****9f72", "job-42", "SunoCallbacks"


@dataclass(frozen=True)
class Block:
    language: str
    line: int  # of the opening fence, 1-based
    code: str
    illustrative: bool

    def __str__(self) -> str:
        return f"README.md:{self.line}"


def readme_blocks() -> list[Block]:
    lines = README.read_text().splitlines()
    blocks: list[Block] = []
    opening: int | None = None
    for number, line in enumerate(lines):
        if opening is None and (fence := _FENCE.match(line)):
            opening, language = number, fence[1]
        elif opening is not None and line.startswith("```"):
            illustrative = opening > 0 and bool(_ILLUSTRATIVE.match(lines[opening - 1]))
            blocks.append(
                Block(language, opening + 1, "\n".join(lines[opening + 1 : number]) + "\n", illustrative)
            )
            opening = None
    assert opening is None, f"README.md:{opening + 1 if opening is not None else 0}: unclosed code block"
    return blocks


BLOCKS = readme_blocks()
CODE = [b for b in BLOCKS if b.language in RUNNERS]
RUNNABLE = [b for b in CODE if not b.illustrative]


def test_every_block_is_code_or_text_and_code_is_there() -> None:
    assert [str(b) for b in BLOCKS if b.language not in {*RUNNERS, *TEXT}] == []
    assert {b.language for b in RUNNABLE} == set(RUNNERS), "the README's runnable examples went missing"


@pytest.mark.parametrize("block", [b for b in CODE if b.illustrative], ids=str)
def test_an_illustrative_block_is_still_valid_code(block: Block, tmp_path: Path) -> None:
    if block.language == "python":
        compile(block.code, str(block), "exec")
    else:
        script = tmp_path / "block.sh"
        script.write_text(block.code)
        checked = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("block", RUNNABLE, ids=str)
def test_a_block_runs_as_written(
    block: Block, local_stack: LocalStack, media_server: MediaServer, tmp_path: Path
) -> None:
    environment = readme_environment(local_stack, media_server)
    script = tmp_path / ("block.py" if block.language == "python" else "block.sh")
    script.write_text(block.code)

    result = subprocess.run(
        [*RUNNERS[block.language], str(script)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, f"{block} failed:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr and "error:" not in result.stderr, result.stderr


def readme_environment(stack: LocalStack, media: MediaServer) -> dict[str, str]:
    """Local mode as the README's examples expect it; returns a second shell's environment."""
    for body in seed_track_callbacks(media):
        body["data"]["task_id"] = EXAMPLE_TASK_ID
        assert post_callback(stack, "upload-extend", body, ref=EXAMPLE_REF) == "received"
    stack.wait_until_idle(timeout=30)

    variables = stack.environment
    outputs = {output: variables[variable] for output, variable in STACK_OUTPUTS.items()}
    outputs["CallbackBaseUrl"] += CALLBACKS_PATH  # the stack's output is the callbacks root
    template = {
        # CloudFormation wants one resource; the outputs are what `from_stack` reads.
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    # moto's first CloudFormation call loads its whole parser: under a loaded test machine that can take
    # longer than the production clients' 2 s read timeout, so this setup call gets a patient client.
    cloudformation = boto3.client(
        "cloudformation",
        endpoint_url=variables["AWS_ENDPOINT_URL"],
        config=Config(read_timeout=60, retries={"max_attempts": 1}),
    )
    cloudformation.create_stack(StackName=EXAMPLE_STACK, TemplateBody=json.dumps(template))

    venv_bin = str(Path(sys.executable).parent)
    base = clean_environment()
    return {**base, **variables, "PATH": f"{venv_bin}:{base.get('PATH', '')}"}
