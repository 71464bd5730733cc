"""The package as a whole: the geometry and comparison modules need numpy and scipy only."""
import subprocess
import sys


def test_geometry_imports_without_torch():
    script = ("import importlib.abc, sys\n"
              "class NoTorch(importlib.abc.MetaPathFinder):  # any 'import torch' now fails\n"
              "    def find_spec(self, name, path, target=None):\n"
              "        if name.split('.')[0] in ('torch', 'torchvision'):\n"
              "            raise ImportError(name)\n"
              "sys.meta_path.insert(0, NoTorch())\n"
              "import nnsrm_utils\n"
              "from nnsrm_utils import *\n"
              "print(sorted(nnsrm_utils.__all__))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "shape" in out.stdout and "invariance" in out.stdout
