# imr-extract: `make run` annotates the bundled sample letters, `make test` runs the tests.
# `make chaos` is a long crash soak of run/--resume (not part of `make test`; CHAOS=--quick to try it).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORPUS ?= ../shared/corpus
MODEL := models/imr_pipeline
OUT ?= out/samples
CHAOS ?=

.PHONY: install model train run test eval bench chaos lint readme clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

$(MODEL)/meta.json: $(VENV)/.installed $(wildcard pipeline/imr_extract/resources/*) $(wildcard pipeline/imr_extract/components/*.py) $(wildcard pipeline/imr_extract/normalize/*.py) pipeline/imr_extract/api.py
	$(BIN)/imr-extract build $(MODEL)

model: $(MODEL)/meta.json

# the reason-code classifier (imr_reason_model) from the dev split of annotations/reasons.jsonl
# into pipeline/imr_extract/resources/reason_model.jsonl (committed; the same bytes every run)
train: install
	$(BIN)/python -m imr_extract.train_reasons --gold annotations/reasons.jsonl --corpus $(CORPUS)

run: model
	$(BIN)/imr-extract run pipeline/imr_extract/samples --out $(OUT) --model $(MODEL) --resume

test: install
	$(BIN)/python -m pytest -q

eval: install
	$(BIN)/imr-extract eval --gold annotations/decisions.jsonl --corpus $(CORPUS) --compare-lexicons \
		--diagnosis-codes annotations/diagnosis_codes.jsonl --items annotations/items.jsonl \
		--diagnosis-codes-second annotations/diagnosis_codes_second.jsonl \
		--procedures annotations/procedures.jsonl

bench: install
	$(BIN)/imr-extract bench --corpus $(CORPUS) --docs 300 --n-process 1 2 4

chaos: install
	$(BIN)/python tests/chaos_soak.py --corpus $(CORPUS) $(CHAOS)

# the README's column tables, from pipeline/imr_extract/resources/columns.csv (a test checks them)
readme: install
	$(BIN)/python -c 'import sys; from imr_extract.columns import main; sys.exit(main(["README.md"]))'

lint: install
	$(BIN)/ruff check pipeline tests
	$(BIN)/ruff format --check pipeline tests

clean:
	rm -rf $(VENV) $(MODEL) out
