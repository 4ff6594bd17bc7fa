"""Writes digits.csv: the UCI optical-recognition handwritten digits (the 1,797-image copy
that scikit-learn ships), one row per 8x8 image, pixels p0..p63 (row-major, 0..16) and the
label `digit`.

    python3 -m venv /tmp/skenv && /tmp/skenv/bin/pip install scikit-learn==1.9.1
    /tmp/skenv/bin/python examples/data/make_digits.py examples/data/digits.csv
"""

import csv
import sys

import sklearn
from sklearn.datasets import load_digits


def main(path: str) -> None:
    data = load_digits()
    with open(path, "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow([f"p{i}" for i in range(64)] + ["digit"])
        for image, label in zip(data.data, data.target):
            out.writerow([int(v) for v in image] + [int(label)])
    print(f"wrote {len(data.target)} rows with scikit-learn {sklearn.__version__}")


if __name__ == "__main__":
    main(sys.argv[1])
