"""The README's test command is the one CI runs, and its main command uses a shipped example."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines[:40] if line.strip().startswith("python3 -m venv")]


def test_readme_opens_with_two_commands_and_ci_runs_the_test_one():
    commands = _readme_commands()
    assert len(commands) == 2, commands
    run_command, test_command = commands
    assert "advisor recommend examples/" in run_command
    assert "pytest" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_example_dataset_is_shipped():
    run_command = _readme_commands()[0]
    path = run_command.split("advisor recommend ", 1)[1].split()[0]
    assert (ROOT / path).is_file()
