"""The package as a whole: the geometry and comparison modules need numpy and scipy only."""
import importlib
import inspect
import pkgutil
import subprocess
import sys

import nnsrm_utils


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


def _public(module):
    return {name: value for name, value in vars(module).items()
            if not name.startswith("_") and callable(value) and getattr(value, "__module__", None) == module.__name__}


def test_every_public_function_and_class_has_a_docstring():
    """What the package reference (book/reference) is generated from."""
    missing = [f"{m.name}.{name}" for m in pkgutil.iter_modules(nnsrm_utils.__path__) if not m.name.startswith("_")
               for name, value in _public(importlib.import_module(f"nnsrm_utils.{m.name}")).items()
               if not (value.__doc__ or "").strip()]
    assert not missing


TYPED = ("rsm", "srm", "transforms", "stats", "cca", "comparison", "conv", "shape", "matching", "invariance", "record",
         "stitching", "data", "experiment", "analysis")


def test_the_geometry_and_comparison_functions_have_typed_signatures():
    """Every parameter and the return of each public function of these modules (the geometry, the
    comparisons, recording a reader's own networks, and reading the book's runs) is annotated
    (the reference shows the signatures); classes document theirs in their docstrings."""
    untyped = []
    for name in TYPED:
        for fname, fn in _public(importlib.import_module(f"nnsrm_utils.{name}")).items():
            if inspect.isclass(fn):
                continue
            sig = inspect.signature(fn)
            if sig.return_annotation is inspect.Signature.empty or any(
                    p.annotation is inspect.Parameter.empty for p in sig.parameters.values()):
                untyped.append(f"{name}.{fname}")
    assert not untyped
