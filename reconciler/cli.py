"""Command line: thin click commands over the library. Errors are mapped to
exit codes in one place (:func:`main`)."""
from __future__ import annotations

import importlib
import os
import sys
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING, Any, Iterator, Mapping

import click

from reconciler import lock as apply_lock
from reconciler.catalog import sources
from reconciler.catalog.load import load_catalog
from reconciler.cli_sandbox import SANDBOX_STATE, sandbox
from reconciler.errors import CatalogError, ReconcilerError
from reconciler.render.common import clean

# The engine (httpx, the vendors' clients, the sinks), the renderers and the
# sandbox are imported by the commands that use them, in their bodies: a
# command pays only for what it needs (`validate` loads a catalog and no more).
if TYPE_CHECKING:
    from reconciler.plan import Plan, planfile
    from reconciler.plan.select import Selection
    from reconciler.providers.base import Provider
    from reconciler.render.progress import BarProgress, LineProgress

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2

catalog_option = click.option("-c", "--catalog", "catalog_path", default=("catalog.yaml",), show_default=True,
                              multiple=True, type=click.Path(), callback=lambda _c, _p, v: v[0] if len(v) == 1 else v,
                              help="The catalog: a file, or a directory of *.yaml files (repeatable: later ones "
                                   "override earlier settings key by key; products are the union).")
format_option = click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
                             show_default=True, help="Output format (json: schemas/plan.v1.json).")


refresh_option = click.option("--refresh", type=click.Choice(["full", "incremental"]), default="full",
                              show_default=True,
                              help="incremental: list only what changed since the last listing, "
                                   "kept in .reconciler/cache (a full listing whenever in doubt).")


def selection_options(command):  # type: ignore[no-untyped-def]
    command = click.option("--exclude", "excludes", multiple=True, metavar="CODE",
                           help="Leave out products whose code matches (glob; repeatable).")(command)
    return click.option("--target", "targets", multiple=True, metavar="CODE",
                        help="Only products whose code matches (glob; repeatable).")(command)
sandbox_option = click.option("--sandbox", is_flag=True,
                              help=f"Run against the built-in sandbox (state in {SANDBOX_STATE}, "
                                   "seeded with the demo products the first time); no credentials needed.")
show_unmanaged_option = click.option("--show-unmanaged", is_flag=True,
                                     help="Also list the codes of the live products the catalog does not manage "
                                          "(what `import -c` would adopt; the JSON output always lists them).")
parallelism_option = click.option("--parallelism", type=click.IntRange(1, 64), default=8, show_default=True,
                                  help="How many vendor calls run at once.")


def _import_httpx() -> None:
    """httpx, for the commands that talk to the vendors (before the engine),
    imported without its own command line (``httpx.main``, a tool this process
    never runs, whose import of rich and pygments costs about as much as the
    rest of httpx); a version of httpx that cannot do without it is imported
    as it is."""
    if "httpx" not in sys.modules:
        sys.modules["httpx._main"] = None  # type: ignore[assignment]  # (importing it fails; httpx falls back)
        try:
            importlib.import_module("httpx")  # (imported for later: the engine's modules use it)
        except ImportError:
            del sys.modules["httpx._main"]


class ExitCode(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="catalog-reconciler")
@click.option("--no-color", "no_color", is_flag=True,
              help="No colour in the output or progress bar (also: NO_COLOR set to anything non-empty).")
@click.pass_context
def cli(ctx: click.Context, no_color: bool) -> None:
    """Declarative plan/apply for product catalogs (ReadyCloud, Cobuilder)."""
    if no_color or os.environ.get("NO_COLOR"):
        ctx.color = False  # click.echo strips the styles of every command run under this group


cli.add_command(sandbox)


def _colour() -> bool:
    """Whether colour is allowed (it is still only used on a terminal)."""
    ctx = click.get_current_context(silent=True)
    return ctx is None or ctx.color is not False


@dataclass(frozen=True)
class RunEnv:
    """Where a command talks to: the real vendors, or a sandbox started for it."""

    environ: Mapping[str, str]
    livemode: bool = True
    webhook_base_url: str | None = None
    box: Any = None


#: Credentials the demo catalog references, provided in --sandbox mode when unset.
SANDBOX_DEFAULTS = {"WEBHOOK_SECRET": "sandbox-webhook-secret"}


@contextmanager
def _environment(sandbox: bool) -> Iterator[RunEnv]:
    """The real environment, or one pointing every vendor and sink at a
    sandbox started for this command (no credentials needed)."""
    if not sandbox:
        yield RunEnv(os.environ)
        return
    from reconciler import vendors
    from reconciler.sandbox import DEFAULT_TOKEN, Sandbox
    from reconciler.sandbox.capture import sandbox_notify_environ

    SANDBOX_STATE.parent.mkdir(parents=True, exist_ok=True)
    with Sandbox(SANDBOX_STATE, token=DEFAULT_TOKEN) as box:
        box.load_seed()  # the demo seed shipped with the package, into an empty state
        env = {**SANDBOX_DEFAULTS, **os.environ}
        for vendor in vendors.registered():
            for name, value in vendor.sandbox_environ(box).items():
                if value is None:
                    env.pop(name, None)
                else:
                    env[name] = value
        env.update(sandbox_notify_environ(box.url))
        yield RunEnv(env, livemode=False, webhook_base_url=f"{box.url}/hooks", box=box)


@cli.command()
@catalog_option
def validate(catalog_path: str) -> None:
    """Check the catalog offline: syntax, keys, types, duplicates, ${VAR}s."""
    catalog = load_catalog(catalog_path)
    click.echo(f"{sources.label(catalog_path)}: valid ({len(catalog.products)} products).")
    from reconciler.vendors import registered
    for vendor in registered():  # (an assumed default in use: said, not refused)
        for line in vendor.advice(catalog, os.environ):
            click.echo(f"Warning: {clean(line)}", err=True)


@cli.command()
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              help="Write the schema to this file (default: standard output).")
def schema(output: IO[str]) -> None:
    """Print the catalog's JSON Schema (for editors and check-jsonschema; committed as schemas/catalog.v1.json)."""
    from reconciler.catalog.schema import catalog_schema, render
    output.write(render(catalog_schema()))


@cli.command()
@catalog_option
@format_option
@sandbox_option
@selection_options
@refresh_option
@parallelism_option
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Also save the plan (versioned JSON) for a later `apply PLANFILE`.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when there are none.")
@click.option("--force", is_flag=True, help="Approve crossing a safety threshold (recorded in the saved plan, "
                                            "so that `apply PLANFILE` honours it).")
@show_unmanaged_option
def plan(catalog_path: str, fmt: str, sandbox: bool, targets: tuple[str, ...], excludes: tuple[str, ...],
         refresh: str, parallelism: int, out: str | None, detailed_exitcode: bool, force: bool,
         show_unmanaged: bool = False) -> None:
    """Show what apply would change."""
    _import_httpx()
    from reconciler import engine
    from reconciler.plan.select import Selection

    selection = Selection(targets, excludes)
    with _environment(sandbox) as run_env, ExitStack() as stack:
        catalog, providers = engine.load_and_open(catalog_path, stack, environ=run_env.environ,
                                                  parallelism=parallelism, incremental=refresh == "incremental")
        selection.require_matches(p.code for p in catalog.products)
        the_plan = engine.refresh_and_plan(catalog, providers, selection, _progress())
        # (what a saved or JSON plan records; finding the version reads the installed metadata)
        made = _provenance(run_env, providers, force) if out or fmt == "json" else None
    if out and made is not None:
        from reconciler.plan import planfile

        planfile.save(the_plan, out, selection, made, run_env.environ.get(planfile.KEY_VARIABLE))
    click.echo(_render_plan(the_plan, fmt, selection, out, made, show_unmanaged))
    if the_plan.errors:
        raise ExitCode(EXIT_ERROR)
    if the_plan.violations and not force:
        click.echo("Error: the plan crosses a safety threshold; apply will refuse it. If it is intended, "
                   "approve it with `plan --force` (recorded in the saved plan).", err=True)
        raise ExitCode(EXIT_ERROR)
    if detailed_exitcode and the_plan.has_changes:
        raise ExitCode(EXIT_CHANGES)


def _progress() -> BarProgress | LineProgress:
    """A bar on a terminal, periodic lines in CI logs; both on stderr. Lines
    printed while it runs go through its ``echo``."""
    from reconciler.render.progress import BarProgress, LineProgress

    if sys.stderr.isatty():
        return BarProgress(sys.stderr, color=_colour(), shares_terminal=sys.stdout.isatty())
    return LineProgress(lambda line: click.echo(line, err=True))


def _render_plan(the_plan: Plan, fmt: str, selection: Selection, saved: str | None = None,
                 made: planfile.Provenance | None = None, show_unmanaged: bool = False) -> str:
    if fmt == "json":
        from reconciler.render import json as render_json

        return render_json.render_plan(the_plan, selection, made)
    if fmt == "markdown":
        from reconciler.render import markdown as render_markdown

        return render_markdown.render_plan(the_plan, f"the saved plan `{saved}`" if saved else None,
                                           selection=selection, show_unmanaged=show_unmanaged)
    from reconciler.render import text as render_text

    return render_text.render_plan(the_plan, selection, show_unmanaged)


@cli.command()
@click.argument("planfile_path", metavar="[PLANFILE]", required=False, type=click.Path(dir_okay=False))
@catalog_option
@format_option
@sandbox_option
@selection_options
@parallelism_option
@refresh_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking for confirmation.")
@click.option("--force", is_flag=True, help="Apply even though the plan crosses a safety threshold.")
@click.option("--lock-timeout", type=click.FloatRange(0), default=apply_lock.DEFAULT_TIMEOUT, show_default=True,
              metavar="SECONDS", help="How long to wait for another apply to the same vendor endpoint and org "
                                      "on this machine (0: fail at once).")
@show_unmanaged_option
def apply(planfile_path: str | None, catalog_path: str, fmt: str, sandbox: bool, targets: tuple[str, ...],
          excludes: tuple[str, ...], parallelism: int, refresh: str, auto_approve: bool, force: bool,
          lock_timeout: float, show_unmanaged: bool = False) -> None:
    """Make the live state match the catalog.

    With PLANFILE (from `plan --out`), apply exactly that reviewed plan: each
    change is derived again from the catalog and the live state, and the plan
    is refused if they no longer call for it; otherwise plan, show, confirm,
    apply."""
    _import_httpx()
    from reconciler.cli_apply import ApplyOptions, apply_fresh, apply_saved
    from reconciler.plan import planfile
    from reconciler.plan.select import Selection

    if planfile_path and (targets or excludes):
        raise click.UsageError("--target/--exclude are fixed by the saved plan; give them to `plan`")
    options = ApplyOptions(catalog_path, fmt, sandbox, parallelism, refresh, auto_approve, force, lock_timeout,
                           started=datetime.now(timezone.utc), show_unmanaged=show_unmanaged)
    if planfile_path:
        apply_saved(planfile.load(planfile_path, os.environ.get(planfile.KEY_VARIABLE)), planfile_path, options)
    else:
        apply_fresh(Selection(targets, excludes), options)


@cli.command()
@click.argument("planfile_path", metavar="PLANFILE", type=click.Path(dir_okay=False))
@format_option
@show_unmanaged_option
def show(planfile_path: str, fmt: str, show_unmanaged: bool = False) -> None:
    """Show a saved plan (from `plan --out`) without applying it: no network,
    no catalog. With RECONCILER_PLAN_KEY set its signature must verify, as for apply."""
    from reconciler.plan import planfile
    from reconciler.render import json as render_json

    saved = planfile.load(planfile_path, os.environ.get(planfile.KEY_VARIABLE))
    if fmt == "json":  # (the document as saved, when it was made)
        click.echo(render_json.render_plan(saved.plan, saved.selection, saved.provenance, saved.created_at))
        return
    click.echo(_render_plan(saved.plan, fmt, saved.selection, planfile_path, saved.provenance, show_unmanaged))


def _provenance(run_env: RunEnv, providers: Mapping[str, Provider], force: bool = False) -> planfile.Provenance:
    """Where this run talks to, as a saved plan records it. A sandbox started
    for the command listens on a new port each time: it is named by its state."""
    from reconciler import engine
    from reconciler.plan import planfile

    made = engine.provenance(providers, force)
    if run_env.box is None:
        return made
    stable = f"sandbox:{SANDBOX_STATE}"
    return planfile.Provenance({vendor: {**where, "base_url": str(where["base_url"]).replace(run_env.box.url, stable)}
                                for vendor, where in made.vendors.items()}, force=force)


@cli.command()
@catalog_option
@sandbox_option
@click.option("--retry", "retry", is_flag=True, hidden=True,
              help="Accepted for compatibility: delivering the outbox is what notify does.")
@click.option("--lock-timeout", type=click.FloatRange(0), default=apply_lock.DEFAULT_TIMEOUT, show_default=True,
              metavar="SECONDS", help="How long to wait for an apply of the same catalog directory that is "
                                      "still running (0: fail at once).")
def notify(catalog_path: str, sandbox: bool, retry: bool, lock_timeout: float) -> None:
    """Deliver notifications kept in the outbox (.reconciler/outbox.json next
    to the catalog), with their original event ids. The catalog supplies the
    targets and their secrets; the outbox holds none. Changes a killed apply
    left unannounced are read back from the vendor and announced if they happened."""
    _import_httpx()
    from reconciler import notifications
    from reconciler.sinks import default_outbox_path

    with _environment(sandbox) as run_env:
        catalog = load_catalog(catalog_path, run_env.environ)
        notifications.require_notify_credentials(catalog, "nothing was sent", environ=run_env.environ)
        held = apply_lock.hold_outbox(default_outbox_path(catalog.path), timeout=lock_timeout,
                                      command=f"reconciler notify -c {sources.label(catalog_path)}",
                                      consequence="nothing was sent", on_wait=lambda m: click.echo(m, err=True))
        with held:
            report = notifications.retry_notifications(catalog, environ=run_env.environ,
                                                       webhook_base_url=run_env.webhook_base_url)
            recovered = notifications.recover_notifications(catalog, environ=run_env.environ,
                                                            webhook_base_url=run_env.webhook_base_url,
                                                            livemode=run_env.livemode)
    lines = [clean(line) for line in (recovered.lines() if recovered is not None else []) + report.lines()]
    click.echo("\n".join(lines) if lines else "Nothing to deliver: the outbox is empty.")
    if not report.ok or (recovered is not None and not recovered.ok):
        raise ExitCode(EXIT_ERROR)


def _ids_options(command):  # type: ignore[no-untyped-def]
    """``import``'s ``--<word>-ids FILE``, one per vendor that takes ids (``Vendor.import_ids``)."""
    from reconciler import vendors
    for vendor in reversed(vendors.registered()):
        if vendor.import_ids:
            command = click.option(
                f"--{vendor.import_ids}-ids", f"ids_{vendor.name}", type=click.Path(dir_okay=False),
                metavar="FILE", help=f"A CSV of code,{vendor.import_ids}_id: those products also get their own "
                                     f"{vendor.label} values (an entry under {vendor.product_key}:).")(command)
    return command


class _Echoed:
    """Standard output for streamed YAML, through the progress display (above its bar)."""

    def __init__(self, echo: Any) -> None:
        self._echo = echo

    def write(self, text: str) -> None:
        if text:
            self._echo(text.removesuffix("\n"))


@cli.command("import")
@click.option("--org", type=click.IntRange(1), default=None,
              help="Import every live product of this org as a new catalog, settings included.")
@click.option("-c", "--catalog", "catalog_paths", multiple=True, type=click.Path(exists=True),
              help="Import only the live products this catalog does not declare yet (its plan's unmanaged "
                   "ones), as entries to add to it; its settings are used (repeatable, as for plan).")
@click.option("--select", "selects", multiple=True, metavar="GLOB",
              help="Only products whose code matches (glob; repeatable).")
@click.option("-o", "--out", type=click.Path(dir_okay=False), default=None,
              help="Write to FILE (whole or not at all) instead of standard output.")
@sandbox_option
@parallelism_option
@_ids_options
def import_(org: int | None, catalog_paths: tuple[str, ...], selects: tuple[str, ...], out: str | None,
            sandbox: bool, parallelism: int, **ids_files: str | None) -> None:
    """Write live products as catalog entries: a new catalog of an org
    (--org), or what a catalog does not declare yet (-c). `plan` of the
    result against the same live state shows no changes."""
    if (org is None) == (not catalog_paths):
        raise click.UsageError("give --org N (a new catalog) or -c CATALOG (what it does not declare yet)")
    _import_httpx()
    from reconciler import importer, vendors

    ids = {vendor.name: importer.read_ids(path, vendor) for vendor in vendors.registered()
           if (path := ids_files.get(f"ids_{vendor.name}"))}
    command = "reconciler import " + (f"--org {org}" if org is not None else
                                      " ".join(f"-c {path}" for path in catalog_paths))
    if out and catalog_paths:
        importer.refuse_catalog_file(out, catalog_paths)
    progress = _progress()
    with _environment(sandbox) as run_env, ExitStack() as stack:
        target = stack.enter_context(importer.replaced(out)) if out else _Echoed(progress.echo)
        options = dict(select=selects, ids=ids, environ=run_env.environ, parallelism=parallelism,
                       progress=progress, command=command)
        where = f"org {org} of the sandbox ({SANDBOX_STATE})" if sandbox else None
        report = importer.import_org(org, target, origin=where, **options) if org is not None else \
            importer.import_unmanaged(catalog_paths[0] if len(catalog_paths) == 1 else catalog_paths, target,
                                      **options)  # type: ignore[arg-type]
    for note in report.notes:
        click.echo(f"note: {clean(note)}", err=True)
    if out:
        click.echo(f"Imported {report.products:,} product{'s' * (report.products != 1)} to {clean(out)}.", err=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point: maps every error to one message on stderr and an exit code."""
    try:
        cli.main(args=argv, prog_name="reconciler", standalone_mode=False)
    except ExitCode as exc:
        return exc.code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_ERROR
    except click.ClickException as exc:
        exc.show()
        return EXIT_ERROR
    except CatalogError as exc:
        problems = exc.problems
        click.echo(f"Error: the catalog is invalid ({len(problems)} problem{'s' * (len(problems) != 1)}):",
                   err=True)
        for problem in problems:
            click.echo(f"  {clean(problem)}", err=True)
        return EXIT_ERROR
    except ReconcilerError as exc:
        click.echo(f"Error: {clean(exc, lines=True)}", err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last resort: one line, never a traceback
        if os.environ.get("RECONCILER_DEBUG"):
            raise
        click.echo(f"Error: internal error ({type(exc).__name__}: {exc}); this is a bug in reconciler. "
                   "Set RECONCILER_DEBUG=1 to see the traceback.", err=True)
        return EXIT_ERROR
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
