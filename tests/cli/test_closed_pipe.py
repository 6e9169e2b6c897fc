"""`suno-callbacks … | head`: when the reader of the output closes the pipe, the CLI stops quietly with
exit status 0 (the reader has what it wanted), never with a traceback or a failure status."""

from __future__ import annotations

import os
import subprocess

import pytest

from suno_callbacks.local.stack import LocalStack
from tests.cli.conftest import CLI, lyrics, post_callback
from tests.local.conftest import clean_environment

pytestmark = pytest.mark.slow


def run_into_closed_pipe(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI writing into a pipe whose reader has already gone (`| head -n 0`, without the race)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [*CLI, *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env={**clean_environment(), **environment},
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["tasks", "--help"]])
def test_help_into_a_closed_pipe_ends_quietly(args: list[str]) -> None:
    result = run_into_closed_pipe({}, *args)
    assert (result.returncode, result.stderr) == (0, "")


def test_every_printing_command_into_a_closed_pipe_ends_quietly(local_stack: LocalStack) -> None:
    post_callback(local_stack, "lyrics", lyrics("t-pipe"), ref="job-pipe")
    local_stack.wait_until_idle(timeout=30)
    for args in (
        ["tasks"],
        ["tasks", "--json"],
        ["task", "t-pipe"],
        ["task", "t-pipe", "--json"],
        ["url", "music"],
        ["quarantine"],
    ):
        result = run_into_closed_pipe(local_stack.environment, *args)
        assert (result.returncode, result.stderr) == (0, ""), args


def test_a_real_head_gets_the_first_line_and_the_cli_no_traceback(local_stack: LocalStack) -> None:
    for n in range(3):
        post_callback(local_stack, "lyrics", lyrics(f"t-{n}"))
    result = subprocess.run(
        ["bash", "-c", f'{" ".join(CLI)} tasks | head -n 1; echo "cli exit ${{PIPESTATUS[0]}}" >&2'],
        env={**clean_environment(), **local_stack.environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.split() == ["TASK", "KIND", "STATUS", "OUTCOME", "REF", "CREATED"]
    assert result.stderr == "cli exit 0\n"
