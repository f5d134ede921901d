# PoseJam: `make play` sets everything up and starts the game; `make test` sets
# everything up and runs the whole suite (lint, types, tests).

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# What arcade (OpenGL through EGL) and opencv need from Debian; pyo bundles its own libs.
DEB_PACKAGES := libgl1 libegl1 libgl1-mesa-dri libglib2.0-0

.PHONY: play test setup system lint typecheck unit bench-sync clean

play: setup
	$(VENV)/bin/posejam play

test: setup lint typecheck unit

setup: system $(STAMP)

system:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing Debian packages: $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else \
			echo "PoseJam needs these Debian packages: $$missing"; \
			echo "Install them with: sudo apt-get install $$missing   (then run make again)"; \
			exit 1; \
		fi; \
	fi

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "PoseJam needs Python 3.11 (python3.11 or python3 on PATH)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { echo "PoseJam needs Python 3.11, $(PYTHON) is $$($(PYTHON) --version)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

unit: setup
	$(VENV)/bin/pytest

bench-sync: setup
	$(PY) -m bench.sync --json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
