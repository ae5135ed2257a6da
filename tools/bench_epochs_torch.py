#!/usr/bin/python3
"""The PyTorch case study's training loop on a data set folder, timed per batch,
for tools/bench-epochs: ImageFolder + PIL + DataLoader (2 workers), torchvision's
resnet18, the same transforms as X-Ray Lab's defaults.

  bench_epochs_torch.py DATA --mode finetune|fixed|partial [--batches N] [--batch-size B]
                        [--whole]

Prints the seconds per training batch over N batches (after one warm-up batch)
and the seconds a whole epoch of the train split takes at that rate. With
--whole it runs one whole epoch instead, as the case study's script does: every
training batch from the JPEG files, then the validation split (Resize(256),
CenterCrop(224), no gradients), and prints the wall-clock seconds of both."""
import argparse
import time

import torch
import torchvision
import torchvision.transforms as T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--mode", default="finetune", choices=["finetune", "fixed", "partial"])
    ap.add_argument("--batches", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--whole", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    norm = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    train = torchvision.datasets.ImageFolder(
        a.data + "/train", T.Compose([T.Grayscale(3), T.Resize(256), T.RandomCrop(224),
                                      T.ToTensor(), norm]))
    loader = torch.utils.data.DataLoader(train, batch_size=a.batch_size, shuffle=True,
                                         num_workers=2)
    model = torchvision.models.resnet18()
    model.fc = torch.nn.Linear(512, 2)
    if a.mode == "finetune":
        params = model.parameters()
        opt = torch.optim.Adam(params, lr=1e-4)
    else:
        frozen = [model.conv1, model.bn1] + ([model.layer1, model.layer2, model.layer3, model.layer4]
                                             if a.mode == "fixed" else [])
        for m in frozen:
            for p in m.parameters():
                p.requires_grad = False
        opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3,
                              momentum=0.9)
    model.train()
    loss_fn = torch.nn.CrossEntropyLoss()
    if a.whole:
        whole_epoch(a, train, loader, model, opt, loss_fn, norm)
        return
    it = iter(loader)
    times = []
    for i in range(a.batches + 1):
        t0 = time.perf_counter()
        x, y = next(it)
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if i > 0:
            times.append(time.perf_counter() - t0)
    per_batch = sum(times) / len(times)
    n_batches = (len(train) + a.batch_size - 1) // a.batch_size
    print("pytorch %s: %.3f s per batch of %d, %d train films: %.0f s per epoch (training only)"
          % (a.mode, per_batch, a.batch_size, len(train), per_batch * n_batches))


def whole_epoch(a, train, loader, model, opt, loss_fn, norm):
    val = torchvision.datasets.ImageFolder(
        a.data + "/val", T.Compose([T.Grayscale(3), T.Resize(256), T.CenterCrop(224),
                                    T.ToTensor(), norm]))
    val_loader = torch.utils.data.DataLoader(val, batch_size=a.batch_size, num_workers=2)
    t0 = time.perf_counter()
    model.train()
    for x, y in loader:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    t1 = time.perf_counter()
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in val_loader:
            correct += (model(x).argmax(1) == y).sum().item()
    t2 = time.perf_counter()
    print("pytorch %s: whole epoch from JPEG: %.1f s (train %d films %.1f s, %.1f img/s; "
          "val %d films %.1f s)" % (a.mode, t2 - t0, len(train), t1 - t0, len(train) / (t1 - t0),
                                    len(val), t2 - t1))


if __name__ == "__main__":
    main()
