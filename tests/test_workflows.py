"""Delivery: the GitHub Actions workflows in .github/workflows and the citation file.

actionlint reports nothing in any workflow; each workflow runs the README's command for its job
(make test, make book, make student-book, all defined in the Makefile); the student edition is
pushed to the branch that ``student_branch`` in ``_config.yml`` names, never to one written into
the workflow; and CITATION.cff states the version of pyproject.toml and the repository of
``_config.yml``, so that neither can drift.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
README = (ROOT / "README.md").read_text()
MAKEFILE = (ROOT / "Makefile").read_text()

# The command lines each workflow must run.
COMMANDS = {
    "test.yml": ["make test"],
    "book.yml": ["make book"],
    "student.yml": ["make student-book", "-m nnsrm_utils.editions student"],
}


def _config():
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def _pyproject():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _workflow(name):
    return yaml.safe_load((WORKFLOWS / name).read_text())


def _steps(workflow):
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _run_lines(workflow):
    """Every line of every ``run:`` step, stripped."""
    return [line.strip() for step in _steps(workflow) if "run" in step for line in step["run"].splitlines()]


def _runs_command(lines, command):
    """Whether a line runs ``command`` (as the whole line, or followed by arguments)."""
    return any(re.search(rf"(^|\s){re.escape(command)}(\s|$)", line) for line in lines)


def _actionlint():
    """The actionlint installed beside this Python (the test extra installs it), else one on PATH.
    Missing: skipped on a developer's machine, a failure in CI."""
    beside = Path(sys.executable).parent / "actionlint"
    found = str(beside) if beside.exists() else shutil.which("actionlint")
    if found is None:
        reason = "actionlint is not installed (pip install -e '.[test]' installs it)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must lint the workflows")
        pytest.skip(reason)
    return found


def _lint(*paths):
    result = subprocess.run([_actionlint(), "-no-color", *map(str, paths)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    return result.returncode, (result.stdout + result.stderr).strip()


FILES = sorted(p.name for p in WORKFLOWS.glob("*.y*ml"))


def test_the_three_workflows_exist():
    assert set(COMMANDS) <= set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_actionlint_reports_nothing(name):
    code, output = _lint(WORKFLOWS / name)
    assert code == 0 and not output, f"actionlint on {name}:\n{output}"


def test_actionlint_catches_a_broken_workflow(tmp_path):
    """The lint is not vacuous: a copy of test.yml with an undefined expression and a job that
    needs a job that does not exist is rejected, with both problems named."""
    broken = (WORKFLOWS / "test.yml").read_text().replace("${{ github.ref }}", "${{ github.no_such_thing }}")
    broken = broken.replace("    runs-on: ubuntu-latest", "    needs: no-such-job\n    runs-on: ubuntu-latest", 1)
    path = tmp_path / "broken.yml"
    path.write_text(broken)
    code, output = _lint(path)
    assert code != 0
    assert "no_such_thing" in output and "no-such-job" in output, output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_workflow_runs_the_readme_command(name):
    lines = _run_lines(_workflow(name))
    for command in COMMANDS[name]:
        assert _runs_command(lines, command), f"{name} does not run `{command}`"
        if command.startswith("make "):
            target = command.split()[1]
            assert re.search(rf"^{re.escape(target)}:", MAKEFILE, re.M), f"no `{target}` target in the Makefile"
            assert f"make {target}" in README, f"the README does not name `make {target}`"


def test_triggers():
    on = {name: _workflow(name).get("on", _workflow(name).get(True)) for name in COMMANDS}  # YAML 1.1 reads `on` as True
    assert "pull_request" in on["test.yml"]
    for name in COMMANDS:
        assert "main" in on[name]["push"]["branches"], f"{name} does not run on pushes to main"


def test_book_workflow_publishes_the_built_html_to_pages():
    workflow = _workflow("book.yml")
    uses = {step["uses"].split("@")[0]: step for step in _steps(workflow) if "uses" in step}
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == "_build/html"
    assert "actions/deploy-pages" in uses
    assert workflow["permissions"]["pages"] == "write" and workflow["permissions"]["id-token"] == "write"


def test_student_workflow_pushes_to_the_branch_config_names():
    workflow = _workflow("student.yml")
    branch = _config()["repository"]["student_branch"]
    lines = _run_lines(workflow)
    assert any("student_branch" in line for line in lines), \
        "the branch must be read from student_branch in _config.yml"
    git = [line for line in lines if re.search(r"\bgit\b.*\b(push|init|checkout|switch)\b", line)]
    assert any(re.search(r"\bgit\b.*\bpush\b", line) for line in git), "student.yml pushes nothing"
    for line in git:
        assert branch not in re.split(r"[^\w.-]+", line), f"branch {branch!r} written into the workflow: {line}"
    envs = [workflow.get("env", {})] + [job.get("env", {}) for job in workflow["jobs"].values()] \
        + [step.get("env", {}) for step in _steps(workflow)]
    assert all(value != branch for env in envs for value in env.values()), \
        f"branch {branch!r} written into the workflow's env"
    assert workflow["permissions"]["contents"] == "write"


def test_citation_agrees_with_pyproject_and_config():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    project = _pyproject()["project"]
    assert citation["cff-version"] == "1.2.0"
    assert citation["type"] == "software"
    assert str(citation["version"]) == project["version"]
    assert citation["license"] == project["license"]
    assert citation["repository-code"] == _config()["repository"]["url"]
    assert any("1811.11684" in str(ref) for ref in citation["references"]), "the paper the book reproduces"
