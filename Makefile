# The two commands of the README: `make book` and `make test`. Each sets up .venv first.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: env book test lint lock bench clean

env:
	@bash scripts/venv.sh setup

book: env
	$(BIN)/jupyter-book build . -W -n --keep-going

test: env
	$(BIN)/python -m pytest
	$(BIN)/ruff check .

lock:
	bash scripts/venv.sh lock

bench: env
	$(BIN)/python benchmarks/losses.py

clean:
	rm -rf _build
