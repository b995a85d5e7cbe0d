"""Markdown for a pull-request comment: counts first, then one collapsible
section per product; cut to fit a comment (GitHub's limit is 65,536)."""
from __future__ import annotations

import html

from reconciler.plan.model import Change, Plan, product_action
from reconciler.plan.select import ALL, Selection
from reconciler.render.common import (SYMBOL, after, before, clean, deleted_fields, grouped, properties_label,
                                      show, title, unmanaged_line)

#: The comment marker CI scripts use to find and update the comment.
MARKER = "<!-- reconciler-plan -->"
LIMIT = 60_000
#: Room kept in the header for the checksum line and the products footer.
_RESERVE = 1_000


#: Markdown's inline syntax (links and images, emphasis, code spans, strikethrough,
#: escapes) and table cells' ``|``, as numeric character references: CommonMark
#: reads a reference as the character itself, never as syntax (spec 6.2), and
#: an HTML tag such as ``<code>`` does not stop Markdown inside it, so a live
#: code ``![x](https://tracker.example/p.png)`` would otherwise show an image
_INLINE = str.maketrans({char: f"&#{ord(char)};" for char in "|[]*_`~\\"})


def _md(text: object) -> str:
    """Text from a vendor or the catalog, unable to break a table or a line,
    nor to make a link, an image or emphasis: controls escaped (:func:`clean`),
    HTML and Markdown's inline syntax as character references."""
    return html.escape(clean(text), quote=False).translate(_INLINE)


def _cell(value: object) -> str:
    return f"<code>{_md(show(value))}</code>"


def _section(key: str, changes: list[Change]) -> str:
    actions = SYMBOL[product_action(changes)]
    summary = f"<code>{html.escape(actions)}</code> <b>{_md(key)}</b>: " + \
        "; ".join(_md(t) for t in dict.fromkeys(title(c) for c in changes))
    rows = ["| change | field | before | after |", "| --- | --- | --- | --- |"]
    for change in changes:
        label = f"{SYMBOL[change.action]} {change.vendor} {change.action}"
        shown = deleted_fields(change)
        for name, value in shown:
            rows.append(f"| {label} | <code>{html.escape(name)}</code> | {_cell(value)} | |")
        if not change.fields and not shown:
            rows.append(f"| {label} | | | |")
        for f in change.fields:
            was = "" if change.action == "create" else _cell(before(f))
            now = "" if change.action == "delete" else _cell(after(f))
            rows.append(f"| {label} | <code>{_md(f.field)}</code> | {was} | {now} |")
    return f"<details><summary>{summary}</summary>\n\n" + "\n".join(rows) + "\n\n</details>\n"


def _unmanaged(plan: Plan, budget: int) -> list[str]:
    """The unmanaged codes as a collapsed list, as many as ``budget`` characters hold."""
    lines = [f"<details><summary>Unmanaged: {_md(unmanaged_line(plan))}</summary>", ""]
    budget -= sum(len(line) + 1 for line in lines) + 200
    for index, code in enumerate(plan.unmanaged_codes):
        line = f"- <code>{_md(code)}</code>"
        if len(line) + 1 > budget:
            lines.append(f"- _{len(plan.unmanaged_codes) - index} more left out to fit a comment_")
            break
        lines.append(line)
        budget -= len(line) + 1
    return lines + ["", "</details>", ""]


def _header(plan: Plan, where: str, limit: int, selection: Selection = ALL, show_unmanaged: bool = False) -> str:
    counts = plan.counts
    lines = [MARKER, "### reconciler plan", ""]
    if not selection.everything:
        lines += [f"> **{_md(selection.describe())}**", ""]
    for violation in plan.violations:  # on top: the first thing a reviewer reads
        lines.append(f"> :warning: **Safety threshold crossed**: {_md(violation)}. "
                     "`apply` refuses this plan unless it is approved (`plan --force`).")
    if plan.violations:
        lines.append("")
    lines.append("No changes. The live state matches the catalog." if not plan.changes and not plan.errors
                 else f"**{counts['create']} to create, {counts['update']} to update, {counts['delete']} to delete**")
    lines += ["", "| create | update | delete | unchanged | unmanaged |", "| ---: | ---: | ---: | ---: | ---: |",
              f"| {counts['create']} | {counts['update']} | {counts['delete']} | {counts['unchanged']} | "
              f"{counts['unmanaged']} |", ""]
    if "properties_unchanged" in counts:
        lines += [f"| {properties_label()} | to add | to change | to delete | unchanged |",
                  "| --- | ---: | ---: | ---: | ---: |",
                  f"| | {counts['properties_create']} | {counts['properties_update']} | "
                  f"{counts['properties_delete']} | {counts['properties_unchanged']} |", ""]
    remarks = [f"> :x: **{_md(issue.key)}** ({issue.vendor}): {_md(issue.message)}"
               for issue in plan.errors] + [f"> note: {_md(note)}" for note in plan.notes]
    # Errors and notes come before the products, but a plan with thousands of
    # them must still fit a comment: keep what fits and say where the rest is.
    budget = limit - _RESERVE - sum(len(line) + 1 for line in lines)
    for index, remark in enumerate(remarks):
        if len(remark) + 1 > budget:
            lines.append(f"> {len(remarks) - index} more of {len(remarks)} errors and notes left out to fit a "
                         f"comment; the full plan is in {where}.")
            break
        lines.append(remark)
        budget -= len(remark) + 1
    if show_unmanaged and plan.unmanaged_codes:
        lines += [""] + _unmanaged(plan, (limit - _RESERVE - sum(len(line) + 1 for line in lines)) // 2)
    lines.append(f"\n<sub>plan checksum <code>{plan.checksum[:16]}</code></sub>\n")
    return "\n".join(lines) + "\n"


def render_plan(plan: Plan, full_plan_location: str | None = None, limit: int = LIMIT,
                selection: Selection = ALL, show_unmanaged: bool = False) -> str:
    where = full_plan_location or "the job log (run `reconciler plan` for the text plan)"
    header = _header(plan, where, limit, selection, show_unmanaged)
    sections = [_section(key, changes) for key, changes in grouped(plan.changes)]
    body: list[str] = []
    size = len(header)
    for index, section in enumerate(sections):
        left = len(sections) - index
        footer = f"\n_{left} of {len(sections)} products left out to fit a comment; the full plan is in {where}._\n"
        if size + len(section) + len(footer) > limit:
            return header + "".join(body) + footer
        body.append(section)
        size += len(section)
    return header + "".join(body)
