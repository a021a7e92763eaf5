#!/usr/bin/env bash
# Xcode pre-build check: the Models folder holds at least one artifact, and every artifact has its manifest beside it
# (and every manifest its artifact). Fails the build with a message Xcode shows; copy_models.sh fills the folder.
# The person detector pose_detection.tflite has no manifest: when bundled it must be MediaPipe 0.10.21's file, checked
# by its sha256 (mhp.infer.blazepose.SHA256; DETECTOR_SHA256 overrides it); the app runs without it.
set -euo pipefail
models="${1:?usage: check_models.sh MODELS_DIR}"
detector_sha256="${DETECTOR_SHA256:-9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c}"
fix="run ios_demo/copy_models.sh EXPORT_DIR (the folder mhp-export wrote)"
if [ ! -d "$models" ]; then
  echo "error: $models does not exist: $fix" >&2
  exit 1
fi
shopt -s nullglob
artifacts=()
for artifact in "$models"/*.tflite "$models"/*.mlpackage; do
  [ "$(basename "$artifact")" = pose_detection.tflite ] || artifacts+=("$artifact")
done
if [ ${#artifacts[@]} -eq 0 ]; then
  echo "error: no .tflite or .mlpackage in $models: $fix" >&2
  exit 1
fi
status=0
if [ -f "$models/pose_detection.tflite" ]; then
  if command -v sha256sum >/dev/null; then
    digest="$(sha256sum "$models/pose_detection.tflite" | cut -d' ' -f1)"
  else
    digest="$(shasum -a 256 "$models/pose_detection.tflite" | cut -d' ' -f1)"  # macOS
  fi
  if [ "$digest" != "$detector_sha256" ]; then
    echo "error: pose_detection.tflite is not MediaPipe 0.10.21's person detector (sha256 $digest):" \
      "run make detector, then $fix" >&2
    status=1
  fi
fi
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
