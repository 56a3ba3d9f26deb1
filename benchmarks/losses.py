"""Time forward + backward of ``companion.torch`` losses against PyTorch's native losses.

Each pair runs on the same tensors (``--rows`` rows of 10 classes, float32): a warm-up, then
``--repeats`` rounds in which the native loss, ours with ``validate=False`` and ours with
``validate=True`` run back to back, in an order that rotates each round. The table gives the
median time of each and, as the ratio, the median over the rounds of ours / native (the paired
ratio is steadier than a ratio of medians on a shared machine). Progress goes to stderr.

    python benchmarks/losses.py                      # 10**6 rows on the CPU
    python benchmarks/losses.py --device cuda --rows 10000000
    python benchmarks/losses.py --threads 1 --repeats 15

Targets: ours / native <= 1.05 for the weighted cross-entropies and <= 1.10 for the focal loss.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from companion import torch as losses

NUM_CLASSES = 10
TARGETS = {"softmax_cross_entropy": 1.05, "sigmoid_cross_entropy": 1.05, "focal_loss": 1.10}


def make_cases(rows, device):
    """``(name, native, ours, first input)``: each loss as a function of its first input."""
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(rows, NUM_CLASSES, generator=generator).to(device)
    labels = torch.randint(0, NUM_CLASSES, (rows,), generator=generator).to(device)
    targets = (torch.rand(rows, NUM_CLASSES, generator=generator) < 0.2).float().to(device)
    class_weight = (torch.rand(NUM_CLASSES, generator=generator) * 3 + 0.2).to(device)
    pos_weight = (torch.rand(NUM_CLASSES, generator=generator) * 4 + 1).to(device)
    prediction = (torch.randn(rows, NUM_CLASSES, generator=generator) * 2).to(device)
    return [
        (
            "softmax_cross_entropy",
            "F.cross_entropy(weight=)",
            lambda x: F.cross_entropy(x, labels, weight=class_weight),
            lambda x, v: losses.softmax_cross_entropy(
                x, labels, class_weight=class_weight, reduction="weighted_mean", validate=v
            ),
            logits,
        ),
        (
            "focal_loss",
            "F.cross_entropy(weight=)",
            lambda x: F.cross_entropy(x, labels, weight=class_weight),
            lambda x, v: losses.focal_loss(
                x, labels, alpha=class_weight, gamma=2.0, reduction="weighted_mean", validate=v
            ),
            logits,
        ),
        (
            "sigmoid_cross_entropy",
            "F.binary_cross_entropy_with_logits(pos_weight=)",
            lambda x: F.binary_cross_entropy_with_logits(x, targets, pos_weight=pos_weight),
            lambda x, v: losses.sigmoid_cross_entropy(
                x, targets, pos_weight=pos_weight, validate=v
            ),
            logits,
        ),
        (
            "huber_loss",
            "F.huber_loss",
            lambda x: F.huber_loss(x, logits, delta=1.0),
            lambda x, v: losses.huber_loss(x, logits, delta=1.0, validate=v),
            prediction,
        ),
    ]


def time_once(loss, first, device):
    """Seconds for one forward and backward pass, on a fresh leaf (no gradient accumulation)."""
    x = first.detach().clone().requires_grad_(True)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    loss(x).backward()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def measure(native, ours, first, device, repeats, warmup=2):
    runs = {
        "native": native,
        "ours": lambda x: ours(x, False),
        "ours_validated": lambda x: ours(x, True),
    }
    for _ in range(warmup):
        for loss in runs.values():
            time_once(loss, first, device)
    times = {key: [] for key in runs}
    keys = list(runs)
    for round_ in range(repeats):
        for key in keys[round_ % 3 :] + keys[: round_ % 3]:
            times[key].append(time_once(runs[key], first, device))
    ratios = {
        key: statistics.median(o / n for o, n in zip(times[key], times["native"], strict=True))
        for key in ("ours", "ours_validated")
    }
    return {key: statistics.median(values) for key, values in times.items()}, ratios


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("``", ""))
    parser.add_argument("--rows", type=int, default=10**6, help="rows of the batch (10**6)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds after warm-up (7)")
    parser.add_argument("--threads", type=int, help="CPU threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch.cuda.is_available() is False")
    device = torch.device(args.device)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(
        f"torch {torch.__version__} on {where} ({torch.get_num_threads()} threads); "
        f"{args.rows} rows x {NUM_CLASSES} classes, float32; forward + backward; "
        f"median of {args.repeats} rounds after warm-up",
    )
    print("ours: validate=False (no host sync); ours+v: validate=True (value checks on the host)")
    header = f"{'loss':<23} {'native (ms)':>11} {'ours (ms)':>9} {'ratio':>6} {'target':>6}"
    header += f" {'ours+v (ms)':>11} {'ratio':>6}  native"
    print(header)
    for name, native_name, native, ours, first in make_cases(args.rows, device):
        print(f"timing {name} ...", file=sys.stderr, flush=True)
        medians, ratios = measure(native, ours, first, device, args.repeats)
        target = f"{TARGETS[name]:.2f}" if name in TARGETS else "-"
        print(
            f"{name:<23} {medians['native'] * 1e3:>11.1f} {medians['ours'] * 1e3:>9.1f} "
            f"{ratios['ours']:>6.2f} {target:>6} {medians['ours_validated'] * 1e3:>11.1f} "
            f"{ratios['ours_validated']:>6.2f}  {native_name}",
            flush=True,
        )
    print("huber_loss runs the native kernel itself: its ratio shows the noise of the timings.")


if __name__ == "__main__":
    main()
