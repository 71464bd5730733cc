"""The book's notebooks as files: Colab badge and install cell, and the student edition.

* :func:`stamp` writes, into every chapter, an "Open in Colab" badge and a first code cell
  that installs this package on Colab only; both are made from the repository URL and branch
  in ``_config.yml``, the one place they live (``python -m nnsrm_utils.editions stamp``).
* :func:`student_edition` writes a copy of the book in which every solution is gone: solution
  prose is dropped and each code cell tagged ``solution`` becomes a stub that keeps the
  function's signature and docstring and raises ``NotImplementedError`` with the hint written
  in the solution as a ``# Hint:`` comment (``python -m nnsrm_utils.editions student DIR``).
  Nothing is maintained twice: the student edition is generated from the chapters.  Its Colab
  badges and launch buttons point at the repository's student branch (``student_branch`` in
  ``_config.yml``), where the instructor publishes ``DIR``, never at the notebooks with the
  solutions; its install cells still install the package from the main branch.

Needs ``nbformat`` and ``pyyaml`` (installed with the book's tools, not with the package).
"""
from __future__ import annotations

import ast
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # nbformat comes with the book's tools, not with the package
    import nbformat

ROOT = Path(__file__).resolve().parents[1]
INSTALL_TAG = "colab-install"
SOLUTION_TAG = "solution"
BADGE = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
SOLUTION_DIRECTIVES = ("{solution}", "{solution-start}", "{solution-end}")


def _yaml(path):
    import yaml

    return yaml.safe_load(Path(path).read_text())


def repository(root: str | os.PathLike = ROOT) -> tuple[str, str]:
    """``(url, branch)`` of the book's repository, from ``_config.yml`` in ``root`` (the
    checkout by default); the URL without a trailing slash, the branch ``main`` if unset.

    Returns
    -------
    url, branch : str
        The repository's address and its main branch.

    Raises
    ------
    FileNotFoundError
        If ``root`` has no ``_config.yml``.
    KeyError
        If it has no ``repository`` section or that has no ``url``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> book = pathlib.Path(tmp.name)
    >>> _ = (book / "_config.yml").write_text("repository:\\n  url: https://github.com/me/book/\\n  branch: main\\n")
    >>> repository(book)
    ('https://github.com/me/book', 'main')
    >>> tmp.cleanup()
    """
    repo = _yaml(Path(root) / "_config.yml")["repository"]
    return repo["url"].rstrip("/"), repo.get("branch", "main")


def student_branch(root: str | os.PathLike = ROOT) -> str:
    """The branch the student edition is published to, from ``_config.yml`` (default ``student``).

    Returns
    -------
    str
        ``repository.student_branch`` of ``_config.yml`` in ``root``, else ``"student"``.

    Raises
    ------
    FileNotFoundError
        If ``root`` has no ``_config.yml``.
    KeyError
        If it has no ``repository`` section.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> book = pathlib.Path(tmp.name)
    >>> _ = (book / "_config.yml").write_text("repository:\\n  url: https://github.com/me/book/\\n  branch: main\\n")
    >>> student_branch(book)
    'student'
    >>> tmp.cleanup()
    """
    return _yaml(Path(root) / "_config.yml")["repository"].get("student_branch", "student")


def chapters(root: str | os.PathLike = ROOT) -> list[Path]:
    """The notebooks of ``_toc.yml``, in book order (entries that are not notebooks left out).

    Returns
    -------
    list of pathlib.Path
        The ``.ipynb`` files, under ``root``.

    Raises
    ------
    FileNotFoundError
        If ``root`` has no ``_toc.yml``.

    Examples
    --------
    >>> import pathlib, tempfile, nbformat
    >>> tmp = tempfile.TemporaryDirectory()
    >>> book = pathlib.Path(tmp.name)   # a one-chapter book
    >>> _ = (book / "_config.yml").write_text("title: Toy\\nexecute:\\n  execute_notebooks: auto\\n"
    ...                                        "repository:\\n  url: https://github.com/me/book\\n  branch: main\\n")
    >>> _ = (book / "_toc.yml").write_text("parts:\\n- chapters:\\n  - file: notebooks/01_intro\\n")
    >>> (book / "notebooks").mkdir()
    >>> (book / "book").mkdir()
    >>> nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Intro")]),
    ...                book / "notebooks" / "01_intro.ipynb")
    >>> [path.name for path in chapters(book)]
    ['01_intro.ipynb']
    >>> tmp.cleanup()
    """
    toc = _yaml(Path(root) / "_toc.yml")
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [Path(root) / f"{f}.ipynb" for f in files if (Path(root) / f"{f}.ipynb").exists()]


def colab_url(notebook: str | os.PathLike, root: str | os.PathLike = ROOT, branch: str | None = None) -> str:
    """The address that opens ``notebook`` on Google Colab from the repository of ``_config.yml``
    (``branch``: its main branch by default).

    Returns
    -------
    str
        ``https://colab.research.google.com/github/<owner>/<repo>/blob/<branch>/<path>``.

    Raises
    ------
    ValueError
        If ``notebook`` is not under ``root``.
    FileNotFoundError, KeyError
        As :func:`repository`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> book = pathlib.Path(tmp.name)
    >>> _ = (book / "_config.yml").write_text("repository:\\n  url: https://github.com/me/book/\\n  branch: main\\n")
    >>> colab_url(book / "notebooks" / "01_intro.ipynb", book)
    'https://colab.research.google.com/github/me/book/blob/main/notebooks/01_intro.ipynb'
    >>> tmp.cleanup()
    """
    url, main = repository(root)
    branch = branch or main
    path = Path(notebook).resolve().relative_to(Path(root).resolve()).as_posix()
    return f"https://colab.research.google.com/github/{url.split('github.com/')[1]}/blob/{branch}/{path}"


def badge(notebook: str | os.PathLike, root: str | os.PathLike = ROOT, branch: str | None = None) -> str:
    """The Markdown "Open in Colab" badge of ``notebook``, linking to :func:`colab_url`.

    Returns
    -------
    str
        One line of Markdown: the badge image as a link.

    Raises
    ------
    ValueError, FileNotFoundError, KeyError
        As :func:`colab_url`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> book = pathlib.Path(tmp.name)
    >>> _ = (book / "_config.yml").write_text("repository:\\n  url: https://github.com/me/book/\\n  branch: main\\n")
    >>> badge(book / "notebooks" / "01_intro.ipynb", book, branch="student")
    '[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/me/book/blob/student/notebooks/01_intro.ipynb)'
    >>> tmp.cleanup()
    """
    return f"{BADGE}({colab_url(notebook, root, branch)})"


def install_source(root: str | os.PathLike = ROOT) -> str:
    """The source of every chapter's first code cell: on Colab it installs this package from the
    repository of ``_config.yml``.

    Returns
    -------
    str
        Python source (no trailing newline) that runs ``pip install`` only under Colab (raising
        with pip's output if it fails) and elsewhere, if the package is missing, prints the
        command that installs it.

    Raises
    ------
    FileNotFoundError, KeyError
        As :func:`repository`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> book = pathlib.Path(tmp.name)
    >>> _ = (book / "_config.yml").write_text("repository:\\n  url: https://github.com/me/book/\\n  branch: main\\n")
    >>> print(install_source(book).splitlines()[0])
    SOURCE = "git+https://github.com/me/book@main"  # stamped from _config.yml
    >>> tmp.cleanup()
    """
    url, branch = repository(root)
    return (f'SOURCE = "git+{url}@{branch}"  # stamped from _config.yml\n'
            "# On Google Colab: install this book's package, keeping Colab's own torch, torchvision and\n"
            "# numpy (its requirements are lower bounds they already meet, so nothing is replaced and no\n"
            "# restart is needed); pip's own message if that fails. Elsewhere: a hint if it is missing.\n"
            "import importlib.util\n"
            "import subprocess\n"
            "import sys\n"
            "\n"
            'if "google.colab" in sys.modules:\n'
            '    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", f"nnsrm_utils @ {SOURCE}"],\n'
            "                         capture_output=True, text=True)\n"
            "    if pip.returncode:\n"
            '        raise RuntimeError(f"installing nnsrm_utils from {SOURCE} failed:\\n{pip.stdout}{pip.stderr}")\n'
            'elif importlib.util.find_spec("nnsrm_utils") is None:\n'
            """    print(f'nnsrm_utils is not installed here; install it with: pip install "nnsrm_utils @ {SOURCE}"')""")


def stamp(root: str | os.PathLike = ROOT) -> None:
    """Write the badge (under the title) and the install cell (first code cell) into every chapter.

    A chapter without an install cell gets a new one (tagged ``colab-install`` and
    ``remove-cell``) as its second cell; an existing one is rewritten in place.

    Examples
    --------
    >>> import pathlib, tempfile, nbformat
    >>> tmp = tempfile.TemporaryDirectory()
    >>> book = pathlib.Path(tmp.name)   # a one-chapter book
    >>> _ = (book / "_config.yml").write_text("title: Toy\\nexecute:\\n  execute_notebooks: auto\\n"
    ...                                        "repository:\\n  url: https://github.com/me/book\\n  branch: main\\n")
    >>> _ = (book / "_toc.yml").write_text("parts:\\n- chapters:\\n  - file: notebooks/01_intro\\n")
    >>> (book / "notebooks").mkdir()
    >>> (book / "book").mkdir()
    >>> nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Intro")]),
    ...                book / "notebooks" / "01_intro.ipynb")
    >>> stamp(book)
    >>> nb = nbformat.read(book / "notebooks" / "01_intro.ipynb", as_version=4)
    >>> print(nb.cells[0].source)
    # Intro
    <BLANKLINE>
    [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/me/book/blob/main/notebooks/01_intro.ipynb)
    >>> nb.cells[1].metadata.tags
    ['colab-install', 'remove-cell']
    >>> tmp.cleanup()
    """
    import nbformat

    for path in chapters(root):
        nb = nbformat.read(path, as_version=4)
        _set_badge(nb, badge(path, root))
        install = next((c for c in nb.cells if INSTALL_TAG in c.metadata.get("tags", [])), None)
        if install is None:  # a new chapter: execute it afterwards, as always before committing
            install = nbformat.v4.new_code_cell(metadata={"tags": [INSTALL_TAG, "remove-cell"]})
            nb.cells.insert(1, install)
        install.source = install_source(root)
        nbformat.write(nb, path)


def _set_badge(nb, badge_line):
    """Put ``badge_line`` under the notebook's title, in place of any badge there."""
    title = nb.cells[0]
    head, _, rest = title.source.partition("\n")
    rest = "\n".join(line for line in rest.split("\n") if not line.startswith(BADGE)).lstrip("\n")
    title.source = f"{head}\n\n{badge_line}\n\n{rest}".rstrip("\n")


def _is_solution_prose(cell):
    if cell.cell_type != "markdown":
        return False
    first = cell.source.lstrip().split("\n", 1)[0].lstrip("`:")
    return first.startswith(SOLUTION_DIRECTIVES)


def stub(source: str) -> str:
    """A solution cell's student version: each function keeps its signature and docstring and
    raises ``NotImplementedError`` with the cell's ``# Hint:`` comment; other code is dropped.

    Returns
    -------
    str
        The stubbed functions' source; a lone ``raise NotImplementedError(...)`` line if
        ``source`` defines no function.

    Raises
    ------
    SyntaxError
        If ``source`` is not valid Python.

    Examples
    --------
    >>> print(stub('''def double(x):
    ...     "Twice x."
    ...     # Hint: add x to itself
    ...     return x + x
    ...
    ... print(double(2))'''))
    def double(x):
        "Twice x."
        raise NotImplementedError('Exercise: add x to itself')
    """
    lines = source.split("\n")
    hint = next((line.split("# Hint:", 1)[1].strip() for line in lines if "# Hint:" in line),
                "write this function, then run the check below")
    out = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        body = node.body
        has_doc = isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str)
        keep_to = body[0].end_lineno if has_doc else body[0].lineno - 1
        indent = " " * body[0].col_offset
        head = lines[node.lineno - 1 - len(node.decorator_list):keep_to]
        while not has_doc and head[-1].strip()[:1] in ("", "#"):  # comments after the signature (the hint)
            head.pop()
        out += head
        out += [f"{indent}raise NotImplementedError({('Exercise: ' + hint)!r})", "", ""]
    return "\n".join(out).rstrip("\n") if out else f"raise NotImplementedError({('Exercise: ' + hint)!r})"


def student_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student version of one notebook (a new object): solutions removed or stubbed, and no
    outputs from the exercises on.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A chapter, as ``nbformat.read(path, as_version=4)`` returns it; left unchanged.

    Returns
    -------
    nbformat.NotebookNode
        A copy without the solution prose, with each ``solution`` cell replaced by its
        :func:`stub` (tag removed), and with the outputs of code cells cleared from the first
        ``{exercise}`` on.

    Raises
    ------
    SyntaxError
        If a ``solution`` cell is not valid Python.

    Examples
    --------
    >>> import nbformat
    >>> v4 = nbformat.v4
    >>> nb = v4.new_notebook(cells=[
    ...     v4.new_markdown_cell("```{exercise}\\nWrite double.\\n```"),
    ...     v4.new_code_cell("def double(x):\\n    # Hint: add x to itself\\n    return x + x",
    ...                      metadata={"tags": ["solution"]}),
    ...     v4.new_markdown_cell("```{solution}\\nAdd x to itself.\\n```")])
    >>> [cell.source for cell in student_notebook(nb).cells][1:]
    ["def double(x):\\n    raise NotImplementedError('Exercise: add x to itself')"]
    """
    import copy

    nb = copy.deepcopy(nb)
    cells, in_exercises = [], False
    for cell in nb.cells:
        if _is_solution_prose(cell):
            continue
        in_exercises = in_exercises or (cell.cell_type == "markdown" and "{exercise}" in cell.source)
        if cell.cell_type == "code" and SOLUTION_TAG in cell.metadata.get("tags", []):
            cell.source = stub(cell.source)
            cell.metadata["tags"] = [t for t in cell.metadata["tags"] if t != SOLUTION_TAG]
        if cell.cell_type == "code" and in_exercises:
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    return nb


#: What the student edition adds to the book's title (and how an earlier edition is recognised).
EDITION_SUFFIX = " (student edition)"


def student_edition(out: str | os.PathLike, root: str | os.PathLike = ROOT) -> Path:
    """Write the student edition of the book to ``out``: the same configuration, pages and
    chapters, with the solutions taken out and execution off (the lessons keep their committed
    outputs; the exercises are for the student to run).  Links to the notebooks (badges, launch
    buttons) point at the student branch, where ``out`` is to be published.

    ``out`` is replaced if it holds an earlier student edition; any other folder that is not
    empty is refused, so that a mistyped path cannot delete someone's work.

    Returns
    -------
    pathlib.Path
        ``out``.

    Examples
    --------
    >>> import pathlib, tempfile, nbformat
    >>> tmp = tempfile.TemporaryDirectory()
    >>> book = pathlib.Path(tmp.name)   # a one-chapter book
    >>> _ = (book / "_config.yml").write_text("title: Toy\\nexecute:\\n  execute_notebooks: auto\\n"
    ...                                        "repository:\\n  url: https://github.com/me/book\\n  branch: main\\n")
    >>> _ = (book / "_toc.yml").write_text("parts:\\n- chapters:\\n  - file: notebooks/01_intro\\n")
    >>> (book / "notebooks").mkdir()
    >>> (book / "book").mkdir()
    >>> nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Intro")]),
    ...                book / "notebooks" / "01_intro.ipynb")
    >>> out = student_edition(book / "student", root=book)
    >>> sorted(p.name for p in out.iterdir())
    ['_config.yml', '_toc.yml', 'book', 'notebooks']
    >>> nb = nbformat.read(out / "notebooks" / "01_intro.ipynb", as_version=4)
    >>> "blob/student/notebooks/01_intro.ipynb" in nb.cells[0].source
    True
    >>> tmp.cleanup()
    """
    import nbformat
    import yaml

    root, out = Path(root), Path(out)
    if out.exists() and any(out.iterdir()):
        config = out / "_config.yml"
        if not (config.is_file() and str(_yaml(config).get("title", "")).endswith(EDITION_SUFFIX)):
            raise ValueError(f"{out} is not empty and holds no student edition; it would be deleted: "
                             "give a new or empty folder")
        shutil.rmtree(out)
    shutil.copytree(root / "book", out / "book")
    shutil.copy(root / "_toc.yml", out / "_toc.yml")
    config = _yaml(root / "_config.yml")
    config["title"] += EDITION_SUFFIX
    config["execute"]["execute_notebooks"] = "off"
    config["repository"]["branch"] = branch = student_branch(root)
    (out / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    (out / "notebooks").mkdir()
    for path in chapters(root):
        nb = student_notebook(nbformat.read(path, as_version=4))
        _set_badge(nb, badge(path, root, branch))
        nbformat.write(nb, out / "notebooks" / path.name)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m nnsrm_utils.editions stamp`` (badges and install cells) or ``student FOLDER``
    (the student edition), for the book of this checkout.

    Raises
    ------
    SystemExit
        With the usage, for any other arguments.

    Examples
    --------
    >>> main(["help"])
    Traceback (most recent call last):
        ...
    SystemExit: usage: python -m nnsrm_utils.editions stamp | student OUT_DIR
    """
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["stamp"] and len(argv) == 1:
        stamp()
    elif argv[:1] == ["student"] and len(argv) == 2:
        print(student_edition(argv[1]))
    else:
        raise SystemExit("usage: python -m nnsrm_utils.editions stamp | student OUT_DIR")


if __name__ == "__main__":
    main()
