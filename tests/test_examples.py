"""The pipeline examples parse and use commands and flags reconciler has."""
import re
from pathlib import Path

import yaml

from reconciler.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def commands() -> list[list[str]]:
    found = []
    for path in [*ROOT.glob("examples/github/*.yml"), ROOT / "examples/gitlab/.gitlab-ci.yml"]:
        yaml.safe_load(path.read_text())  # valid YAML
        for line in path.read_text().splitlines():
            line = line.strip().lstrip("- ").removeprefix("run: ").removeprefix("set +e; ")
            if line.startswith("reconciler "):  # (a ${{ }} expression or $variable adds flags at run time)
                line = re.sub(r"\$\{\{.*?\}\}|\$\w+", "", line)
                found.append(line.split(">")[0].split(";")[0].split())
    return found


def test_examples_use_real_commands_and_flags() -> None:
    found = commands()
    assert ["reconciler", "plan", "--format", "markdown", "--detailed-exitcode", "--out", "plan.json"] in found
    assert ["reconciler", "apply", "plan.json"] in found
    for argv in found:
        ctx = cli.make_context("reconciler", argv[1:], resilient_parsing=False)
        sub = cli.get_command(ctx, argv[1])
        assert sub is not None
        sub.make_context(argv[1], argv[2:])  # raises on an unknown option


def test_plan_examples_turn_the_threshold_label_into_plan_force() -> None:
    for name in ("examples/github/catalog-plan.yml", "examples/gitlab/.gitlab-ci.yml"):
        text = (ROOT / name).read_text()
        assert "reconciler:allow-threshold" in text and "--force" in text, name
        assert "RECONCILER_PLAN_KEY" in text, name
