"""The `apply` command's steps (:func:`reconciler.cli.apply`): a saved plan
re-derived and applied (:func:`apply_saved`) or a fresh one planned, shown,
confirmed and applied (:func:`apply_fresh`); both then apply and announce
the same way (:func:`_apply_plan`) and report once their providers and
locks are let go (:func:`_summary`)."""
from __future__ import annotations

import sys
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping

import click

from reconciler import lock as apply_lock
from reconciler.catalog import sources
from reconciler.cli import (EXIT_ERROR, SANDBOX_STATE, ExitCode, RunEnv, _environment, _progress, _provenance,
                            _render_plan)
from reconciler.errors import ReconcilerError
from reconciler.render.common import clean
from reconciler.sinks import default_outbox_path

if TYPE_CHECKING:
    from reconciler.catalog.model import Catalog
    from reconciler.plan import Plan, planfile
    from reconciler.plan.model import Change
    from reconciler.plan.select import Selection
    from reconciler.progress import Progress
    from reconciler.providers.base import Provider


@dataclass(frozen=True)
class ApplyOptions:
    """The options of one `apply`."""

    catalog_path: str
    fmt: str
    sandbox: bool
    parallelism: int
    refresh: str
    auto_approve: bool
    force: bool
    lock_timeout: float
    started: datetime
    show_unmanaged: bool = False  # the plan shown lists the unmanaged codes too


@dataclass(frozen=True)
class _Applying:
    """An apply under way: where it talks to, its catalog and providers, locks held."""

    env: RunEnv
    catalog: Catalog
    providers: Mapping[str, Provider]
    progress: Progress


@dataclass(frozen=True)
class _Applied:
    """What an apply did, reported once its providers and locks are let go."""

    plan: Plan
    result: Any  # reconciler.apply.ApplyResult
    selection: Selection
    report: Any  # its notification report (None: nothing to announce)
    received: list[str]
    done: tuple[Change, ...] = ()  # a saved plan's changes already in effect (not applied again)


def apply_saved(saved: planfile.SavedPlan, path: str, options: ApplyOptions) -> None:
    """Apply a reviewed plan, re-derived from the catalog and the live state
    (refused if they no longer call for it)."""
    progress = _progress()
    with _environment(options.sandbox) as run_env, ExitStack() as stack:
        run = _start_apply(run_env, stack, progress, options)
        the_plan, selection, done = _rederived(saved, path, run_env, run.catalog, run.providers, progress,
                                               options.fmt == "text")
        applied = _apply_plan(run, the_plan, selection, options, force=options.force or saved.provenance.force,
                              confirm=sys.stdin.isatty(),  # (without a terminal: CD applies it as reviewed)
                              check_creates=False, done=done)  # (it was just re-derived from a listing)
    _summary(applied, options.fmt)


def apply_fresh(selection: Selection, options: ApplyOptions) -> None:
    """Plan, show, confirm and apply."""
    from reconciler import engine

    progress = _progress()
    with _environment(options.sandbox) as run_env, ExitStack() as stack:
        run = _start_apply(run_env, stack, progress, options)
        selection.require_matches(p.code for p in run.catalog.products)
        the_plan = engine.refresh_and_plan(run.catalog, run.providers, selection, progress)
        applied = _apply_plan(run, the_plan, selection, options, force=options.force, confirm=True,
                              check_creates=True)
    _summary(applied, options.fmt)


def _start_apply(run_env: RunEnv, stack: ExitStack, progress: Progress, options: ApplyOptions) -> _Applying:
    """The catalog loaded and its providers opened (closed with ``stack``),
    the apply lock and the outbox held, what a killed run left in the outbox sent."""
    from reconciler import engine, notifications

    catalog_path, lock_timeout = options.catalog_path, options.lock_timeout
    catalog, providers = engine.load_and_open(catalog_path, stack, environ=run_env.environ,
                                              parallelism=options.parallelism,
                                              incremental=options.refresh == "incremental")
    notifications.require_notify_credentials(catalog, "nothing was applied", environ=run_env.environ)
    stack.enter_context(apply_lock.hold(  # before reading what to plan from: one apply at a time
        apply_lock.targets(providers, SANDBOX_STATE if run_env.box is not None else None),
        timeout=lock_timeout, environ=run_env.environ, command=f"reconciler apply -c {sources.label(catalog_path)}",
        started=options.started, on_wait=lambda message: click.echo(message, err=True)))
    if catalog.notify is not None and catalog.notify.configured:  # (notify waits for it: see hold_outbox)
        stack.enter_context(apply_lock.hold_outbox(
            default_outbox_path(catalog.path), timeout=lock_timeout, command=f"reconciler apply -c "
            f"{sources.label(catalog_path)}", on_wait=lambda message: click.echo(message, err=True)))
    recovered = notifications.recover_notifications(catalog, providers, environ=run_env.environ,
                                                    webhook_base_url=run_env.webhook_base_url,
                                                    parallelism=options.parallelism, livemode=run_env.livemode)
    if recovered is not None:  # (what a killed run left in the outbox)
        click.echo("\n".join(clean(line) for line in recovered.lines()), err=True)
    return _Applying(run_env, catalog, providers, progress)


def _apply_plan(run: _Applying, the_plan: Plan, selection: Selection, options: ApplyOptions, *, force: bool,
                confirm: bool, check_creates: bool, done: tuple[Change, ...] = ()) -> _Applied | None:
    """Show the plan, check and confirm it, apply it and announce what it did
    (None: it has no changes). ``confirm``: ask (else it was reviewed).
    ``done``: a saved plan's changes already in effect (listed in JSON output)."""
    from reconciler import engine, notifications
    from reconciler.apply import ApplyResult
    from reconciler.render import json as render_json
    from reconciler.render import text as render_text

    fmt, env, catalog, progress = options.fmt, run.env, run.catalog, run.progress
    if fmt != "json":
        click.echo(_render_plan(the_plan, fmt, selection, show_unmanaged=options.show_unmanaged))
    _check_applicable(the_plan, force)
    if not the_plan.has_changes:
        if fmt == "json":
            click.echo(render_json.render_apply(the_plan, ApplyResult(()), selection, done=done))
        return None
    if confirm:
        _confirm(options.auto_approve)
    text = fmt == "text"
    on_result = render_text.result_printer(progress.echo) if text else None
    journal = notifications.write_ahead(catalog, the_plan, livemode=env.livemode, environ=env.environ)
    result = engine.apply(the_plan, run.providers, parallelism=options.parallelism, on_result=on_result,
                          progress=progress, check_creates=check_creates, journal=journal)
    report = notifications.announce(catalog, result, environ=env.environ, livemode=env.livemode,
                                    webhook_base_url=env.webhook_base_url, journal=journal)
    received = _sandbox_received(env) if report is not None and text else []
    return _Applied(the_plan, result, selection, report, received, done)


def _summary(applied: _Applied | None, fmt: str) -> None:
    """What an apply did, printed; exit 1 if a change or a notification failed."""
    if applied is None:
        return
    from reconciler.render import json as render_json
    from reconciler.render import text as render_text

    result, report = applied.result, applied.report
    if fmt == "json":
        click.echo(render_json.render_apply(applied.plan, result, applied.selection, report, applied.done))
    else:
        click.echo(render_text.render_apply_summary(result))
        if report is not None:
            click.echo("\n".join(map(clean, report.lines() + applied.received)))
    if not result.ok or (report is not None and not report.ok):
        raise ExitCode(EXIT_ERROR)


def _rederived(saved: planfile.SavedPlan, path: str | None, run_env: RunEnv, catalog: Catalog,
               providers: Mapping[str, Provider], progress: Progress, text: bool
               ) -> tuple[Plan, Selection, tuple[Change, ...]]:
    """The saved plan as the catalog and the live state call for it now, and
    its changes already in effect; or a refusal."""
    from reconciler import engine

    rederived = engine.rederive_saved(saved, catalog, providers, progress, _provenance(run_env, providers))
    if rederived.refused:
        raise ReconcilerError(f"{path} does not match the catalog and the live state; nothing was applied:\n"
                              + "\n".join(f"  {s}" for s in rederived.refused)
                              + "\nRun plan again and review it.")
    if rederived.done and text:
        click.echo(f"{len(rederived.done)} change(s) of {path} already in effect (applied before): "
                   + ", ".join(sorted({c.key for c in rederived.done})))
    return rederived.plan, saved.selection, rederived.done


def _sandbox_received(run_env: RunEnv) -> list[str]:
    """In --sandbox mode, what the sandbox's notification endpoints received."""
    if run_env.box is None:
        return []
    lines = ["The sandbox received:"]
    for sink in ("webhook", "usercom", "voucherify"):
        for entry in run_env.box.captures(sink):
            body = entry.get("json") if isinstance(entry.get("json"), dict) else {}
            what = body.get("event") or body.get("event_type") or ""
            about = (body.get("data") or {}).get("code") if sink == "webhook" else \
                (body.get("metadata") or {}).get("code", "")
            ident = f"id {body['id']}" if "id" in body else ""
            lines.append(f"  {sink:10} {entry.get('status')} {entry.get('path', '')} {what} {about or ''} "
                         f"{ident}".rstrip())
    return lines if len(lines) > 1 else []


def _check_applicable(the_plan: Plan, force: bool) -> None:
    if the_plan.errors:
        raise ReconcilerError("the plan has errors; nothing was applied")
    if the_plan.violations and not force:
        raise ReconcilerError("the plan crosses a safety threshold; nothing was applied:\n"
                              + "\n".join(f"  {v}" for v in the_plan.violations)
                              + "\nReview it; if it is intended, approve it with `plan --force` (recorded in the "
                                "saved plan) or `apply --force`.")


def _confirm(auto_approve: bool) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise ReconcilerError("refusing to apply without a terminal to confirm on; "
                              "review the plan and pass --auto-approve")
    if not click.confirm("\nApply these changes?", default=False):
        raise ReconcilerError("apply cancelled; nothing was changed")
