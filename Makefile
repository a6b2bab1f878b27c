# Everything a fresh clone needs: `make demo` and `make test` create the virtualenv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: all install demo test lint bench docs clean browser

all: test lint

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# compat mode: a .pth path entry instead of an import hook that costs ~20 ms per command
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' \
		--config-settings editable_mode=compat
	touch $(STAMP)

install: $(STAMP)

demo: install
	ITDESK=$(CURDIR)/$(BIN)/itdesk bash scripts/demo.sh

# pytest exits 5 when it collects no test: that fails here, as any non-zero status does.
test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The portal's browser test drives Debian's Chromium through its chromedriver; without
# them it is skipped (and says so). Installed from the system's apt sources.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
		echo "chromium and chromedriver are installed"; \
	else \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium chromium-driver; \
	fi

lint: install
	$(BIN)/ruff check itdesk tests bench
	$(BIN)/ruff format --check itdesk
	$(BIN)/mypy
	$(BIN)/cog --check -I . README.md

docs: install
	$(BIN)/cog -r -I . README.md

bench: install
	$(BIN)/python bench/bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache bench/.cache
