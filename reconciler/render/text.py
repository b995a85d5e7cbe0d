"""Terraform-like text output. Colour is applied with click.style; click strips
it when the output is not a terminal."""
from __future__ import annotations

import click

from reconciler.apply import ApplyResult, ChangeResult
from reconciler.plan.model import Change, Plan
from reconciler.render.common import SYMBOL, after, before, counts_line, grouped, show, title

_COLOUR = {"create": "green", "update": "yellow", "delete": "red"}
_DONE = {"create": "created", "update": "updated", "delete": "deleted"}


def render_plan(plan: Plan) -> str:
    # a crossed threshold on top: the first thing a reviewer reads
    lines = [click.style(f"! safety threshold crossed: {v}", fg="red", bold=True) for v in plan.violations]
    if lines:
        lines.append("")
    if plan.changes:
        lines.append("reconciler will perform the following actions:\n")
    for key, changes in grouped(plan.changes):
        if changes[0].vendor != "readycloud":
            lines.append(click.style(f"  product {key}", bold=True))
        for change in changes:
            indent = "  " if change.vendor == "readycloud" else "    "
            lines.extend(_change_lines(change, indent))
    for note in plan.notes:
        lines.append(f"  note: {note}")
    for issue in plan.errors:
        lines.append(click.style(f"  ! {issue.key} ({issue.vendor}): {issue.message}", fg="red"))
    if lines:
        lines.append("")
    if not plan.changes and not plan.errors:
        lines.append("No changes. The live state matches the catalog.")
    unmanaged = f", {plan.unmanaged} unmanaged" if plan.unmanaged else ""
    lines.append(f"Plan: {counts_line(plan.counts)}{unmanaged}."
                 + (click.style(f" {len(plan.errors)} error(s).", fg="red") if plan.errors else ""))
    return "\n".join(lines)


def _change_lines(change: Change, indent: str) -> list[str]:
    colour = _COLOUR[change.action]
    lines = [click.style(f"{indent}{SYMBOL[change.action]} {title(change)}", fg=colour, bold=True)]
    width = max((len(f.field) for f in change.fields), default=0)
    for f in change.fields:
        label = f"{f.field}:".ljust(width + 1)
        if change.action == "create":
            lines.append(f"{indent}    {label} {show(after(f))}")
        elif change.action == "delete":
            lines.append(f"{indent}    {label} {show(before(f))} {click.style('→', fg=colour)} (deleted)")
        else:
            lines.append(f"{indent}    {label} {show(before(f))} {click.style('→', fg=colour)} {show(after(f))}")
    return lines


def render_result_line(result: ChangeResult) -> str:
    change = result.change
    if result.status == "succeeded":
        return click.style(f"  {SYMBOL[change.action]} {_DONE[change.action]} {title(change)}",
                           fg=_COLOUR[change.action])
    mark = "failed" if result.status == "failed" else "skipped"
    return click.style(f"  ! {mark}: {change.action} {title(change)}: {result.error}", fg="red")


def render_apply_summary(result: ApplyResult) -> str:
    summary = (f"Apply {'complete' if result.ok else 'finished with errors'}: "
               f"{len(result.succeeded)} succeeded, {len(result.failed)} failed, "
               f"{len(result.skipped)} skipped.")
    lines = [click.style(summary, fg="green" if result.ok else "red", bold=True)]
    for r in result.failed + result.skipped:
        lines.append(f"  {r.status}: {r.change.action} {r.change.key}: {r.error}")
    return "\n".join(lines)
