"""Peers: any other ``.tflite`` pose model, timed under exactly the runtime settings mhp's artifacts get."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mhp.errors import MhpError
from mhp.runtime.base import Runner, check_pixels
from mhp.util.optional import require


class PeerRunner(Runner):
    """Feeds a peer model its first input: the crop resized to its shape, scaled to [0, 1] for float inputs.

    Its outputs are returned by name and not decoded: peers are timed, not scored.
    """

    def __init__(self, path: str | Path, *, input_size: int, threads: int = 1) -> None:
        path = Path(path)
        if path.suffix != ".tflite" or not path.is_file():
            raise MhpError(f"--peer {path} is not a .tflite file; pass a TFLite model (e.g. pose_landmark_full.tflite)")
        interpreter = require("ai_edge_litert.interpreter")
        try:
            self.interpreter = interpreter.Interpreter(model_path=str(path), num_threads=threads)
            self.interpreter.allocate_tensors()
        except (RuntimeError, ValueError) as exc:
            raise MhpError(f"--peer {path} does not load in LiteRT ({exc})") from None
        self.input = self.interpreter.get_input_details()[0]
        shape = tuple(int(d) for d in self.input["shape"])
        if len(shape) != 4 or shape[1:3] != (input_size, input_size):
            raise MhpError(f"--peer {path} takes input {shape}, not {input_size}x{input_size}; fix --peer-input")
        self.input_size, self.name = input_size, f"litert {path.name}"

    def pose(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        """A peer's own outputs, undecoded: peers are timed, not scored."""
        return self.raw(pixels)

    def example_input(self) -> np.ndarray:
        return np.random.default_rng(0).integers(0, 256, (1, 3, self.input_size, self.input_size)).astype(np.float32)

    def run_one(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        image = check_pixels(pixels, self.input_size).transpose(0, 2, 3, 1)
        dtype = self.input["dtype"]
        image = (image / 255.0).astype(dtype) if dtype == np.float32 else image.astype(dtype)
        self.interpreter.set_tensor(self.input["index"], image)
        self.interpreter.invoke()
        return {o["name"]: self.interpreter.get_tensor(o["index"]) for o in self.interpreter.get_output_details()}


def peer_precision(path: Path) -> str:
    """fp32 for a float input, int8 for an integer one (what a user would call the model)."""
    interpreter = require("ai_edge_litert.interpreter")
    try:
        details = interpreter.Interpreter(model_path=str(path)).get_input_details()
    except (RuntimeError, ValueError) as exc:
        raise MhpError(f"--peer {path} does not load in LiteRT ({exc})") from None
    return "fp32" if details and details[0]["dtype"] == np.float32 else "int8"
