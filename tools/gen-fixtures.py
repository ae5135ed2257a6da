#!/usr/bin/python3
"""Regenerates the committed test fixtures with PyTorch (Debian's python3-torch).

    tools/install-deps --fixtures && /usr/bin/python3 tools/gen-fixtures.py [OUTDIR]

Runs generate(OUTDIR) of each module of tools/fixtures/ (default OUTDIR:
tests/fixtures). CI never runs this: the fixtures are small and committed.

    /usr/bin/python3 tools/gen-fixtures.py --check-model MODEL [CLASSES]

loads a model written by xraylab into torchvision's resnet18 the way a PyTorch
user would (strict load_state_dict) and prints its metadata keys.
"""
import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

MODULES = ("weightfiles", "parity", "images", "schedules")


def main(argv):
    if argv and argv[0] == "--check-model":
        if len(argv) < 2:
            print(__doc__)
            return 2
        from fixtures import parity
        model, meta = parity.check_model(argv[1], int(argv[2]) if len(argv) > 2 else 2)
        print("%s: loaded into torchvision's resnet18 (%d parameters); metadata keys: %s"
              % (argv[1], sum(p.numel() for p in model.parameters()), sorted(meta)))
        return 0
    if argv and argv[0].startswith("-"):
        print(__doc__)
        return 2
    out = os.path.normpath(argv[0] if argv else os.path.join(HERE, "..", "tests", "fixtures"))
    os.makedirs(out, exist_ok=True)
    for name in MODULES:
        print("fixtures.%s -> %s" % (name, out))
        importlib.import_module("fixtures." + name).generate(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
