# The two commands of the README: `make book` and `make test`. Each sets up .venv first.
VENV := .venv
BIN := $(VENV)/bin

# A second CPU setting for the chapters: oldest instruction sets oneDNN and ATen allow, and one
# thread everywhere. Stored outputs must not depend on the CPU, so the chapters pass nbval under
# this setting as well as under the machine's own; a float printed to its noise fails one of
# the two on any machine.
SECOND_CPU := ONEDNN_MAX_CPU_ISA=SSE41 ATEN_CPU_CAPABILITY=default OMP_NUM_THREADS=1 \
	MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1

# A third setting, not part of `make test`: ATen's AVX2 kernels, oneDNN and MKL held to AVX2, two
# threads. It found nothing the first two settings and the twin check missed, so it is here for
# a chapter whose numbers depend on a float32 draw of initial weights (ATen draws them
# differently with each instruction set), not in the test command's time.
THIRD_CPU := ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_CBWR=AVX2 \
	MKL_ENABLE_INSTRUCTIONS=AVX2 OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 \
	TF_NUM_INTRAOP_THREADS=2 TF_NUM_INTEROP_THREADS=2

.PHONY: env book test test-second-cpu test-third-cpu lint lock bench clean

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

# The chapters under the third setting (not part of `make test`).
test-third-cpu: env
	$(THIRD_CPU) $(BIN)/python -m pytest book

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
