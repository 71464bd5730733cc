"""The package as a whole: the geometry and comparison modules need numpy and scipy only."""
import importlib
import inspect
import pkgutil
import subprocess
import sys

import nnsrm_utils


def test_geometry_imports_and_runs_without_torch():
    """With torch unimportable, the geometry imports and computes on numpy (the tensor layer,
    ``_backend``, looks tensors up in ``sys.modules`` and never imports torch)."""
    script = ("import importlib.abc, sys\n"
              "class NoTorch(importlib.abc.MetaPathFinder):  # any 'import torch' now fails\n"
              "    def find_spec(self, name, path, target=None):\n"
              "        if name.split('.')[0] in ('torch', 'torchvision'):\n"
              "            raise ImportError(name)\n"
              "sys.meta_path.insert(0, NoTorch())\n"
              "import numpy as np\n"
              "import nnsrm_utils\n"
              "from nnsrm_utils import *\n"
              "from nnsrm_utils import cca, rsm, srm\n"
              "x = np.random.default_rng(0).standard_normal((3, 6, 40))\n"
              "print(sorted(nnsrm_utils.__all__), round(cca.pwcca(x[0], x[1]) + rsm.compare_rsms(rsm.rsm(x[0]),\n"
              "      rsm.inter_rsm(list(x))), 6), srm.SRM(n_features=2, n_iter=2).fit(list(x)).w_[0].shape)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "shape" in out.stdout and "invariance" in out.stdout and out.stdout.strip().endswith("(6, 2)")


def _public(module):
    return {name: value for name, value in vars(module).items()
            if not name.startswith("_") and callable(value) and getattr(value, "__module__", None) == module.__name__}


def test_every_public_function_and_class_has_a_docstring():
    """What the package reference (book/reference) is generated from."""
    missing = [f"{m.name}.{name}" for m in pkgutil.iter_modules(nnsrm_utils.__path__) if not m.name.startswith("_")
               for name, value in _public(importlib.import_module(f"nnsrm_utils.{m.name}")).items()
               if not (value.__doc__ or "").strip()]
    assert not missing


def test_every_public_function_that_returns_something_documents_it():
    """A function whose return annotation is not None has a ``Returns`` (or ``Yields``) section, so the
    reference says what comes back (classes document their attributes instead)."""
    missing = [f"{m.name}.{name}" for m in pkgutil.iter_modules(nnsrm_utils.__path__) if not m.name.startswith("_")
               for name, value in _public(importlib.import_module(f"nnsrm_utils.{m.name}")).items()
               if not inspect.isclass(value)
               and inspect.signature(value).return_annotation not in (None, "None", inspect.Signature.empty)
               and not any(f"{section}\n{'-' * len(section)}\n" in inspect.cleandoc(value.__doc__ or "")
                           for section in ("Returns", "Yields"))]
    assert not missing


TYPED = ("rsm", "srm", "transforms", "stats", "cca", "comparison", "conv", "shape", "matching", "invariance", "record",
         "stitching", "data", "experiment", "analysis", "fetch", "profiles", "models", "language", "simulation",
         "exercises", "editions", "seeding", "batched", "results", "plotting", "train")


def test_the_geometry_and_comparison_functions_have_typed_signatures():
    """Every parameter and the return of each public function of these modules (the geometry, the
    comparisons, recording a reader's own networks, and reading the book's runs) is annotated
    (the reference shows the signatures); classes document theirs in their docstrings."""
    untyped = []
    for name in TYPED:
        for fname, fn in _public(importlib.import_module(f"nnsrm_utils.{name}")).items():
            if not inspect.isclass(fn) and _untyped(fn):
                untyped.append(f"{name}.{fname}")
    assert not untyped


#: Modules whose classes' methods (``__init__`` and the public ones, their own and those inherited from the
#: package's classes, e.g. srm's private base) are annotated too.
METHODS_TYPED = ("fetch", "profiles", "models", "language", "simulation", "exercises", "editions", "seeding", "srm",
                 "batched", "train", "results")


def _untyped(fn, skip=()):
    sig = inspect.signature(fn)
    return sig.return_annotation is inspect.Signature.empty or any(
        p.annotation is inspect.Parameter.empty for p in sig.parameters.values() if p.name not in skip)


def _methods(cls):
    """The class's own attributes and those it inherits from the package's classes (not sklearn's or torch's)."""
    found = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__.split(".")[0] == "nnsrm_utils":
            found |= vars(klass)
    return found


def test_the_methods_of_these_modules_classes_have_typed_signatures():
    untyped = [f"{name}.{cname}.{mname}" for name in METHODS_TYPED
               for cname, cls in _public(importlib.import_module(f"nnsrm_utils.{name}")).items() if inspect.isclass(cls)
               for mname, method in _methods(cls).items()
               if inspect.isfunction(method) and (mname == "__init__" or not mname.startswith("_"))
               and _untyped(method, skip=("self",))]
    assert not untyped


#: Public functions and classes allowed to go without an example, each with the reason.  (None: a function
#: that needs a trained run or a dataset shows its use with ``# doctest: +SKIP`` instead.)
NO_EXAMPLE = {}


def test_every_public_function_and_class_has_an_example():
    """The reference shows how each is called: an ``Examples`` section with at least one ``>>>`` line
    (which ``pytest --doctest-modules`` runs, unless marked ``+SKIP``)."""
    missing = [f"{m.name}.{name}" for m in pkgutil.iter_modules(nnsrm_utils.__path__) if not m.name.startswith("_")
               for name, value in _public(importlib.import_module(f"nnsrm_utils.{m.name}")).items()
               if f"{m.name}.{name}" not in NO_EXAMPLE
               and not ("Examples\n" in inspect.cleandoc(value.__doc__ or "") and ">>>" in (value.__doc__ or ""))]
    assert not missing
