#!/usr/bin/python3
"""The PyTorch side of tools/bench-vs-torch: the same ResNet-18 (2 classes) step
on random data, printing the same last line as `xraylab-cli bench`."""
import argparse
import resource
import time

import torch
import torchvision


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["train", "infer"], default="train")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = torchvision.models.resnet18(num_classes=2)
    x = torch.rand(a.batch, 3, a.size, a.size) * 4 - 2
    y = torch.arange(a.batch) % 2
    train = a.mode == "train"
    if train:
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        loss_fn = torch.nn.CrossEntropyLoss()
    else:
        model.eval()

    done, start, elapsed = 0, 0.0, 0.0
    i = 0
    while True:
        if i == a.warmup:
            start = time.perf_counter()
        if train:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
        else:
            with torch.no_grad():
                model(x)
        if i >= a.warmup:
            done += 1
            elapsed = time.perf_counter() - start
            if (done >= a.iters) if a.iters > 0 else (elapsed >= a.seconds):
                break
        i += 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("%d batches in %.2f s (%.1f ms/batch), torch %s" %
          (done, elapsed, 1000 * elapsed / done, torch.__version__))
    print("%s batch=%d size=%d threads=%d: %.2f img/s, peak memory %.0f MB" %
          (a.mode, a.batch, a.size, a.threads, done * a.batch / elapsed, peak))


if __name__ == "__main__":
    main()
