# The two commands of the README: `make book` and `make test`. Each sets up .venv first.
VENV := .venv
BIN := $(VENV)/bin

# A second CPU setting for the chapters: oldest instruction sets oneDNN and ATen allow, and one
# thread everywhere. Stored outputs must not depend on the CPU, so the chapters pass nbval under
# this setting as well as under the machine's own; a float printed to its noise fails one of
# the two on any machine.
SECOND_CPU := ONEDNN_MAX_CPU_ISA=SSE41 ATEN_CPU_CAPABILITY=default OMP_NUM_THREADS=1 \
	MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1

.PHONY: env book test test-second-cpu lint lock bench clean

env:
	@bash scripts/venv.sh setup

book: env
	$(BIN)/jupyter-book build . -W -n --keep-going

test: env
	$(BIN)/python -m pytest
	$(MAKE) --no-print-directory test-second-cpu lint

# The chapters once more, under the second CPU setting.
test-second-cpu: env
	$(SECOND_CPU) $(BIN)/python -m pytest book

lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lock:
	bash scripts/venv.sh lock

# Time and peak memory of companion.torch and companion.tensorflow against the native losses
# and the best peers (ratios, not a test). ARGS="--device cuda" on a GPU.
bench: env
	$(BIN)/python benchmarks/losses.py $(ARGS)

clean:
	rm -rf _build
