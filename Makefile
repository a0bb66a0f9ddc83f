# dcmpy: the two commands a newcomer types are `make demo` and `make test`.
# Both set everything up on a fresh Debian/Ubuntu machine: the peer tools and system libraries
# through apt (only what is missing), Python packages into .venv, the Cython extensions in place.

PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
APT_PKGS := dcmtk libgdcm-tools dicom3tools libcharls2 libjpeg-turbo-progs libjxl-tools orthanc openssl postgresql-15 util-linux gcc python3-dev python3-venv time
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYX     := $(wildcard dcmpy/_ext/*.pyx)

.PHONY: setup system-deps build test demo bench clean

setup: system-deps $(VENV)/.installed build

system-deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -U pip setuptools wheel "cython>=3" "numpy>=1.24"
	$(PY) -m pip install -q --no-build-isolation -e '.[test]'
	touch $@

build: $(VENV)/.installed
	@$(PY) setup.py -q build_ext --inplace 2>&1 | grep -v -e '^running' -e 'Compiling' || true
	@$(PY) -c "import dcmpy._ext.scan" || { echo "Cython extensions failed to build"; exit 1; }
	@$(PY) -m compileall -q dcmpy apps codecs >/dev/null

test: setup
	$(PY) -m pytest -q -p no:cacheprovider tests

demo: setup
	@bash data/demo.sh $(PY)

bench: setup
	@$(PY) -m pip install -q --no-build-isolation -e '.[bench]' >/dev/null
	$(PY) benchmarks/run.py

clean:
	rm -rf build $(VENV) *.egg-info dcmpy/_ext/*.c dcmpy/_ext/*.so tests/.corpus demo
