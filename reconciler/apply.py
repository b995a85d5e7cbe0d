"""Execute a plan: creates and updates first, deletes last, with bounded
concurrency. One failing change never stops the others; an authentication
failure stops everything not yet started for that vendor (it would fail the
same way: an expired token), reported once, not once per product; an
endpoint the vendor turns out not to have (:class:`EndpointMissing`) stops
that vendor's remaining changes of that kind the same way."""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any, Callable, Literal, Mapping

from reconciler.errors import AuthError, EndpointMissing, ReconcilerError, SafetyError
from reconciler.plan.model import Change, Plan
from reconciler.progress import NULL, Progress
from reconciler.providers.base import Provider
from reconciler.workers import bounded_map

Status = Literal["succeeded", "failed", "skipped"]


@dataclass(frozen=True)
class ChangeResult:
    change: Change
    status: Status
    error: str | None = None
    resource: Any = None  # the resource as the vendor answered after the change
    #: a skip that is no failure: the product to create appeared since the plan
    #: (see :mod:`reconciler.precreate`); reported, but apply still succeeds
    benign: bool = False
    #: not attempted: the vendor had refused the credentials, or turned out to
    #: have no endpoint for this kind of change (``error`` says so, the same for
    #: each; reported once, see :attr:`ApplyResult.refusals`)
    refused: bool = False


@dataclass(frozen=True)
class ApplyResult:
    results: tuple[ChangeResult, ...]

    def _with(self, status: Status) -> tuple[ChangeResult, ...]:
        return tuple(r for r in self.results if r.status == status)

    @property
    def succeeded(self) -> tuple[ChangeResult, ...]:
        return self._with("succeeded")

    @property
    def failed(self) -> tuple[ChangeResult, ...]:
        return self._with("failed")

    @property
    def skipped(self) -> tuple[ChangeResult, ...]:
        return self._with("skipped")

    @property
    def refusals(self) -> tuple[str, ...]:
        """One message per vendor that refused the credentials mid-run (or per
        endpoint found missing), with how many changes were not attempted because of it."""
        counts: dict[str, int] = {}
        for r in self.results:
            if r.refused:
                counts[r.error or ""] = counts.get(r.error or "", 0) + 1
        return tuple(f"{message}; {n} change{'s' if n != 1 else ''} not attempted" for message, n in counts.items())

    @property
    def ok(self) -> bool:
        return not self.failed and all(r.benign for r in self.skipped)


def phases(plan: Plan) -> list[list[Change]]:
    """Creates and updates together, then deletes, each in plan order."""
    first = [c for c in plan.changes if c.action != "delete"]
    last = [c for c in plan.changes if c.action == "delete"]
    return [p for p in (first, last) if p]


def refusal_message(vendor: str, exc: AuthError) -> str:
    """What to do when ``vendor`` refused the credentials mid-run."""
    from reconciler import vendors  # (the registry imports the providers, which import this module)

    known = vendors.get(vendor)
    label = known.label if known is not None else vendor
    if exc.status == 401:
        return f"the {label} token was refused (401): it may have expired; refresh it and run apply again"
    return f"the {label} credentials were refused ({exc.status}: {exc.detail}); fix them and run apply again"


def apply_plan(plan: Plan, providers: Mapping[str, Provider], *, parallelism: int = 8,
               on_result: Callable[[ChangeResult], None] | None = None, progress: Progress = NULL) -> ApplyResult:
    """Apply every change of ``plan``. Raises :class:`SafetyError` before any
    call if the plan has errors; otherwise always returns the results."""
    if plan.errors:
        raise SafetyError("the plan has errors; nothing was applied:\n" +
                          "\n".join(f"  {e.key}: {e.message}" for e in plan.errors))
    missing = {c.vendor for c in plan.changes} - set(providers)
    if missing:
        raise SafetyError(f"no provider configured for {', '.join(sorted(missing))}")
    per_vendor: dict[str, int] = {}
    for change in plan.changes:
        per_vendor[change.vendor] = per_vendor.get(change.vendor, 0) + 1
    eta = max((providers[v].write_eta(n) for v, n in per_vendor.items()), default=0.0)
    task = progress.task("Applying changes", len(plan.changes), eta_hint=eta)
    # (vendor, None) or (vendor, action) -> why its remaining changes (of that action) are not attempted
    refused: dict[tuple[str, str | None], str] = {}
    lock = threading.Lock()
    results: dict[int, ChangeResult] = {}

    def run(index: int, change: Change) -> None:
        with lock:
            why = refused.get((change.vendor, None)) or refused.get((change.vendor, change.action))
        if why is not None:
            result = ChangeResult(change, "skipped", why, refused=True)
        else:
            try:
                result = ChangeResult(change, "succeeded", resource=providers[change.vendor].execute(change))
            except AuthError as exc:
                with lock:
                    refused.setdefault((change.vendor, None), change.hide(refusal_message(change.vendor, exc)))
                result = ChangeResult(change, "failed", str(exc))
            except EndpointMissing as exc:
                with lock:
                    refused.setdefault((change.vendor, exc.action), change.hide(exc.detail))
                result = (ChangeResult(change, "failed", str(exc)) if exc.sent
                          else ChangeResult(change, "skipped", exc.detail, refused=True))
            except ReconcilerError as exc:
                result = ChangeResult(change, "failed", str(exc))
            if result.error is not None:  # (a vendor's message may quote a sensitive value sent)
                result = replace(result, error=change.hide(result.error))
        with lock:
            results[index] = result
        task.advance()
        if on_result is not None:
            on_result(result)

    order = {id(c): i for i, c in enumerate(plan.changes)}
    try:
        for phase in phases(plan):  # (each phase ends before the next begins: deletes last)
            for _ in bounded_map(lambda c: run(order[id(c)], c), phase, parallelism, "apply"):
                pass
    finally:
        task.close()
    return ApplyResult(tuple(results[i] for i in sorted(results)))
