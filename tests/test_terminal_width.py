"""80 columns (issue 19, item 11): what a deploy repo prints fits the terminal.

`make verify` rows ran past 200 characters and wrapped mid-word even with
COLUMNS=80, the `make cost` comparison was ~150 wide, post-copy warnings and
`make help` lines exceeded 80, and Kubernetes' `make help` showed `$(IMAGE)`.
Every platform, at COLUMNS=80: no line longer than 80, columns aligned, lines
broken only between words.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ops import cost, terminal, verify
from ops import model as m

PLATFORMS = sorted(m.platforms())
ENV80 = {**os.environ, "COLUMNS": "80"}


def words(text: str) -> list[str]:
    return text.split()


def test_table_wraps_between_words_and_keeps_columns():
    rows = [["PASS", "a check with a long name", "seen " * 30], ["WARN", "short", "x"]]
    out = terminal.table(rows, columns=50)
    lines = out.splitlines()
    assert max(map(len, lines)) <= 50
    third = lines[0].index("seen")
    assert all(line[third - 2:third] == "  " for line in lines if len(line) > third)  # one column edge
    assert words(" ".join(line[third:] for line in lines[:-1])) == words("seen " * 30)  # no word cut
    assert terminal.table([["a", "b"]], header=["one", "two"], columns=80).splitlines() == ["one  two",
                                                                                           "---  ---", "a    b"]


@pytest.fixture(scope="module")
def repos(template_repo, tmp_path_factory):
    from tests.conftest import copy_template

    base = tmp_path_factory.mktemp("width")
    out = {p: copy_template(template_repo, base / p, {"platform": p}) for p in PLATFORMS}
    # Kubernetes with a baked-in CLI builds its own image: `make image` names $(IMAGE)
    out["kubernetes-image"] = copy_template(template_repo, base / "k8s-image",
                                            {"platform": "kubernetes", "binaries": ["gog"]})
    return out


@pytest.mark.parametrize("platform", [*PLATFORMS, "kubernetes-image"])
def test_make_help_fits_80_columns_with_variables_expanded(repos, platform):
    proc = subprocess.run(["make", "-s", "help"], cwd=repos[platform], capture_output=True, text=True,
                          timeout=30, env=ENV80)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0 and len(lines) >= 8
    assert max(map(len, lines)) <= 80, proc.stdout
    assert "$(" not in proc.stdout, proc.stdout
    desc = {len(line) - len(line.lstrip()) for line in lines if not line.startswith("  make ")}
    assert len(desc) <= 1  # continuation lines start under the description column
    if platform == "kubernetes-image":
        assert "the Deployment pulls ghcr.io/your-github-user/my-openclaw-gateway:" in " ".join(proc.stdout.split())


@pytest.mark.parametrize("platform", PLATFORMS)
def test_verify_rows_fit_80_columns_aligned_and_unbroken(repos, platform):
    results = verify.run_all(repos[platform])
    out = verify.render(results, columns=80)
    lines = out.splitlines()
    assert max(map(len, lines)) <= 80, out
    # the third column starts at one offset (where a fix row's "fix:" is); reading it back
    # gives each row's text whole
    col = next(line.index("fix: ") for line in lines if line.lstrip().startswith("fix: "))
    for r, line in zip(results, _first_lines(lines, results)):
        if r.seen.strip():
            assert line[col - 2:col] == "  " and line[col:].startswith(r.seen.split()[0]), (line, col)
    text = " ".join(line[col:] for line in lines[:-1])
    expected = []
    for r in results:
        expected += words(r.seen.splitlines()[0] if r.seen else "")
        if r.status in ("FAIL", "WARN", "SKIP") and r.fix:
            expected += words(f"fix: {r.fix}")
    assert "".join(words(text)) == "".join(expected)  # everything, in order
    # every word that fits the column is whole: only a path longer than the column is cut
    from collections import Counter

    assert not Counter(w for w in expected if len(w) <= 80 - col) - Counter(words(text))


def _first_lines(lines: list[str], results) -> list[str]:
    """The line each result's row starts on (its status at column 0)."""
    return [line for line in lines if re.match(r"(PASS|FAIL|WARN|SKIP)  ", line)][:len(results)]


def test_make_verify_reads_columns_from_the_environment(repos):
    proc = subprocess.run([sys.executable, "-m", "ops.verify"], cwd=repos["fly"], capture_output=True, text=True,
                          timeout=300, env=ENV80)
    assert proc.stdout.strip() and max(map(len, proc.stdout.splitlines())) <= 80, proc.stdout


def test_config_validate_row_is_the_verdict_then_its_warnings():
    out = ("Config valid: config/openclaw.json\n2 warning(s):\n"
           "  ! gateway.trustedProxies[1]: Missing env var \"A\" - feature using this value will be unavailable\n"
           "  ! gateway.trustedProxies[2]: Missing env var \"B\" - feature using this value will be unavailable")
    summary = verify.validate_summary(out)
    assert summary.startswith("Config valid: config/openclaw.json; 2 warning(s): gateway.trustedProxies[1]")
    assert "!" not in summary and "\n" not in summary and summary.endswith("will be unavailable")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_cost_output_fits_80_columns(platform, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    home, rows = cost.run(cost.parameters(None, platform=platform, egress_gb=1))
    printed = "\n".join([cost.items_text(home), cost.estimate_line(home), cost.note_text(home),
                         *map(cost.bullet, home.warnings),
                         cost.table_text(cost.comparison_rows(rows)),
                         *map(cost.bullet, cost.distinct_warnings(rows, home))])
    assert max(map(len, printed.splitlines())) <= 80, printed


def test_post_copy_warnings_fit_80_columns(template_repo, tmp_path):
    """Warnings after `copier copy` (memory below the recommendation, no model provider)."""
    code = ("import copier, sys; copier.run_copy(sys.argv[1], sys.argv[2], data={'vm_memory_mb': '1024', "
            "'model_providers': []}, defaults=True, unsafe=True, vcs_ref='HEAD')")
    proc = subprocess.run([sys.executable, "-c", code, str(template_repo), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300, env=ENV80)
    assert proc.returncode == 0, proc.stderr[-2000:]
    message = proc.stderr[proc.stderr.index("WARNING: "):]
    assert message.count("WARNING: ") == 2
    assert max(map(len, message.splitlines())) <= 80, message


@pytest.mark.parametrize("platform", PLATFORMS)
def test_troubleshoot_table_fits_80_columns(repos, platform, monkeypatch):
    from ops import troubleshoot as t

    monkeypatch.setenv("COLUMNS", "80")
    results, _ = t.run(t.parameters(str(repos[platform]), mode="static"))
    out = t.table(results)
    assert max(map(len, out.splitlines())) <= 80, out


def test_one_line_exit_is_one_line_for_the_errors_it_names_and_130_for_ctrl_c(capsys):
    from ops.terminal import one_line_exit

    class Expected(RuntimeError):
        pass

    def fails(exc: BaseException):
        def run():
            raise exc
        return run

    assert one_line_exit(lambda: None, Expected) == 0 and one_line_exit(lambda: 3, Expected) == 3
    assert one_line_exit(fails(Expected("backup: no gateway")), Expected) == 1
    assert capsys.readouterr().err == "backup: no gateway\n"
    assert one_line_exit(fails(Expected("x")), Expected, say=lambda err: f"said {err}") == 1
    assert capsys.readouterr().err == "said x\n"
    assert one_line_exit(fails(KeyboardInterrupt()), Expected) == 130
    assert capsys.readouterr().err == "interrupted\n"
    with pytest.raises(ValueError):  # an error it does not name is a bug: its traceback stays
        one_line_exit(fails(ValueError("bug")), Expected)
