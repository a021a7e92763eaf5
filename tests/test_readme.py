"""The README's model example runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_model_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    example = next(b for b in blocks if "create_model" in b)
    scope: dict = {}
    exec(compile(example, "README.md", "exec"), scope)
    assert tuple(scope["coords"].shape) == (1, 18, 3)
    assert tuple(scope["logits"].shape) == (1, 576, 32, 32)
