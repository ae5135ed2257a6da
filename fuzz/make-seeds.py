#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/TARGET/.

    python3 fuzz/make-seeds.py

The seeds come from the project's own fixtures (tests/fixtures) and from the
formats as this project writes them (a model's metadata, a run's config.json,
safetensors with every dtype). Each corpus stays a few KiB: the fuzzer grows
its own working corpus from these (tools/fuzz keeps it in the build folder).
Standard library only; the output is the same on every run.
"""
import json
import os
import shutil
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def target_dir(name):
    path = os.path.join(CORPUS, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def write(directory, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def copy_fixtures(directory, names):
    for name in names:
        shutil.copy(os.path.join(FIXTURES, name), os.path.join(directory, name))


# --- image: JPEG and PNG films ------------------------------------------------
d = target_dir("image")
copy_fixtures(d, ["jpeg-gray.jpg", "jpeg-rgb.jpg", "jpeg-cmyk.jpg", "png-gray8.png",
                  "png-palette-trns.png", "png-rgb8-interlaced.png", "png-gray16.png",
                  "png-gray-alpha.png"])

# --- pth: PyTorch zip + pickle ------------------------------------------------
d = target_dir("pth")
copy_fixtures(d, ["tiny-state.pth", "tiny-state-p4.pth", "tiny-state-legacy.pth",
                  "forbidden-global.pth"])

# --- safetensors ------------------------------------------------------------------


def safetensors(tensors, metadata=None):
    """tensors: [(name, dtype, shape, raw bytes)] in data order."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)
    return struct.pack("<Q", len(text)) + text + data


d = target_dir("safetensors")
copy_fixtures(d, ["tiny-state.safetensors", "optim.safetensors"])
write(d, "dtypes.safetensors", safetensors([
    ("f64", "F64", [2], struct.pack("<2d", 1.5, -2.25)),
    ("f32", "F32", [2, 2], struct.pack("<4f", 0.0, 1.0, -1.0, 3.5)),
    ("f16", "F16", [3], struct.pack("<3H", 0x3c00, 0xfc00, 0x7e00)),
    ("bf16", "BF16", [2], struct.pack("<2H", 0x3f80, 0x7f80)),
    ("i64", "I64", [], struct.pack("<q", 42)),
    ("i32", "I32", [1], struct.pack("<i", -7)),
    ("i16", "I16", [2], struct.pack("<2h", 1, -1)),
    ("i8", "I8", [2], struct.pack("<2b", 1, -1)),
    ("u8", "U8", [3], bytes([0, 128, 255])),
    ("bool", "BOOL", [2], bytes([0, 1])),
    ("empty", "F32", [0, 3], b""),
], metadata={"format": "pt", "xraylab": "{\"format\":\"xraylab-model\"}"}))
write(d, "resnet-stem.safetensors", safetensors([
    ("conv1.weight", "F32", [4, 3, 3, 3], struct.pack("<108f", *[i / 108 for i in range(108)])),
    ("bn1.weight", "F32", [4], struct.pack("<4f", 1, 1, 1, 1)),
    ("bn1.bias", "F32", [4], struct.pack("<4f", 0, 0, 0, 0)),
    ("bn1.running_mean", "F32", [4], struct.pack("<4f", 0, 0, 0, 0)),
    ("bn1.running_var", "F32", [4], struct.pack("<4f", 1, 1, 1, 1)),
    ("bn1.num_batches_tracked", "I64", [], struct.pack("<q", 3)),
    ("fc.weight", "F32", [3, 4], struct.pack("<12f", *range(12))),
    ("fc.bias", "F32", [3], struct.pack("<3f", 0, 1, 2)),
]))

# --- model-info: the "xraylab" metadata of our models ------------------------------
model = {
    "format": "xraylab-model", "version": 1, "architecture": "resnet18",
    "classes": ["NORMAL", "PNEUMONIA"], "width": 64, "input_size": 224, "resize": 256,
    "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
    "head": {"hidden": 0, "dropout": 0.0}, "mode": "finetune", "frozen_stages": 0,
    "positive_class": 1, "threshold": 0.5,
}
d = target_dir("model-info")
write(d, "default.json", json.dumps(model))
m = dict(model, classes=["COVID", "NORMAL", "PNEUMONIA"], width=16, input_size=64, resize=72,
         head={"hidden": 128, "dropout": 0.25}, mode="partial", frozen_stages=3,
         positive_class=2, threshold=0.4375,
         metrics={"accuracy": 0.9, "auc": 0.95, "confusion": [[1, 2], [3, 4]]})
write(d, "three-classes.json", json.dumps(m, indent=2))
write(d, "unicode.json", json.dumps(dict(model, classes=["正常", "肺炎 \u00e9"], mode="fixed",
                                         frozen_stages=5), ensure_ascii=False))

# --- train-config: config.json of a run ----------------------------------------------
config = {
    "data": "/data/chest_xray", "out": "runs/finetune", "weights": None, "mode": "finetune",
    "freeze": 1, "head_hidden": 0, "head_dropout": 0.5, "width": 64, "epochs": 50,
    "batch_size": 32, "input_size": 224, "resize": 256, "optimizer": "adam", "lr": 0.0001,
    "momentum": 0.0, "weight_decay": 0.0, "nesterov": False, "schedule": "step",
    "step_size": 7, "gamma": 0.1, "patience": 10, "monitor": "val_loss",
    "class_weights": "none", "class_weight_values": [], "balanced_sampling": False,
    "augment": True, "random_resized_crop": False, "rotation_degrees": 0.0,
    "brightness": 0.0, "contrast": 0.0, "hflip": False, "val_fraction": -1.0,
    "cache_views": 4, "image_cache_bytes": 2147483648, "feature_cache_bytes": 2147483648,
    "seed": 1, "threads": 2, "loader_threads": 1, "max_batches": 0, "version": "0.1.0",
    "classes": ["NORMAL", "PNEUMONIA"],
    "counts": {"train": [1341, 3875], "val": [8, 8], "test": [234, 390]},
}
d = target_dir("train-config")
write(d, "finetune.json", json.dumps(config, indent=2))
write(d, "partial.json", json.dumps(dict(
    config, mode="partial", freeze=3, optimizer="sgd", lr=0.001, momentum=0.9, nesterov=True,
    schedule="cosine", monitor="val_accuracy", class_weights="given",
    class_weight_values=[2.5, 0.75], weights="resnet18-f37072fd.pth", head_hidden=256,
    rotation_degrees=10.0, brightness=0.2, contrast=0.2, hflip=True, val_fraction=0.1,
    balanced_sampling=True, random_resized_crop=True)))
write(d, "fixed.json", json.dumps(dict(
    config, mode="fixed", optimizer="adamw", weight_decay=0.01, schedule="none", patience=0,
    class_weights="balanced", image_cache_bytes=1024, cache_views=0, data="données/été")))

# --- scan: programs that build a folder tree (see fuzz/fuzz-scan.c) ---------------------
# Operations: 0-2 folder (kind, pick), 3 up (count), 4-7 file (template, kind, pick,
# extension[, length lo, hi, bytes]), 8 symlink (target, kind, pick[, ext]), 9 FIFO
# (kind, pick, ext). Name kinds: 0 split, 1 class, 2 Kermany stem, 3 Unicode,
# 4 not UTF-8, 5 255 bytes, 6 odd, 7 from the input (length, bytes).
SPLIT, CLASS, STEM, UNICODE, BAD_UTF8, LONG, ODD, RAW = range(8)
JPEG, JPG, PNG = 0, 1, 3
T_GRAY, T_RGB, T_CMYK, T_ONE, T_TALL, T_TRUNC, T_TRAILER, T_HUGE, T_PNG, T_PNG_TRUNC, \
    T_EMPTY, T_TEXT = range(12)


def folder(kind, pick):
    return bytes([0, kind, pick])


def up(n=1):
    return bytes([3, n - 1])


def file(template, kind, pick, ext=JPEG):
    return bytes([4, template, kind, pick, ext])


def kermany_split(split_pick):
    out = folder(SPLIT, split_pick)
    out += folder(CLASS, 0) + file(T_GRAY, STEM, 1) + file(T_RGB, STEM, 2) + up()
    out += folder(CLASS, 1) + file(T_GRAY, STEM, 0) + file(T_CMYK, STEM, 3) \
        + file(T_TRAILER, STEM, 0 + 8) + up()
    return out + up()


kermany = kermany_split(0) + kermany_split(1) + kermany_split(2)
d = target_dir("scan")
write(d, "kermany", bytes([0, 3]) + kermany)
write(d, "kermany-zip", bytes([1, 5]) + kermany)
write(d, "kermany-zip-deflate-keep-val", bytes([1 | 2 | 8, 7]) + kermany)
write(d, "kermany-cancelled", bytes([4, 0x31]) + kermany)
write(d, "classes-odd-files", bytes([0, 1])
      + folder(CLASS, 0) + file(T_ONE, UNICODE, 0) + file(T_TALL, BAD_UTF8, 2)
      + file(T_TRUNC, ODD, 2) + file(T_HUGE, STEM, 4) + file(T_EMPTY, ODD, 5)
      + file(T_TEXT, STEM, 6) + file(T_PNG, UNICODE, 3, PNG) + file(T_PNG_TRUNC, STEM, 0, PNG)
      + up()
      + folder(UNICODE, 1) + file(T_GRAY, LONG, 0) + file(T_GRAY, LONG, 1, JPG) + up()
      + file(T_GRAY, STEM, 0))
write(d, "links-and-fifos", bytes([0, 2])
      + folder(CLASS, 0) + file(T_GRAY, STEM, 0)
      + bytes([8, 0, SPLIT, 0])            # link "train" -> "."
      + bytes([8, 4 + 8, CLASS, 1, JPEG])  # link "PNEUMONIA.jpeg" -> ".."
      + bytes([8, 1 + 8, STEM, 2, JPEG])   # dangling image link
      + bytes([8, 2 + 8, STEM, 3, JPG])    # an image that is /dev/zero
      + bytes([9, STEM, 5, JPEG])          # a FIFO named like a film
      + up() + folder(CLASS, 1) + file(T_RGB, STEM, 1) + file(T_GRAY, STEM, 1))
deep = bytes([0, 4])
for level in range(18):
    deep += folder(LONG, level)
deep += file(T_GRAY, STEM, 0) + up(3) + up(3) + up(3) + up(3) + up(3) + up(3)
deep += folder(CLASS, 0) + file(T_GRAY, STEM, 1) + up() + folder(CLASS, 1) + file(T_GRAY, STEM, 2)
write(d, "past-path-max", deep)
raw = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
write(d, "raw-names-and-bytes", bytes([0, 6])
      + folder(CLASS, 0) + bytes([4, 12, RAW, 5, JPEG]) + b"a\tb:c!"
      + struct.pack("<H", len(raw)) + raw
      + up() + folder(CLASS, 1) + file(T_GRAY, STEM, 0) + file(T_GRAY, RAW, 2) + b"\xe9\xe9\xe9")

for name in sorted(os.listdir(CORPUS)):
    files = os.listdir(os.path.join(CORPUS, name))
    size = sum(os.path.getsize(os.path.join(CORPUS, name, f)) for f in files)
    print(f"{name}: {len(files)} seeds, {size} bytes")
