#!/usr/bin/env bash
# Copies mhp-export artifacts, each with its manifest, into PoseDemo/Models (the folder the app bundles), replacing
# what was there. Usage: ios_demo/copy_models.sh EXPORT_DIR [ARTIFACT ...]
# Without ARTIFACT names it takes every .tflite and .mlpackage in EXPORT_DIR (mhp-export names them
# <model>_<precision>.<suffix>, e.g. lpski_int8.tflite, lpski_fp16.mlpackage). MODELS_DIR overrides the destination.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export_dir="${1:?usage: copy_models.sh EXPORT_DIR [ARTIFACT ...]}"
shift
models="${MODELS_DIR:-$here/PoseDemo/Models}"
if [ ! -d "$export_dir" ]; then
  echo "error: $export_dir is not a folder; export first: mhp-export --checkpoint CKPT --target all" >&2
  exit 1
fi
if [ $# -eq 0 ]; then
  shopt -s nullglob
  names=()
  for path in "$export_dir"/*.tflite "$export_dir"/*.mlpackage; do
    names+=("$(basename "$path")")
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
rm -rf "$models"
mkdir -p "$models"
for name in "$@"; do
  cp -R "$export_dir/$name" "$export_dir/$name.json" "$models/"
  echo "copied $name"
done
"$here/check_models.sh" "$models"
