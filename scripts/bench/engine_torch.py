#!/usr/bin/env python3
"""PyTorch side of `cpntrain bench engine`: the same MLP 32→64→64→8 (ReLU),
Adam train step at batch 64 (zero_grad, forward, MSE, backward, step) and
no-grad inference at batch 1, plus f32 matmul 256³, on one thread.
Prints one JSON object; timings are medians over rounds, in microseconds."""
import json
import sys
import time

import torch

torch.set_num_threads(1)
torch.manual_seed(0)


def median_us(fn, rounds=5, min_time=0.2):
    for _ in range(50):
        fn()
    results = []
    for _ in range(rounds):
        n = 0
        t0 = time.perf_counter()
        while True:
            fn()
            n += 1
            dt = time.perf_counter() - t0
            if dt >= min_time:
                break
        results.append(dt / n * 1e6)
    results.sort()
    return results[len(results) // 2]


def main():
    quick = "--quick" in sys.argv
    rounds, min_time = (3, 0.05) if quick else (5, 0.2)
    model = torch.nn.Sequential(
        torch.nn.Linear(32, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 8))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(64, 32)
    y = torch.randn(64, 8)
    loss_fn = torch.nn.MSELoss()

    def train_step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    x1 = torch.randn(1, 32)

    def infer():
        with torch.no_grad():
            model(x1)

    a = torch.randn(256, 256)
    b = torch.randn(256, 256)
    out = torch.empty(256, 256)

    def mm():
        torch.mm(a, b, out=out)

    mm_us = median_us(mm, rounds, min_time)
    print(json.dumps({
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "train_step_us": median_us(train_step, rounds, min_time),
        "infer_us": median_us(infer, rounds, min_time),
        "matmul256_gflops": 2 * 256 ** 3 / (mm_us * 1e-6) / 1e9,
    }))


if __name__ == "__main__":
    main()
