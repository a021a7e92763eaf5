"""Rewrite the quickstart calibration record (``manifest.json``'s ``quickstart`` entry and its fingerprint).

Run it with the locked environment after ``make lock`` changed NumPy or OpenCV, or after a deliberate change to the
synthetic scenes or the crops: ``.venv/bin/python calibration_data/record.py``. ``tests/export/test_calibration.py``
then checks that the record is reproduced exactly under the lock, and within the fingerprint tolerance elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import mhp
from mhp.export.calibration import synthetic_calibration
from mhp.util.fileio import atomic_path, write_text_atomic

FOLDER = Path(__file__).resolve().parent
MANIFEST = FOLDER / "manifest.json"
FINGERPRINT = FOLDER / "quickstart_fingerprint.npy"


def main() -> None:
    manifest = json.loads(MANIFEST.read_text())
    entry = manifest["quickstart"]
    model = mhp.create_model("LPSKI", width_mult=0.5, input_size=128)
    calib = synthetic_calibration(model, entry["checkpoint_config"], entry["samples"])
    record = calib.record()
    entry.update({key: record[key] for key in ("id", "sha256", "made_with", "blas_rounding")})
    entry["fingerprint"] = {"file": FINGERPRINT.name, "grid": calib.fingerprint().shape[1]}
    with atomic_path(FINGERPRINT) as tmp, tmp.open("wb") as f:
        np.save(f, calib.fingerprint())
    write_text_atomic(MANIFEST, json.dumps(manifest, indent=2) + "\n")
    print(f"{record['id']}: sha256 {record['sha256']} with {record['made_with']}")


if __name__ == "__main__":
    main()
