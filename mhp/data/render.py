"""OpenCV renderer of the synthetic humans: shaded capsule bodies over random textures, occluders and noise.

Every random choice comes from the ``rng`` passed in, so one generator state gives one image bit for bit.
Colours are BGR ``uint8``. Left limbs are tinted toward a fixed warm hue and right limbs toward a fixed cool
hue for every person, so left and right can be told apart from any viewpoint.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass
from statistics import NormalDist

import cv2
import numpy as np

from mhp.data.body import SYNTH_JOINTS
from mhp.errors import MhpError

Color = tuple[int, int, int]
WARM_BGR: Color = (30, 110, 240)
COOL_BGR: Color = (235, 150, 20)
SIDE_TINT = 0.5
MIN_DEPTH_MM = 100.0
_SHIFT = 4  # cv2 fixed-point bits: coordinates are drawn with 1/16 pixel precision
_ONE = 1 << _SHIFT
_J = {name: i for i, name in enumerate(SYNTH_JOINTS)}
# Shading layers of every part: (radius fraction, brightness factor); inner layers move toward the light.
_LAYERS = ((1.0, 0.6), (0.78, 0.82), (0.52, 1.0), (0.26, 1.18))
# Capsules: (joint a, joint b, radius mm, colour slot, depth bias mm; positive = drawn earlier).
# fmt: off
_CAPSULES = (
    ("L_Hip", "R_Hip", 90, "trousers", 40),
    ("R_Hip", "R_Knee", 75, "right_leg", 0), ("R_Knee", "R_Ankle", 55, "right_shin", 0),
    ("R_Ankle", "R_Toe", 40, "right_shoe", 0), ("L_Hip", "L_Knee", 75, "left_leg", 0),
    ("L_Knee", "L_Ankle", 55, "left_shin", 0), ("L_Ankle", "L_Toe", 40, "left_shoe", 0),
    ("Neck", "Head", 50, "skin", 150),
    ("L_Shoulder", "L_Elbow", 50, "left_sleeve", 0), ("L_Elbow", "L_Wrist", 40, "left_forearm", 0),
    ("L_Wrist", "L_Hand", 35, "skin", 0), ("R_Shoulder", "R_Elbow", 50, "right_sleeve", 0),
    ("R_Elbow", "R_Wrist", 40, "right_forearm", 0), ("R_Wrist", "R_Hand", 35, "skin", 0),
)
# fmt: on
_TORSO = ("L_Shoulder", "R_Shoulder", "R_Hip", "L_Hip")
_TORSO_RADIUS, _SHOULDER_RADIUS, _HEAD_RADIUS = 120.0, 55.0, 100.0  # mm for the 1750 mm reference body
_TRUNK_MM = 460.0  # Pelvis-Spine-Thorax length of the reference body: radii scale with it
_TEXTURE_MAX = 512
_SINE = ((np.sin(np.arange(256) / 256 * 2 * math.pi) * 0.5 + 0.5) * 255).round().astype(np.uint8)


@dataclass(frozen=True)
class Appearance:
    """Colours of one person; sleeves, trouser legs and shoes already carry the left/right tint."""

    skin: Color
    hair: Color
    shirt: Color
    trousers: Color
    left_sleeve: Color
    right_sleeve: Color
    left_leg: Color
    right_leg: Color
    left_shoe: Color
    right_shoe: Color
    short_sleeves: bool = False
    shorts: bool = False

    def slot(self, name: str) -> Color:
        """Colour of a body-part slot (forearms and shins fall back to skin for short sleeves / shorts)."""
        if name.endswith("_forearm"):
            return self.skin if self.short_sleeves else getattr(self, name.replace("forearm", "sleeve"))
        if name.endswith("_shin"):
            return self.skin if self.shorts else getattr(self, name.replace("shin", "leg"))
        return getattr(self, name)


def _mix(a: Color | np.ndarray, b: Color, t: float) -> Color:
    r, g, b_ = (round((1.0 - t) * float(x) + t * float(y)) for x, y in zip(a, b, strict=True))
    return r, g, b_


def _hsv(h: float, s: float, v: float) -> Color:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return int(b * 255), int(g * 255), int(r * 255)


def sample_appearance(rng: np.random.Generator) -> Appearance:
    """Random skin, hair and clothes; left/right sleeves, legs and shoes tinted warm/cool by SIDE_TINT."""
    skin = _mix((175, 200, 240), (45, 65, 100), rng.uniform())
    skin = _mix(skin, (60, 90, 150), rng.uniform(0, 0.15))
    hair = _mix((20, 25, 30), (90, 170, 210), rng.uniform() ** 2.5)
    shirt = _hsv(rng.uniform(), rng.uniform(0.1, 0.9), rng.uniform(0.25, 0.95))
    trousers = _hsv(rng.uniform(), rng.uniform(0.0, 0.7), rng.uniform(0.12, 0.7))
    shoes = _hsv(rng.uniform(), rng.uniform(0.0, 0.5), rng.uniform(0.1, 0.6))
    sides = (("left", WARM_BGR), ("right", COOL_BGR))
    parts = (("sleeve", shirt), ("leg", trousers), ("shoe", shoes))
    tinted = {f"{side}_{part}": _mix(base, hue, SIDE_TINT) for side, hue in sides for part, base in parts}
    short_sleeves, shorts = bool(rng.random() < 0.25), bool(rng.random() < 0.15)
    return Appearance(skin, hair, shirt, trousers, **tinted, short_sleeves=short_sleeves, shorts=shorts)


def _fixed(points: np.ndarray) -> np.ndarray:
    """Pixel coordinates to cv2 fixed-point integers (clipped far outside any image)."""
    return np.round(np.clip(points, -1e5, 1e5) * _ONE).astype(np.int32)


def _shade(color: Color, factor: float) -> Color:
    add = 12 if factor > 1 else 0
    b, g, r = (min(255, int(c * factor + add)) for c in color)
    return b, g, r


def _project(points: np.ndarray, focal: np.ndarray, principal: np.ndarray) -> np.ndarray:
    return points[..., :2] / np.maximum(points[..., 2:], 1e-6) * focal + principal


def _person_parts(joints_cam: np.ndarray, app: Appearance, focal: np.ndarray, principal: np.ndarray) -> list:
    """Drawable parts of one person: ``(depth, kind, geometry, colour)``; parts behind the camera dropped."""
    joints_cam = np.asarray(joints_cam, np.float64)
    z = joints_cam[:, 2]
    uv = _project(joints_cam, focal, principal)
    trunk = np.linalg.norm(joints_cam[[_J["Spine"], _J["Thorax"]]] - joints_cam[[_J["Pelvis"], _J["Spine"]]], axis=1)
    f = float(focal[0]) * float(np.clip(trunk.sum() / _TRUNK_MM, 0.7, 1.4))  # focal x body size factor
    parts = []
    for a, b, radius, slot, bias in _CAPSULES:
        ia, ib = _J[a], _J[b]
        if min(z[ia], z[ib]) > MIN_DEPTH_MM:
            zm = (z[ia] + z[ib]) / 2.0
            parts.append((zm + bias, "capsule", (uv[ia], uv[ib], f * radius / zm), app.slot(slot)))
    torso = [_J[n] for n in _TORSO]
    ip, it, ils, irs = _J["Pelvis"], _J["Thorax"], _J["L_Shoulder"], _J["R_Shoulder"]
    if z[[*torso, ip, it]].min() > MIN_DEPTH_MM:
        zm = float(z[torso].mean())
        geom = (uv[torso], (uv[ip], uv[it], f * _TORSO_RADIUS / zm), (uv[ils], uv[irs], f * _SHOULDER_RADIUS / zm))
        parts.append((zm + 70.0, "torso", geom, app.shirt))
    if z[[_J["Head"], _J["Head_top"], _J["Nose"]]].min() > MIN_DEPTH_MM:
        parts.append((z[_J["Head"]], "head", (joints_cam, focal, principal), app))
    return parts


def _capsule(img: np.ndarray, p0: np.ndarray, p1: np.ndarray, radius: float, color, aa: int) -> None:
    a, b = _fixed(np.stack([p0, p1]))
    thickness = max(1, min(round(2.0 * float(radius)), 20000))
    cv2.line(img, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), color, thickness, aa, _SHIFT)


def _disk(img: np.ndarray, centre: np.ndarray, radius: float, color, aa: int) -> None:
    c = _fixed(centre)
    cv2.circle(img, (int(c[0]), int(c[1])), max(1, round(min(float(radius), 20000.0) * _ONE)), color, -1, aa, _SHIFT)


def _draw_part(img: np.ndarray, part: tuple, light: np.ndarray, mask: bool = False) -> None:
    """Draw one part with layered shading (or flat into a mask when ``mask``)."""
    _, kind, geom, color = part
    aa = cv2.LINE_8 if mask else cv2.LINE_AA
    if kind == "head":
        _draw_head(img, geom, color, light, mask)
        return
    ref = geom[2] if kind == "capsule" else geom[1][2]
    layers = _LAYERS[:1] if mask else _LAYERS if ref >= 3 else _LAYERS[:2]
    for frac, bright in layers:
        col = 255 if mask else _shade(color, bright)
        off = light * ref * (1.0 - frac) * 0.55
        if kind == "capsule":
            _capsule(img, geom[0] + off, geom[1] + off, geom[2] * frac, col, aa)
            continue
        quad, (p0, p1, r), (s0, s1, rs) = geom
        centre = quad.mean(axis=0)
        size = max(float(np.linalg.norm(quad - centre, axis=1).max()), 1e-6)
        shrink = max(0.0, 1.0 - ref * (1.0 - frac) / size)
        cv2.fillConvexPoly(img, _fixed(centre + (quad - centre) * shrink + off), col, aa, _SHIFT)
        _capsule(img, p0 + off, p1 + off, r * frac, col, aa)
        _capsule(img, s0 + off, s1 + off, rs * frac, col, aa)


def _draw_clipped(img: np.ndarray, centre: np.ndarray, radius: float, draw) -> None:
    """Run ``draw(canvas, offset)`` on a copy of the region around ``centre``; keep the result within ``radius``."""
    h, w = img.shape[:2]
    x0, y0 = (max(0, math.floor(v - radius) - 1) for v in centre)
    x1, y1 = min(w, math.ceil(centre[0] + radius) + 2), min(h, math.ceil(centre[1] + radius) + 2)
    if x1 <= x0 or y1 <= y0:
        return
    roi = img[y0:y1, x0:x1]
    offset = np.array([x0, y0], np.float64)
    canvas = roi.copy()
    draw(canvas, offset)
    clip = np.zeros(roi.shape[:2], np.uint8)
    if img.ndim == 2:  # a mask: hard clip
        _disk(clip, centre - offset, radius, 255, cv2.LINE_8)
        np.copyto(roi, canvas, where=clip > 0)
        return
    _disk(clip, centre - offset, radius, 255, cv2.LINE_AA)
    alpha = clip.astype(np.float32)[..., None] / 255.0
    roi[:] = (roi + (canvas.astype(np.float32) - roi) * alpha + 0.5).astype(np.uint8)


def _draw_head(img: np.ndarray, geom: tuple, app: Appearance, light: np.ndarray, mask: bool) -> None:
    """Skin sphere, hair toward the top and back, and a face disk with eyes, nose and mouth where it faces us."""
    joints, focal, principal = geom
    head, top, nose = joints[_J["Head"]], joints[_J["Head_top"]], joints[_J["Nose"]]
    up = (top - head) / max(float(np.linalg.norm(top - head)), 1e-6)
    face = (nose - head) / max(float(np.linalg.norm(nose - head)), 1e-6)
    view = head / float(np.linalg.norm(head))
    facing = -float(face @ view)  # 1: looking at the camera, -1: facing away
    away = max(0.0, -facing)
    head_mm = float(np.linalg.norm(top - head)) * _HEAD_RADIUS / 110.0  # Head_top is 110 mm above the centre
    hair = head + head_mm * ((0.45 - 0.25 * away) * up - 0.3 * face)
    px_per_mm = float(focal[0]) / head[2]
    radius, hair_px = head_mm * px_per_mm, head_mm * (0.85 + 0.2 * away) * px_per_mm
    centre, hair_uv = _project(head, focal, principal), _project(hair, focal, principal)
    aa = cv2.LINE_8 if mask else cv2.LINE_AA
    skin_layers = _LAYERS[:1] if mask else _LAYERS if radius >= 3 else _LAYERS[:2]
    for frac, bright in skin_layers:
        col = 255 if mask else _shade(app.skin, bright)
        _disk(img, centre + light * radius * (1 - frac) * 0.55, radius * frac, col, aa)

    def draw_hair(canvas: np.ndarray, offset: np.ndarray) -> None:
        for frac, bright in ((1.0, 0.7),) if mask else ((1.0, 0.7), (0.7, 0.9)):
            c = hair_uv - offset + light * hair_px * (1 - frac) * 0.4
            _disk(canvas, c, hair_px * frac, 255 if mask else _shade(app.hair, bright), aa)

    _draw_clipped(img, centre, 1.2 * radius, draw_hair)  # hair may stand up to 20 % off the skull
    if facing < -0.2:  # the nose is hidden behind the head
        return
    # The face: a circle on the sphere around a slightly lowered face direction, seen as an ellipse.
    normal = face - 0.25 * up
    normal /= float(np.linalg.norm(normal))
    cos = -float(normal @ view)
    if cos > 0.05 and not mask:
        c = _fixed(_project(head + 0.64 * head_mm * normal, focal, principal))
        n2 = _project(head + head_mm * normal, focal, principal) - centre
        angle = math.degrees(math.atan2(n2[1], n2[0]))
        axes = _fixed(np.array([0.77 * radius * cos, 0.77 * radius]))
        cv2.ellipse(img, c, axes, angle, 0, 360, _shade(app.skin, 1.0), -1, aa, _SHIFT)
    features = [(joints[_J[eye]], 0.12, (25, 25, 35)) for eye in ("L_Eye", "R_Eye")]
    features = [f for f in features if -float((f[0] - head) @ view) / float(np.linalg.norm(f[0] - head)) > 0.15]
    if facing > 0.1:
        features.append((nose + (head - top) * 0.4, 0.12, (60, 60, 150)))  # mouth
    features.append((nose, 0.16, _shade(app.skin, 0.65)))
    for point, size, color in features:
        _disk(img, _project(point, focal, principal), max(1.0, radius * size), 255 if mask else color, aa)


def _colour_ramp(rng: np.random.Generator) -> np.ndarray:
    """A ``(256, 1, 3)`` uint8 lookup table through 2-4 random colours."""
    k = int(rng.integers(2, 5))
    stops = rng.uniform(0, 255, (k, 3))
    stops = stops * rng.uniform(0.3, 1.0) + rng.uniform(0, 255 * 0.3)
    lut = np.stack([np.interp(np.arange(256), np.linspace(0, 255, k), stops[:, c]) for c in range(3)], axis=-1)
    return np.clip(lut, 0, 255).astype(np.uint8)[:, None, :]


def _field(rng: np.random.Generator, w: int, h: int, px: float) -> np.ndarray:
    """A random ``(h, w)`` uint8 pattern (smooth noise, stripes, checkerboard, gradient, blobs); ``px``: pixel size."""
    kind = int(rng.integers(5))
    if kind == 0:  # low-frequency noise: a tiny random grid, cubic to 1/8 size, then linear
        small = rng.uniform(0, 255, (int(rng.integers(2, 12)), int(rng.integers(2, 12)))).astype(np.float32)
        mid = cv2.resize(small, (max(2, w // 8), max(2, h // 8)), interpolation=cv2.INTER_CUBIC)
        return cv2.resize(mid.clip(0, 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
    if kind in (1, 2):  # stripes or checkerboard at a random angle and period (in output pixels)
        period = rng.uniform(6, 80) / px
        angle = rng.uniform(0, math.pi)
        c, s = math.cos(angle), math.sin(angle)
        x, y = np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)
        if kind == 1:
            phase = np.add.outer(y * (s * 256 / period), x * (c * 256 / period) + rng.uniform(0, 256))
            return cv2.LUT((phase.astype(np.int32) & 255).astype(np.uint8), _SINE)
        tile = np.array([[0, 255], [255, 0]], np.uint8)
        m = np.array([[c, s, 0], [-s, c, 0]], np.float32) / period
        return cv2.warpAffine(
            tile, m, (w, h), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_WRAP
        )
    if kind == 3:  # gradient between random corner values
        corners = rng.uniform(0, 255, (2, 2)).astype(np.float32)
        return cv2.resize(corners, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.uint8)
    small_w, small_h = max(2, w // 4), max(2, h // 4)  # random soft blobs, drawn small and upsampled
    blobs = np.full((small_h, small_w), int(rng.integers(256)), np.uint8)
    for _ in range(int(rng.integers(5, 25))):
        centre = (int(rng.integers(small_w)), int(rng.integers(small_h)))
        axes = (int(rng.integers(2, max(3, small_w // 4))), int(rng.integers(2, max(3, small_h // 4))))
        cv2.ellipse(blobs, centre, axes, float(rng.uniform(0, 180)), 0, 360, int(rng.integers(256)), -1, cv2.LINE_AA)
    return cv2.resize(blobs, (w, h), interpolation=cv2.INTER_LINEAR)


def random_texture(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A random ``(h, w, 3)`` uint8 texture: 1-2 blended patterns (made at most _TEXTURE_MAX wide) coloured."""
    px = max(1.0, max(w, h) / _TEXTURE_MAX)
    ws, hs = max(1, round(w / px)), max(1, round(h / px))
    field = _field(rng, ws, hs, px)
    if rng.random() < 0.4:
        field = cv2.addWeighted(field, 0.6, _field(rng, ws, hs, px), 0.4, 0.0)
    texture = cv2.LUT(cv2.cvtColor(field, cv2.COLOR_GRAY2BGR), _colour_ramp(rng))
    return texture if (ws, hs) == (w, h) else cv2.resize(texture, (w, h), interpolation=cv2.INTER_LINEAR)


def random_background(rng: np.random.Generator, image_size: tuple[int, int]) -> np.ndarray:
    """A ``(H, W, 3)`` background: a texture, often split into a wall and a floor at a tilted horizon."""
    w, h = image_size
    img = random_texture(rng, w, h)
    if rng.random() < 0.5:
        y0, y1 = rng.uniform(0.3, 0.85, 2) * h
        floor = np.array([[0, y0], [w, y1], [w, h + 1], [0, h + 1]])
        mask = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(mask, _fixed(floor), 255, cv2.LINE_8, _SHIFT)
        cv2.copyTo(random_texture(rng, w, h), mask, img)
    return img


def _draw_occluder(rng: np.random.Generator, img: np.ndarray) -> None:
    """Paste a random textured rectangle, ellipse or polygon somewhere in the image."""
    h, w = img.shape[:2]
    ow, oh = int(rng.uniform(0.08, 0.35) * w) + 2, int(rng.uniform(0.08, 0.4) * h) + 2
    x0, y0 = int(rng.integers(-ow // 2, w - ow // 2)), int(rng.integers(-oh // 2, h - oh // 2))
    mask = np.zeros((oh, ow), np.uint8)
    kind = int(rng.integers(3))
    if kind == 0:
        cv2.rectangle(mask, (0, 0), (ow - 1, oh - 1), 255, -1)
    elif kind == 1:
        cv2.ellipse(mask, (ow // 2, oh // 2), (ow // 2, oh // 2), 0, 0, 360, 255, -1, cv2.LINE_AA)
    else:
        angles = np.sort(rng.uniform(0, 2 * math.pi, int(rng.integers(3, 8))))
        pts = np.stack([np.cos(angles), np.sin(angles)], -1) * rng.uniform(0.5, 1.0, (len(angles), 1))
        cv2.fillPoly(mask, [_fixed((pts * 0.5 + 0.5) * [ow - 1, oh - 1])], 255, cv2.LINE_AA, _SHIFT)
    xa, ya, xb, yb = max(0, x0), max(0, y0), min(w, x0 + ow), min(h, y0 + oh)
    if xb <= xa or yb <= ya:
        return
    texture = random_texture(rng, xb - xa, yb - ya)
    cv2.copyTo(texture, mask[ya - y0 : yb - y0, xa - x0 : xb - x0], img[ya:yb, xa:xb])


def _add_noise(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Add Gaussian noise, sigma in [0, 6] (quantile lookup of random bytes), and maybe a slight blur, in place."""
    sigma = rng.uniform(0.0, 6.0)
    if sigma >= 0.5:
        lut = np.clip(np.round(_NORMAL_QUANTILES * sigma + 128.0), 0, 255).astype(np.uint8)
        words = rng.integers(0, 2**64 - 1, (img.size + 7) // 8, dtype=np.uint64, endpoint=True)
        noise = words.view(np.uint8)[: img.size].reshape(img.shape)
        cv2.addWeighted(img, 1.0, cv2.LUT(noise, lut, dst=noise), 1.0, -128.0, dst=img)
    if rng.random() < 0.25:
        cv2.GaussianBlur(img, (3, 3), rng.uniform(0.4, 1.0), dst=img)
    return img


_NORMAL_QUANTILES = np.array([NormalDist().inv_cdf((i + 0.5) / 256) for i in range(256)])


def _all_parts(people: list, focal: np.ndarray, principal: np.ndarray) -> list:
    """Every part of every person, far to near (painter's algorithm; ties keep the listed order)."""
    focal, principal = np.asarray(focal, np.float64), np.asarray(principal, np.float64)
    for joints, _ in people:
        if np.shape(joints) != (len(SYNTH_JOINTS), 3):
            raise MhpError(f"each person needs ({len(SYNTH_JOINTS)}, 3) camera-space joints, got {np.shape(joints)}")
    parts = [p for joints, app in people for p in _person_parts(joints, app, focal, principal)]
    order = sorted(range(len(parts)), key=lambda i: (-parts[i][0], i))
    return [parts[i] for i in order]


def render_scene(
    rng: np.random.Generator,
    image_size: tuple[int, int],
    focal: np.ndarray,
    principal: np.ndarray,
    people: list[tuple[np.ndarray, Appearance]],
    *,
    occluders: bool = True,
    noise: bool = True,
    background: np.ndarray | None = None,
) -> np.ndarray:
    """Render ``people`` (27x3 camera-space SYNTH_JOINTS, appearance) into a ``(H, W, 3)`` uint8 BGR image."""
    w, h = image_size
    img = random_background(rng, image_size) if background is None else np.array(background, np.uint8, copy=True)
    if img.shape != (h, w, 3):
        raise MhpError(f"background must be ({h}, {w}, 3) for image_size {image_size}, got {img.shape}")
    n_occ = int(rng.integers(0, 4)) if occluders else 0
    front = rng.random(n_occ) < 0.4
    for _ in range(int((~front).sum())):
        _draw_occluder(rng, img)
    angle = rng.uniform(-150.0, -30.0) * math.pi / 180.0
    light = np.array([math.cos(angle), math.sin(angle)])
    for part in _all_parts(people, focal, principal):
        _draw_part(img, part, light)
    for _ in range(int(front.sum())):
        _draw_occluder(rng, img)
    return _add_noise(rng, img) if noise else img


def render_silhouette(
    image_size: tuple[int, int], focal: np.ndarray, principal: np.ndarray, people: list[tuple[np.ndarray, Appearance]]
) -> np.ndarray:
    """Boolean ``(H, W)`` mask of the same body parts :func:`render_scene` draws (no background or noise)."""
    w, h = image_size
    mask = np.zeros((h, w), np.uint8)
    for part in _all_parts(people, focal, principal):
        _draw_part(mask, part, np.zeros(2), mask=True)
    return mask > 0
