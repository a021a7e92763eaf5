#!/usr/bin/env bash
# Copies mhp-export artifacts, each with its manifest, into PoseDemo/Models (the folder the app bundles), replacing
# what was there. Usage: ios_demo/copy_models.sh EXPORT_DIR [ARTIFACT ...]
# Without ARTIFACT names it takes every .tflite and .mlpackage in EXPORT_DIR (mhp-export names them
# <model>_<precision>.<suffix>, e.g. lpski_int8.tflite, lpski_fp16.mlpackage). MODELS_DIR overrides the destination.
# It also bundles the person detector, MediaPipe's pose_detection.tflite, from DETECTOR (default: the file `make detector`
# unpacks, <repo>/.venv/share/mhp/pose_detection.tflite); DETECTOR=none leaves it out (the app then follows one person
# from a centred box and says so).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export_dir="${1:?usage: copy_models.sh EXPORT_DIR [ARTIFACT ...]}"
shift
models="${MODELS_DIR:-$here/PoseDemo/Models}"
detector="${DETECTOR:-$here/../.venv/share/mhp/pose_detection.tflite}"
if [ ! -d "$export_dir" ]; then
  echo "error: $export_dir is not a folder; export first: mhp-export --checkpoint CKPT --target all" >&2
  exit 1
fi
if [ $# -eq 0 ]; then
  shopt -s nullglob
  names=()
  for path in "$export_dir"/*.tflite "$export_dir"/*.mlpackage; do
    [ "$(basename "$path")" = pose_detection.tflite ] || names+=("$(basename "$path")")  # the detector comes from DETECTOR
  done
  set -- "${names[@]+"${names[@]}"}"
fi
if [ $# -eq 0 ]; then
  echo "error: no .tflite or .mlpackage artifact in $export_dir" >&2
  exit 1
fi
for name in "$@"; do
  if [ ! -e "$export_dir/$name" ] || [ ! -f "$export_dir/$name.json" ]; then
    echo "error: $export_dir/$name and its manifest $name.json must both exist (mhp-export writes them together)" >&2
    exit 1
  fi
done
if [ "$detector" != none ] && [ ! -f "$detector" ]; then
  echo "error: the person detector $detector is missing: run make detector in the repository (it unpacks" \
    "pose_detection.tflite from the mediapipe wheel), set DETECTOR=FILE, or DETECTOR=none to bundle none" >&2
  exit 1
fi
rm -rf "$models"
mkdir -p "$models"
for name in "$@"; do
  cp -R "$export_dir/$name" "$export_dir/$name.json" "$models/"
  echo "copied $name"
done
if [ "$detector" != none ]; then
  cp "$detector" "$models/pose_detection.tflite"
  echo "copied pose_detection.tflite (person detector)"
fi
"$here/check_models.sh" "$models"
