# The two commands of the README: `make book` and `make test`. Each sets up .venv first.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: env book test lock bench clean

env:
	@bash scripts/venv.sh setup

book: env
	$(BIN)/jupyter-book build . -W -n --keep-going

test: env
	$(BIN)/python -m pytest
	$(BIN)/ruff check .
	$(BIN)/ruff format --check companion tests scripts benchmarks

lock:
	bash scripts/venv.sh lock

# Speed of companion.torch against the native losses (ratios, not a test).
bench: env
	$(BIN)/python benchmarks/losses.py

clean:
	rm -rf _build
