#!/usr/bin/python3
"""Checks that a model written by X-Ray Lab works for a PyTorch user: loads its
model.safetensors into torchvision's resnet18 strictly (load_state_dict with
strict=True, every key and shape), classifies the given films in PyTorch and
compares the probabilities with `xraylab-cli predict --json` on the same films.

  /usr/bin/python3 tools/torch_check_model.py [--cli PATH] [--tolerance T] MODEL FILM...

Each film is first written, gray, at the model's resize size (its short side)
as a PNG, so that both sides decode the same pixels and neither resizes them;
PyTorch then does what torchvision's evaluation transform does (CenterCrop to
the input size, ToTensor, three channels, Normalize with the model's mean and
std). Prints the largest difference and exits 1 when it exceeds the tolerance
(default 1e-4: the CLI prints six significant digits).

Needs Debian's python3-torch and python3-torchvision (tools/install-deps
--fixtures). The `safetensors` Python package is not in Debian 12, so the file
is read by the fixtures' reader (tools/fixtures/weightfiles.py), which follows
the format's specification.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch
import torchvision
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("films", nargs="+")
    ap.add_argument("--cli", default=os.path.join(HERE, "..", "_build", "src", "cli", "xraylab-cli"))
    ap.add_argument("--tolerance", type=float, default=1e-4)
    a = ap.parse_args()

    from fixtures.parity import read_safetensors

    state, meta = read_safetensors(a.model)
    info = json.loads(meta["xraylab"])
    classes = info["classes"]
    model = torchvision.models.resnet18(num_classes=len(classes))
    model.load_state_dict(state, strict=True)
    model.eval()
    print("%s: strict load_state_dict into torchvision's resnet18(num_classes=%d): %d tensors, "
          "%d parameters" % (a.model, len(classes), len(state),
                             sum(p.numel() for p in model.parameters())))

    size, resize = info["input_size"], info["resize"]
    mean = torch.tensor(info["mean"]).view(3, 1, 1)
    std = torch.tensor(info["std"]).view(3, 1, 1)
    with tempfile.TemporaryDirectory() as tmp:
        pngs = []
        for i, path in enumerate(a.films):
            img = Image.open(path).convert("L")
            w, h = img.size
            if w < h:
                img = img.resize((resize, max(resize, round(h * resize / w))), Image.BILINEAR)
            else:
                img = img.resize((max(resize, round(w * resize / h)), resize), Image.BILINEAR)
            png = os.path.join(tmp, "film%03d.png" % i)
            img.save(png)
            pngs.append(png)

        out = subprocess.run([a.cli, "predict", "--model", a.model, "--json"] + pngs,
                             check=True, capture_output=True, text=True).stdout
        ours = {f["path"]: f["probabilities"] for f in json.loads(out)["films"]}

        worst = 0.0
        crop = torchvision.transforms.CenterCrop(size)
        with torch.no_grad():
            for png, path in zip(pngs, a.films):
                x = torchvision.transforms.functional.to_tensor(crop(Image.open(png)))
                x = ((x.expand(3, -1, -1) - mean) / std).unsqueeze(0)
                probs = torch.softmax(model(x), dim=1)[0]
                theirs = ours[png]
                diff = max(abs(probs[c].item() - theirs[name]) for c, name in enumerate(classes))
                worst = max(worst, diff)
                print("%s: PyTorch %s, xraylab-cli %s, largest difference %.2g"
                      % (os.path.basename(path),
                         " ".join("%s=%.6g" % (n, probs[c].item()) for c, n in enumerate(classes)),
                         " ".join("%s=%.6g" % (n, theirs[n]) for n in classes), diff))
    ok = worst <= a.tolerance
    print("%d films: largest probability difference %.2g (tolerance %g): %s"
          % (len(a.films), worst, a.tolerance, "agree" if ok else "DISAGREE"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
