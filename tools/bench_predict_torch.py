#!/usr/bin/python3
"""The PyTorch side of tools/bench-predict: torchvision's resnet18 (2 classes)
in eval mode over every film of a folder, preprocessed as ImageFolder and the
usual evaluation transform do it (PIL: open, convert("RGB"), Resize(256),
CenterCrop(224), ToTensor, Normalize), batched by a DataLoader. Timed from
building the model to the last softmax, as a script that predicts a folder
would run: Python's start-up and `import torch` are outside the timer.
Prints "timed: N films in S s" and, last, "X img/s (...)"."""
import argparse
import os
import time

import torch
import torchvision
from PIL import Image
from torchvision import transforms


class Films(torch.utils.data.Dataset):
    def __init__(self, root, tf):
        self.paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs
                            if f.lower().endswith((".jpeg", ".jpg", ".png")))
        self.tf = tf

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        with open(self.paths[i], "rb") as f:
            img = Image.open(f).convert("RGB")
        return self.tf(img)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--resize", type=int, default=256)
    ap.add_argument("--crop", type=int, default=224)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    start = time.perf_counter()
    model = torchvision.models.resnet18(num_classes=2).eval()
    tf = transforms.Compose([
        transforms.Resize(a.resize),
        transforms.CenterCrop(a.crop),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    ds = Films(a.folder, tf)
    loader = torch.utils.data.DataLoader(ds, batch_size=a.batch, num_workers=a.workers)
    n = 0
    with torch.no_grad():
        for x in loader:
            torch.softmax(model(x), dim=1)
            n += x.shape[0]
    seconds = time.perf_counter() - start
    # what tools/bench-predict reads: this timer, not the process's lifetime
    print("timed: %d films in %.6f s" % (n, seconds))
    print("%.2f img/s (torch %s, torchvision %s, batch %d, %d threads, %d loader workers)"
          % (n / seconds, torch.__version__, torchvision.__version__, a.batch, a.threads,
             a.workers))


if __name__ == "__main__":
    main()
