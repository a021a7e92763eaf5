#!/usr/bin/env bash
# Xcode pre-build check: the Models folder holds at least one artifact, and every artifact has its manifest beside it
# (and every manifest its artifact). Fails the build with a message Xcode shows; copy_models.sh fills the folder.
set -euo pipefail
models="${1:?usage: check_models.sh MODELS_DIR}"
fix="run ios_demo/copy_models.sh EXPORT_DIR (the folder mhp-export wrote)"
if [ ! -d "$models" ]; then
  echo "error: $models does not exist: $fix" >&2
  exit 1
fi
shopt -s nullglob
artifacts=("$models"/*.tflite "$models"/*.mlpackage)
if [ ${#artifacts[@]} -eq 0 ]; then
  echo "error: no .tflite or .mlpackage in $models: $fix" >&2
  exit 1
fi
status=0
for artifact in "${artifacts[@]}"; do
  if [ ! -f "$artifact.json" ]; then
    echo "error: $(basename "$artifact") has no manifest $(basename "$artifact").json: $fix" >&2
    status=1
  fi
done
for manifest in "$models"/*.json; do
  if [ ! -e "${manifest%.json}" ]; then
    echo "error: $(basename "$manifest") has no artifact $(basename "${manifest%.json}"): $fix" >&2
    status=1
  fi
done
exit $status
