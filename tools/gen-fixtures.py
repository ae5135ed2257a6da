#!/usr/bin/python3
"""Regenerates the committed test fixtures (needs PyTorch; CI does not).

Usage: tools/gen-fixtures.py [OUTDIR]   (default: tests/fixtures)
Runs generate(OUTDIR) of each module of tools/fixtures/ that exists.
"""
import importlib
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

MODULES = ("weightfiles", "parity")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "tests", "fixtures")
    out = os.path.normpath(out)
    for name in MODULES:
        if importlib.util.find_spec("fixtures." + name) is None:
            continue
        print(f"fixtures.{name} -> {out}")
        importlib.import_module("fixtures." + name).generate(out)


if __name__ == "__main__":
    main()
