from reconciler.render.progress import LineProgress, duration


def test_line_progress_reports_periodically_with_eta() -> None:
    now = [0.0]
    lines: list[str] = []
    progress = LineProgress(lines.append, every=10, clock=lambda: now[0])
    task = progress.task("Applying changes", 100, eta_hint=200)
    assert lines == ["Applying changes: paced to the vendor's rate limit, about 3m20s"]
    for _ in range(100):
        now[0] += 1
        task.advance()
    task.close()
    assert lines[1] == "Applying changes: 10/100 (10%), 1.0/s, ETA 1m30s"
    assert len(lines) == 12 and lines[-1] == "Applying changes: 100 done in 1m40s"


def test_short_work_prints_nothing() -> None:
    lines: list[str] = []
    task = LineProgress(lines.append, every=10).task("Reading", 3)
    task.advance(3)
    task.close()
    assert lines == []


def test_duration() -> None:
    assert [duration(s) for s in (5, 65, 3700)] == ["5s", "1m05s", "1h01m"]
