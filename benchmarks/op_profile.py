"""Where a TFLite graph's time goes on this CPU: every operator cut out into a one-op model and timed alone.

LiteRT's Python interpreter has no op profiler, and under XNNPACK the whole graph is one delegate node. So each
operator of subgraph 0 becomes its own model (its constant tensors kept, its other inputs made model inputs),
which is timed with the same interpreter settings as ``mhp-bench`` (XNNPACK, one thread). A ``PAD`` read by one
convolution is timed with it, and charged what it adds: XNNPACK fuses the two, so alone it would look costly.
Summed per op kind (pointwise and k x k convolutions told apart), with multiply-accumulates from the tensor
shapes and the achieved rate against the CPU's peak estimate (``mhp.bench.machine``). The sum of the parts is
printed beside the whole graph's time: a large gap means the cut changed what XNNPACK does (fusions across ops).

    .venv/bin/python benchmarks/op_profile.py runs/peers/export/lpski_int8.tflite runs/peers/export/lpski_fp32.tflite \\
        --out benchmarks/results/op_profile.md
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import copy
import io
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

RUNS, WARMUP, REPEATS = 60, 10, 5


def schema():
    from tensorflow.lite.python import schema_py_generated

    return schema_py_generated


def load_model(path: Path):
    fb = schema()
    return fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(path.read_bytes(), 0))


def op_names(model) -> dict[int, str]:
    """Builtin code -> name (``CONV_2D``) for the model's operator codes."""
    fb = schema()
    names = {v: k for k, v in vars(fb.BuiltinOperator).items() if not k.startswith("_")}
    return {i: names[max(code.builtinCode, code.deprecatedBuiltinCode)] for i, code in enumerate(model.operatorCodes)}


def is_constant(model, tensor_index: int) -> bool:
    tensor = model.subgraphs[0].tensors[tensor_index]
    data = model.buffers[tensor.buffer].data
    return data is not None and len(data) > 0


def cut_model(model, op_indices: list[int]) -> bytes:
    """The model with only the operators ``op_indices`` (in order): the tensors they read but none of them
    writes, constants aside, become the model's inputs; the last operator's outputs its outputs."""
    import flatbuffers

    single = copy.copy(model)
    graph = copy.copy(model.subgraphs[0])
    ops = [graph.operators[i] for i in op_indices]
    written = {int(t) for op in ops for t in op.outputs}
    read = [int(t) for op in ops for t in op.inputs if t >= 0]
    graph.inputs = list(dict.fromkeys(t for t in read if t not in written and not is_constant(model, t)))
    graph.operators = ops
    graph.outputs = [int(t) for t in ops[-1].outputs]
    single.subgraphs = [graph]
    single.signatureDefs = []
    builder = flatbuffers.Builder(1 << 20)
    builder.Finish(single.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def fused_consumer(model, names: dict[int, str], op_index: int) -> int | None:
    """The one convolution reading a ``PAD``'s output: XNNPACK fuses the pair, so the pad is timed with it."""
    operators = model.subgraphs[0].operators
    if names[operators[op_index].opcodeIndex] != "PAD":
        return None
    output = int(operators[op_index].outputs[0])
    readers = [i for i, op in enumerate(operators) if output in [int(t) for t in op.inputs]]
    convolutions = ("CONV_2D", "DEPTHWISE_CONV_2D")
    if len(readers) == 1 and names[operators[readers[0]].opcodeIndex] in convolutions:
        return readers[0]
    return None


def kind(model, names: dict[int, str], op) -> str:
    """The op's name; convolutions split into pointwise (1x1) and kxk by their filter shape."""
    name = names[op.opcodeIndex]
    if name == "CONV_2D":
        height, width = model.subgraphs[0].tensors[op.inputs[1]].shape[1:3]
        return "CONV_2D 1x1" if (height, width) == (1, 1) else f"CONV_2D {height}x{width}"
    if name == "DEPTHWISE_CONV_2D":
        height, width = model.subgraphs[0].tensors[op.inputs[1]].shape[1:3]
        return f"DEPTHWISE_CONV_2D {height}x{width}"
    return name


def macs(model, names: dict[int, str], op) -> int:
    """Multiply-accumulates of one convolution or fully connected op (0 for the rest)."""
    tensors = model.subgraphs[0].tensors
    name = names[op.opcodeIndex]
    out = [int(d) for d in tensors[op.outputs[0]].shape]
    if name == "CONV_2D":
        _, kh, kw, cin = (int(d) for d in tensors[op.inputs[1]].shape)
        return int(np.prod(out)) * kh * kw * cin
    if name == "DEPTHWISE_CONV_2D":
        _, kh, kw, _ = (int(d) for d in tensors[op.inputs[1]].shape)
        return int(np.prod(out)) * kh * kw
    if name == "FULLY_CONNECTED":
        return int(np.prod(out)) * int(tensors[op.inputs[1]].shape[-1])
    return 0


def median_ms(content: bytes | None, path: Path | None = None) -> float:
    """Median over REPEATS of the mean invoke time of RUNS runs, XNNPACK on one thread, random inputs."""
    from ai_edge_litert.interpreter import Interpreter

    with contextlib.redirect_stderr(io.StringIO()):
        interpreter = Interpreter(model_content=content, model_path=str(path) if path else None, num_threads=1)
        interpreter.allocate_tensors()
    rng = np.random.default_rng(0)
    for detail in interpreter.get_input_details():
        dtype = detail["dtype"]
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            value = rng.integers(info.min, info.max, detail["shape"], endpoint=True).astype(dtype)
        else:
            value = rng.standard_normal(detail["shape"]).astype(dtype)
        interpreter.set_tensor(detail["index"], value)
    for _ in range(WARMUP):
        interpreter.invoke()
    means = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(RUNS):
            interpreter.invoke()
        means.append((time.perf_counter() - start) / RUNS * 1000)
    return statistics.median(means)


def profile(path: Path) -> dict:
    """Per-kind time, count and MACs of one artifact, and the whole graph's time."""
    model = load_model(path)
    names = op_names(model)
    per_kind: dict[str, dict[str, float]] = collections.defaultdict(lambda: {"ops": 0, "ms": 0.0, "macs": 0})
    for index, op in enumerate(model.subgraphs[0].operators):
        entry = per_kind[kind(model, names, op)]
        entry["ops"] += 1
        consumer = fused_consumer(model, names, index)
        if consumer is None:
            entry["ms"] += median_ms(cut_model(model, [index]))
        else:  # what the pad adds to its convolution: the pair less the convolution alone, at least 0
            pair, alone = median_ms(cut_model(model, [index, consumer])), median_ms(cut_model(model, [consumer]))
            entry["ms"] += max(0.0, pair - alone)
        entry["macs"] += macs(model, names, op)
    return {"kinds": dict(per_kind), "whole_ms": median_ms(None, path)}


def table(path: Path, result: dict, peak: float | None) -> list[str]:
    total = sum(k["ms"] for k in result["kinds"].values())
    lines = [
        f"### `{path.name}`",
        "",
        f"Whole graph {result['whole_ms']:.2f} ms; the ops timed one by one add up to {total:.2f} ms.",
        "",
        "| op | ops | ms | share | GMAC | GMAC/s | of peak |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, k in sorted(result["kinds"].items(), key=lambda item: -item[1]["ms"]):
        rate = k["macs"] / 1e9 / (k["ms"] / 1000) if k["macs"] else None
        cells = [
            name,
            str(k["ops"]),
            f"{k['ms']:.2f}",
            f"{k['ms'] / total:.0%}",
            f"{k['macs'] / 1e9:.3f}" if k["macs"] else "",
            f"{rate:.1f}" if rate else "",
            f"{rate / peak:.0%}" if rate and peak else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("artifacts", nargs="+", type=Path, help=".tflite files")
    parser.add_argument("--out", type=Path, help="write the Markdown tables here as well")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from mhp.bench.machine import describe_machine
    from mhp.util.fileio import write_text_atomic

    machine = describe_machine()
    lines = [
        "# Per-op profile",
        "",
        f"`{' '.join(['benchmarks/op_profile.py', *map(str, args.artifacts)])}` on {machine.cpu} "
        f"({machine.simd}), LiteRT XNNPACK, 1 thread; each time the median of {REPEATS} means of {RUNS} invokes.",
        "",
    ]
    for path in args.artifacts:
        if not path.is_file():
            sys.exit(f"error: {path} does not exist; export it first (make bench-peers writes runs/peers/export)")
        precision = "int8" if "int8" in path.name else "fp32"
        lines += table(path, profile(path), machine.peak_gmacs_per_s(1, precision))
    text = "\n".join(lines)
    print(text)
    if args.out:
        write_text_atomic(args.out, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
