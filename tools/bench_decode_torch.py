#!/usr/bin/python3
"""The torchvision side of tools/bench-decode: one epoch (or more) of

    ImageFolder(DIR/train, Compose([Resize(256), CenterCrop(224), ToTensor(),
                                    Normalize(ImageNet mean, std)]))

through a DataLoader (2 workers, batch 16), timed from the first request to
the last batch, as a training script would see it. Prints one line per epoch
and, last, "torchvision: X img/s" (the best epoch)."""
import argparse
import os
import time

import torch
import torchvision
from torchvision import transforms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data", help="a folder with train/<class>/*.jpeg")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--crop", type=int, default=224)
    a = ap.parse_args()

    torch.set_num_threads(1)
    tf = transforms.Compose([
        transforms.Resize(a.size),
        transforms.CenterCrop(a.crop),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    ds = torchvision.datasets.ImageFolder(os.path.join(a.data, "train"), tf)
    loader = torch.utils.data.DataLoader(ds, batch_size=a.batch, num_workers=a.workers,
                                         shuffle=False)
    best = 0.0
    for epoch in range(a.epochs):
        start = time.perf_counter()
        n = 0
        for images, labels in loader:
            n += images.shape[0]
        seconds = time.perf_counter() - start
        best = max(best, n / seconds)
        print("epoch %d: %d images in %.2f s, %.1f img/s" % (epoch + 1, n, seconds, n / seconds))
    print("torchvision: %.1f img/s (torch %s, torchvision %s, %d workers, batch %d)"
          % (best, torch.__version__, torchvision.__version__, a.workers, a.batch))


if __name__ == "__main__":
    main()
