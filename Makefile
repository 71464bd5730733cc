# The two commands of the README.  Each installs what it needs into .venv, once:
# the install reruns only when pyproject.toml changes.
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: book student-book test benchmark clean data

# Notebook kernels must use the inline backend, whatever the caller's environment says.
unexport MPLBACKEND
# Trained runs live in one folder, so the tests and the chapters train each network once.
export NNSRM_RUNS ?= $(CURDIR)/_runs
# Image data: $NNSRM_DATA if set; else the offline CIFAR-10 copy beside the checkout, if any
# (the CI machines have one); else the package's default, ~/.cache/nnsrm/data, where the
# quick profile's CIFAR-10 JPEG copy is downloaded on first use.
ifeq ($(NNSRM_DATA),)
  ifneq ($(wildcard ../shared/data/cifar10-jpeg),)
    export NNSRM_DATA := $(abspath ../shared/data)
  endif
endif

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[book,test]'
	touch $(STAMP)

# The quick profile's data: downloaded when missing (about 20 MB, once), verified by content.
data: $(STAMP)
	$(PY) -m nnsrm_utils data

# Build the rendered book into _build/html from the chapters' committed outputs (which `make test`
# re-executes and checks); any error or warning fails.
book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

# The student edition: the same book with every solution taken out (_build/student/_build/html).
student-book: $(STAMP)
	$(PY) -m nnsrm_utils.editions student _build/student
	$(VENV)/bin/jupyter-book build _build/student -W -n --keep-going

# The examples in the package's docstrings, unit, property and conformance tests, then every
# notebook under strict nbval.
test: data
	$(PY) -m pytest --doctest-modules --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg nnsrm_utils tests notebooks

# Speed and memory against baselines run in the same process (minutes; not part of the tests).
benchmark: $(STAMP)
	$(PY) benchmarks/bench_srm.py
	$(PY) benchmarks/bench_srm_wide.py
	$(PY) benchmarks/bench_cca.py
	$(PY) benchmarks/bench_shape.py
	$(PY) benchmarks/bench_matching.py
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_gpu.py

clean:
	rm -rf _build
