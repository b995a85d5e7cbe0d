"""Terraform-like text output. Colour is applied with click.style; click strips
it when the output is not a terminal."""
from __future__ import annotations

from typing import Callable

import click

from reconciler.apply import ApplyResult, ChangeResult
from reconciler.plan.model import Change, Plan, is_property_change, product_action
from reconciler.plan.select import ALL, Selection
from reconciler.render.common import (SYMBOL, after, before, clean, counts_line, deleted_fields, grouped,
                                      properties_line, show, title, unmanaged_line)

_COLOUR = {"create": "green", "update": "yellow", "delete": "red"}
_DONE = {"create": "created", "update": "updated", "delete": "deleted"}


def render_plan(plan: Plan, selection: Selection = ALL, show_unmanaged: bool = False) -> str:
    """The plan as text; ``show_unmanaged``: list the codes of the live
    products the catalog does not manage too."""
    # a crossed threshold on top: the first thing a reviewer reads
    lines = [click.style(f"! safety threshold crossed: {clean(v)}", fg="red", bold=True) for v in plan.violations]
    if not selection.everything:
        lines.append(click.style(clean(selection.describe()), fg="yellow"))
    if lines:
        lines.append("")
    if plan.changes:
        lines.append("reconciler will perform the following actions:\n")
    for key, changes in grouped(plan.changes):
        if is_property_change(changes[0]):  # (the product itself is not created or deleted first)
            action = product_action(changes)
            lines.append(click.style(f"  {SYMBOL[action]} product {clean(key)}", fg=_COLOUR[action], bold=True))
        for change in changes:
            indent = "    " if is_property_change(change) else "  "
            lines.extend(_change_lines(change, indent))
    for note in plan.notes:
        lines.append(click.style(f"  note: {clean(note)}", dim=True))
    for issue in plan.errors:
        lines.append(click.style(f"  ! {clean(issue.key)} ({issue.vendor}): {clean(issue.message)}", fg="red"))
    if show_unmanaged and plan.unmanaged_codes:
        lines.append(f"Unmanaged: {unmanaged_line(plan)}:")
        lines.extend(f"  {clean(code)}" for code in plan.unmanaged_codes)
    if lines:
        lines.append("")
    if not plan.changes and not plan.errors:
        lines.append("No changes. The live state matches the catalog.")
    unmanaged = f", {plan.unmanaged} unmanaged" if plan.unmanaged else ""
    counts = plan.counts
    lines.append(f"Plan: {counts_line(counts)}{unmanaged}."
                 + (click.style(f" {len(plan.errors)} error(s).", fg="red") if plan.errors else ""))
    properties = properties_line(counts)
    if properties is not None:
        lines.append(f"      {properties}.")
    return "\n".join(lines)


def _change_lines(change: Change, indent: str) -> list[str]:
    colour = _COLOUR[change.action]
    lines = [click.style(f"{indent}{SYMBOL[change.action]} {title(change)}", fg=colour, bold=True)]
    shown = deleted_fields(change)
    width = max([len(clean(f.field)) for f in change.fields] + [len(name) for name, _ in shown], default=0)
    for name, value in shown:
        lines.append(f"{indent}    {f'{name}:'.ljust(width + 1)} {show(value)}")
    for f in change.fields:
        label = f"{clean(f.field)}:".ljust(width + 1)
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
    return click.style(f"  ! {mark}: {change.action} {title(change)}: {clean(result.error)}",
                       fg="yellow" if result.benign else "red")


def result_printer(echo: Callable[[str], None]) -> Callable[[ChangeResult], None]:
    """Prints each result's line as it comes, except the changes not attempted
    after a vendor refused the credentials (the summary says that once)."""
    def show(result: ChangeResult) -> None:
        if not result.refused:
            echo(render_result_line(result))
    return show


def render_apply_summary(result: ApplyResult) -> str:
    summary = (f"Apply {'complete' if result.ok else 'finished with errors'}: "
               f"{len(result.succeeded)} succeeded, {len(result.failed)} failed, "
               f"{len(result.skipped)} skipped.")
    lines = [click.style(summary, fg="green" if result.ok else "red", bold=True)]
    for r in result.failed + result.skipped:
        if not r.refused:
            lines.append(f"  {r.status}: {r.change.action} {clean(r.change.key)}: {clean(r.error)}")
    lines.extend(click.style(f"Stopped: {clean(message)}.", fg="red", bold=True) for message in result.refusals)
    benign = [r for r in result.skipped if r.benign]
    if benign:
        from reconciler.vendors import get
        where = " and ".join(dict.fromkeys((v.label if (v := get(r.change.vendor)) else r.change.vendor)
                                           for r in benign))
        lines.append(click.style(f"Note: {len(benign)} product(s) to create appeared in {where} since the plan "
                                 "(another apply, or someone else, created them) and were not created again; "
                                 "run plan to check them against the catalog.", fg="yellow"))
    return "\n".join(lines)
