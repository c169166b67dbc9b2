"""The editable tables under each package's data/: CSV (or TSV), with `#` lines saying where the data comes
from and how to extend it."""
import csv
from pathlib import Path


def read_table(path: Path) -> list[dict[str, str]]:
    """The rows of a data table as dicts by header; `#` lines are comments. A .tsv is tab-separated."""
    delimiter = "\t" if path.suffix == ".tsv" else ","
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader((line for line in f if not line.startswith("#")), delimiter=delimiter))
