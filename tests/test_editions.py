"""Colab badges and install cells agree with _config.yml; the student edition has no solutions,
its stubs agree with the solutions and its notebooks run up to them; the install cell works in
a fresh environment."""
import ast
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nnsrm_utils import editions, exercises

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = editions.chapters()
# The numbered chapters end with exercises; the package reference's worked page (own_networks) has none.
NUMBERED = [p for p in CHAPTERS if p.name[0].isdigit()]


def test_every_notebook_is_a_chapter():
    assert sorted(CHAPTERS) == sorted(ROOT.joinpath("notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_colab_badge_and_install_cell_agree_with_config(path):
    url, branch = editions.repository()
    cells = nbformat.read(path, as_version=4).cells
    expected = f"https://colab.research.google.com/github/{url.split('github.com/')[1]}/blob/{branch}/notebooks/{path.name}"
    assert f"{editions.BADGE}({expected})" in cells[0].source, "run: python -m nnsrm_utils.editions stamp"
    install = [c for c in cells if c.cell_type == "code"][0]
    assert install.source == editions.install_source(), "run: python -m nnsrm_utils.editions stamp"
    assert f'"git+{url}@{branch}"' in install.source


@pytest.mark.parametrize("path", NUMBERED, ids=lambda p: p.name)
def test_every_chapter_ends_with_exercises(path):
    cells = nbformat.read(path, as_version=4).cells
    assert any(c.cell_type == "markdown" and c.source.startswith("## Exercises") for c in cells)
    assert any("{exercise}" in c.source for c in cells) and any("{solution" in c.source for c in cells)


def test_stub_keeps_signature_and_docstring_and_raises_the_hint():
    source = ('import numpy as np\n\n\ndef f(x, y=2):\n    """Add."""\n    # Hint: use +.\n    return x + y\n\n\n'
              "def g(z):\n    return z\n\nprint(f(1))")
    namespace = {}
    exec(editions.stub(source), namespace)
    assert namespace["f"].__doc__ == "Add." and set(namespace) >= {"f", "g"}
    with pytest.raises(NotImplementedError, match="Exercise: use \\+."):
        namespace["f"](1)
    assert "return" not in editions.stub(source) and "print" not in editions.stub(source)
    # without a docstring, a hint between the signature and the body must not survive either
    bare = editions.stub("def h(a,\n      b):\n    # Hint: multiply.\n    return a * b")
    assert "# Hint" not in bare and "b):" in bare and "Exercise: multiply." in bare


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    return editions.student_edition(tmp_path_factory.mktemp("student") / "book")


def test_student_edition_has_no_solutions(student):
    for path in student.joinpath("notebooks").glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        text = "\n".join(c.source for c in nb.cells)
        assert "{solution" not in text and "# Hint:" not in text
        assert not any(editions.SOLUTION_TAG in c.metadata.get("tags", []) for c in nb.cells)
    assert "student edition" in (student / "_config.yml").read_text()


def test_student_edition_links_to_the_student_branch_and_installs_from_main(student):
    """A student following a badge or launch button must land on the stubs, not the solutions."""
    url, main = editions.repository()
    branch = editions.student_branch()
    assert branch != main
    assert editions.repository(student) == (url, branch)  # what the launch buttons are made from
    for path in student.joinpath("notebooks").glob("*.ipynb"):
        cells = nbformat.read(path, as_version=4).cells
        assert f"/blob/{branch}/notebooks/{path.name})" in cells[0].source
        assert f"/blob/{main}/" not in cells[0].source
        assert [c for c in cells if c.cell_type == "code"][0].source == editions.install_source()


@pytest.mark.parametrize("name", [p.name for p in NUMBERED])
def test_student_notebook_runs_up_to_the_stubs(student, name):
    """The install and parameters cells, then the exercises (self-contained by design): every
    error is a stub's NotImplementedError, and each coding exercise reaches its stub."""
    from nbclient import NotebookClient

    nb = nbformat.read(student / "notebooks" / name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    start = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith("## Exercises"))
    nb.cells = code[:2] + [c for c in nb.cells[start:] if c.cell_type == "code"]
    NotebookClient(nb, timeout=300, allow_errors=True, kernel_name="python3").execute()
    errors = [o for c in nb.cells for o in c.outputs if o.output_type == "error"]
    assert all(e.ename == "NotImplementedError" and "Exercise: " in e.evalue for e in errors), \
        [(e.ename, e.evalue) for e in errors]
    original = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    n_coding = sum(editions.SOLUTION_TAG in c.metadata.get("tags", []) for c in original.cells)
    assert len(errors) == n_coding


def test_install_cell_installs_into_a_fresh_environment_without_replacing_torch(tmp_path):
    """The install cell as Colab runs it, with the repository swapped for a copy of this checkout
    and this environment's packages standing in for Colab's preinstalled ones: pip adds this
    book's package and nothing else (no preinstalled package replaced, no restart needed), and
    every module the chapters import can be imported afterwards."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "nnsrm_utils", source / "nnsrm_utils", ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    preinstalled = Path(__import__("torch").__file__).parents[1]
    Path(site, "colab_preinstalled.pth").write_text(f"{preinstalled}\n")

    def installed_here():
        listing = subprocess.run([python, "-m", "pip", "list", "--path", site, "--format", "freeze"],
                                 check=True, capture_output=True, text=True).stdout
        return {line.split("==")[0].lower().replace("_", "-") for line in listing.split()}

    before = installed_here()
    cell = editions.install_source().replace(
        editions.install_source().split("\n")[0], f'SOURCE = "file://{source}"')
    script = "import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')\n" + cell
    subprocess.run([python, "-c", script], check=True, timeout=600)
    assert installed_here() - before == {"nnsrm-utils"}

    check = ("import importlib, sys, nnsrm_utils, torch, numpy\n"
             "for m in sys.argv[1:]: importlib.import_module(m)\n"
             "print(nnsrm_utils.__file__, torch.__file__, numpy.__file__)")
    where = subprocess.run([python, "-c", check, *_chapter_imports()], check=True, capture_output=True,
                           text=True, cwd=tmp_path).stdout.split()
    assert where[0].startswith(site)  # installed into the fresh environment
    assert all(p.startswith(str(preinstalled)) for p in where[1:])  # torch and numpy left as they were


def test_a_failed_install_shows_pips_reason(tmp_path):
    """On Colab a failed install raises with pip's own message (a missing repository, no network),
    not only an exit status; nothing is installed."""
    missing = tmp_path / "missing"
    cell = editions.install_source().replace(editions.install_source().split("\n")[0], f'SOURCE = "file://{missing}"')
    script = "import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')\n" + cell
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "installing nnsrm_utils from file://" in result.stderr and "ERROR" in result.stderr, result.stderr


def _chapter_imports():
    """Every module a chapter's code imports (absolute imports only)."""
    modules = set()
    for path in CHAPTERS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                for node in ast.walk(ast.parse(cell.source)):
                    if isinstance(node, ast.Import):
                        modules.update(alias.name for alias in node.names)
                    elif isinstance(node, ast.ImportFrom) and node.level == 0:
                        modules.add(node.module)
    return sorted(modules)


def _coding_exercises(path):
    """``(exercise prose, solution cell, check cell)`` for each coding exercise of a chapter."""
    cells = nbformat.read(path, as_version=4).cells
    found = []
    for i, cell in enumerate(cells):
        if editions.SOLUTION_TAG in cell.metadata.get("tags", []):
            prose = next(c for c in reversed(cells[:i]) if "{exercise}" in c.source)
            check = next(c for c in cells[i + 1:] if c.cell_type == "code")
            found.append((prose.source, cell.source, check.source))
    return found


def _functions(source):
    """``{name: (arguments, docstring)}`` of the top-level functions of a cell."""
    return {node.name: (ast.unparse(node.args), ast.get_docstring(node))
            for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}


EXERCISES = [(path.name, *exercise) for path in CHAPTERS for exercise in _coding_exercises(path)]


@pytest.mark.parametrize("name, prose, solution, check", EXERCISES, ids=[e[0] for e in EXERCISES])
def test_stub_solution_prose_and_check_agree(student, name, prose, solution, check):
    """The student edition cannot drift from the solutions: the stub has the solution's
    functions, signatures and docstrings and the hint; the exercise asks for that signature; the
    check cell calls an autograder check with the solution's function, the check's own docstring
    names the same arguments, and the student edition keeps prose and check cell as they are."""
    functions = _functions(solution)
    stub = editions.stub(solution)
    assert _functions(stub) == functions and "# Hint:" in solution
    assert solution.split("# Hint:", 1)[1].split("\n", 1)[0].strip() in stub
    call = ast.parse(check).body[-1].value
    fn_name, check_name = call.args[0].id, call.func.attr
    assert call.func.value.id == "exercises" and fn_name in functions
    arguments, docstring = functions[fn_name]
    assert docstring, f"{fn_name} needs a docstring: it is all the student edition keeps"
    assert f"`{fn_name}({arguments})`" in prose
    assert f"``fn({arguments})``" in getattr(exercises, check_name).__doc__
    assert f":func:`{check_name}`" in exercises.__doc__
    student_cells = nbformat.read(student / "notebooks" / name, as_version=4).cells
    assert prose in [c.source for c in student_cells] and check in [c.source for c in student_cells]


def test_student_edition_replaces_only_an_earlier_edition(student, tmp_path):
    """Rebuilding into the same folder replaces the edition; a folder holding anything else is
    refused, not deleted."""
    (student / "stale.txt").write_text("from an earlier build")
    assert not (editions.student_edition(student) / "stale.txt").exists()
    work = tmp_path / "teaching"
    work.mkdir()
    (work / "grades.csv").write_text("alice,1.0\n")
    with pytest.raises(ValueError, match="not empty and holds no student edition"):
        editions.student_edition(work)
    assert (work / "grades.csv").read_text() == "alice,1.0\n"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (editions.student_edition(empty) / "_config.yml").is_file()
