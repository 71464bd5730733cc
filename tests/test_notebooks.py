"""Guards that strict nbval cannot give: nbval passes a notebook with stripped outputs."""
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted(Path(__file__).parents[1].joinpath("notebooks").glob("*.ipynb"))


def test_there_are_chapters():
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_with_outputs_from_a_fresh_kernel(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), "execute the notebook top to bottom in a fresh kernel and commit it"
    assert any(c["outputs"] for c in code), "no stored outputs: strict nbval would pass trivially"
    for c in code:
        for out in c["outputs"]:
            assert out["output_type"] != "error", f"stored error in cell {c['execution_count']}"
            assert out.get("name") != "stderr", f"stderr (warnings, progress bars) stored in cell {c['execution_count']}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_starts_with_title_install_and_parameters_cells(path):
    cells = json.loads(path.read_text())["cells"]
    assert cells[0]["cell_type"] == "markdown" and cells[0]["source"][0].startswith("# ")
    install, parameters = [c for c in cells if c["cell_type"] == "code"][:2]
    assert "colab-install" in install["metadata"].get("tags", [])
    assert "parameters" in parameters["metadata"].get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_has_a_caption(path):
    for c in json.loads(path.read_text())["cells"]:
        if any(k.startswith("image/") for o in c.get("outputs", []) for k in o.get("data", {})):
            caption = c["metadata"].get("mystnb", {}).get("figure", {}).get("caption", "")
            assert len(caption) > 20, f"figure without a caption (cell metadata mystnb.figure.caption): {''.join(c['source'])[:80]}"
