"""``python -m demo`` (what ``make demo`` runs after the venv): it finishes with the matrix, the
findings by severity, the scan cross-check and the report, and leaves no server behind."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from demo.__main__ import main
from demo.seed import SAMPLE, SECRET_VARIABLES
from rules.model import Compliance


def test_demo_runs_to_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "out" / "report.html"
    assert main(["--skip-synth", "--report", str(report)]) == 0
    output = capsys.readouterr().out
    assert "What AWS Config holds" in output
    designed = [verdict for sample in SAMPLE for verdict in sample.expected.values()]
    failed = designed.count(Compliance.NON_COMPLIANT)
    passed = designed.count(Compliance.COMPLIANT)
    # An exempted finding stays ACTIVE (SUPPRESSED); other NOT_APPLICABLE ones are archived.
    suppressed = sum(len(sample.exempted) for sample in SAMPLE)
    archived = designed.count(Compliance.NOT_APPLICABLE) - suppressed
    assert suppressed == 2
    assert (
        f"{len(designed)} findings: {failed} FAILED, {passed} PASSED, "
        f"{suppressed} SUPPRESSED (exempted), {archived} ARCHIVED" in output
    )
    assert f"agrees with the handlers on all {failed + passed} verdicts" in output
    assert f"{suppressed} exempted verdict(s) left out" in output
    texts = [output, report.read_text(), (report.parent / "handler-log.jsonl").read_text()]
    assert not [v for v in SECRET_VARIABLES.values() for text in texts if v in text]
    assert f"HTML report: {report.resolve()}" in output
    assert "gl-public-url" in report.read_text()
    assert (report.parent / "handler-log.jsonl").stat().st_size > 0
    port = int(re.search(r"moto_server on http://127\.0\.0\.1:(\d+)", output).group(1))  # type: ignore[union-attr]
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_ctrl_c_mid_demo_stops_the_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import demo.__main__ as demo_main

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(demo_main, "run_flow", interrupted)
    assert demo_main.run(["--skip-synth", "--report", str(tmp_path / "r.html")]) == 130
    captured = capsys.readouterr()
    assert "Interrupted: moto_server stopped." in captured.err
    port = int(re.search(r"moto_server on http://127\.0\.0\.1:(\d+)", captured.out).group(1))  # type: ignore[union-attr]
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    assert not (tmp_path / "r.html").exists()
