"""Split the Auto MPG data set by model year into the two CSV files shipped here.

Source: `cars.json` from the PyPI package vega-datasets 0.9.0 (MIT licence), itself the
UCI Machine Learning Repository's "Auto MPG" data set (Quinlan, 1993; CC BY 4.0).

    pip download --no-deps vega-datasets==0.9.0 && unzip vega_datasets-0.9.0-py3-none-any.whl
    python3 examples/data/make_auto_mpg.py vega_datasets/_data/cars.json
"""
import csv
import json
import sys
from pathlib import Path

COLUMNS = [
    ("mpg", "Miles_per_Gallon"),
    ("cylinders", "Cylinders"),
    ("displacement", "Displacement"),
    ("horsepower", "Horsepower"),
    ("weight", "Weight_in_lbs"),
    ("acceleration", "Acceleration"),
    ("origin", "Origin"),
]

def main(source):
    rows = json.load(open(source))
    here = Path(__file__).parent
    splits = {
        "auto-mpg-1970-1976.csv": lambda year: year <= 1976,
        "auto-mpg-1977-1982.csv": lambda year: year >= 1977,
    }
    for name, keep in splits.items():
        with open(here / name, "w", newline="") as f:
            out = csv.writer(f, lineterminator="\n")
            out.writerow(["model_year"] + [c for c, _ in COLUMNS])
            for r in rows:
                year = int(r["Year"][:4])
                if keep(year):
                    # Missing values (null in the JSON) become empty fields.
                    out.writerow([year] + ["" if r[k] is None else r[k] for _, k in COLUMNS])

if __name__ == "__main__":
    main(sys.argv[1])
