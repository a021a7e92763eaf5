"""Pictures of a result: the 2D skeleton over the image, and the 3D skeleton from the front and the side."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from mhp.util.fileio import atomic_path
from mhp.util.optional import require

LEFT, RIGHT, CENTRE = (70, 130, 255), (255, 90, 60), (60, 220, 120)  # RGB


def joint_colour(name: str) -> tuple[int, int, int]:
    return LEFT if name.startswith("L_") else RIGHT if name.startswith("R_") else CENTRE


def draw_skeleton(
    image: np.ndarray, joints_img: np.ndarray, confidence: np.ndarray, bones: Sequence, names: Sequence[str]
) -> np.ndarray:
    """A copy of the RGB ``image`` with bones and joints drawn; faint where the confidence is low."""
    canvas = image.copy()
    scale = max(image.shape[:2]) / 640.0
    thickness, radius = max(1, round(2 * scale)), max(2, round(3 * scale))
    strength = np.clip(confidence / max(float(confidence.max()), 1e-6), 0.3, 1.0)
    for a, b in bones:
        colour = tuple(int(c * strength[b]) for c in joint_colour(names[b]))
        start, end = tuple(np.round(joints_img[a]).astype(int)), tuple(np.round(joints_img[b]).astype(int))
        cv2.line(canvas, start, end, colour, thickness, cv2.LINE_AA)
    for j, point in enumerate(np.round(joints_img).astype(int)):
        cv2.circle(canvas, tuple(point), radius, joint_colour(names[j]), -1, cv2.LINE_AA)
    return canvas


def track_colour(track_id: int) -> tuple[int, int, int]:
    """A distinct, bright RGB colour per track id (hues 137.5 degrees apart)."""
    hue = int((track_id * 137.508) % 360) // 2  # OpenCV hues are 0..179
    return tuple(int(c) for c in cv2.cvtColor(np.uint8([[[hue, 200, 255]]]), cv2.COLOR_HSV2RGB)[0, 0])


def draw_box(image: np.ndarray, box: np.ndarray, colour=(255, 255, 255), label: str = "") -> np.ndarray:
    x, y, w, h = np.round(box).astype(int)
    cv2.rectangle(image, (x, y), (x + w, y + h), colour, 1 if not label else 2, cv2.LINE_AA)
    if label:
        cv2.putText(image, label, (x + 3, y + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
    return image


def plot_3d(
    poses_rel_mm: Sequence[np.ndarray],
    bones: Sequence,
    names: Sequence[str],
    path: Path,
    *,
    title: str = "",
    reference_mm: np.ndarray | None = None,
) -> Path:
    """Root-relative 3D skeletons seen from the front and from the side (camera axes: x right, y down, z away);
    ``reference_mm`` (e.g. ground truth) is drawn dashed in grey. Written as a PNG to ``path``."""
    plt = require("matplotlib.pyplot")
    fig = figure_3d(poses_rel_mm, bones, names, title=title, reference_mm=reference_mm)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path


def figure_3d(
    poses_rel_mm: Sequence[np.ndarray],
    bones: Sequence,
    names: Sequence[str],
    *,
    title: str = "",
    reference_mm: np.ndarray | None = None,
):
    """The matplotlib figure :func:`plot_3d` writes. In each view the axis that points at the viewer (depth from
    the front, x from the side) has no tick labels: seen end-on they would print over one another."""
    matplotlib = require("matplotlib")
    matplotlib.use("Agg")
    plt = require("matplotlib.pyplot")
    ticker = require("matplotlib.ticker")
    fig = plt.figure(figsize=(9, 4.5), dpi=110)
    everything = np.concatenate([*poses_rel_mm, *([] if reference_mm is None else [reference_mm])])
    centre, half = everything.mean(axis=0), max(float(np.ptp(everything, axis=0).max()) / 2, 300.0)
    for index, (view, azimuth) in enumerate((("front", -90), ("side", 0))):
        ax = fig.add_subplot(1, 2, index + 1, projection="3d")
        for pose in poses_rel_mm:
            draw_bones(ax, pose, bones, names, style="-")
        if reference_mm is not None:
            draw_bones(ax, reference_mm, bones, names, style="--", colour="0.5")
        # plot (x, z, -y): the camera's up is -y, depth runs away from the viewer
        ax.set_xlim(centre[0] - half, centre[0] + half)
        ax.set_ylim(centre[2] - half, centre[2] + half)
        ax.set_zlim(-centre[1] - half, -centre[1] + half)
        ax.view_init(elev=10, azim=azimuth)
        end_on = ax.yaxis if view == "front" else ax.xaxis
        for axis, label in ((ax.xaxis, "x mm"), (ax.yaxis, "z mm"), (ax.zaxis, "-y mm")):
            axis.set_major_locator(ticker.MaxNLocator(4))
            axis.set_label_text("" if axis is end_on else label)
        end_on.set_major_formatter(ticker.NullFormatter())
        ax.set_title(view)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def draw_bones(ax, pose: np.ndarray, bones: Sequence, names: Sequence[str], *, style: str, colour=None) -> None:
    for a, b in bones:
        rgb = colour or tuple(c / 255 for c in joint_colour(names[b]))
        ax.plot([pose[a, 0], pose[b, 0]], [pose[a, 2], pose[b, 2]], [-pose[a, 1], -pose[b, 1]], style, color=rgb)
