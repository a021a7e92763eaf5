"""The synthetic-humans renderer: determinism, body coverage, left/right colours, depth order, masks."""

import math

import cv2
import numpy as np
import pytest

from mhp.data.body import (
    POSE_PARAMS,
    POSE_SIZE,
    SYNTH_JOINTS,
    BodyShape,
    body_to_camera,
    pose_joints,
    sample_camera,
    sample_placement,
    sample_pose,
    sample_shape,
)
from mhp.data.render import (
    COOL_BGR,
    WARM_BGR,
    random_background,
    render_scene,
    render_silhouette,
    sample_appearance,
)
from mhp.errors import MhpError

J = {name: i for i, name in enumerate(SYNTH_JOINTS)}
SIZE = (320, 256)  # (W, H)


def random_people(rng, size, focal, principal, n=1):
    people = []
    for _ in range(n):
        body = pose_joints(sample_shape(rng), sample_pose(rng))
        yaw, pitch, roll, root = sample_placement(rng, size, focal, principal)
        people.append((body_to_camera(body, yaw, pitch, roll, root), sample_appearance(rng)))
    return people


def scene(seed, n=1, size=SIZE):
    rng = np.random.default_rng(seed)
    focal, principal = sample_camera(rng, size)
    return focal, principal, random_people(rng, size, focal, principal, n)


def project(joints, focal, principal):
    return joints[:, :2] / joints[:, 2:] * focal + principal


def front_person(yaw=0.0, depth=3000.0, **named):
    pose = np.zeros(POSE_SIZE)
    for name, value in named.items():
        pose[POSE_PARAMS.index(name)] = value
    return body_to_camera(pose_joints(BodyShape(), pose), yaw, 0, 0, [0.0, 0.0, depth])


def test_render_is_deterministic_and_well_formed():
    focal, principal, people = scene(0, n=2)
    a = render_scene(np.random.default_rng(1), SIZE, focal, principal, people)
    b = render_scene(np.random.default_rng(1), SIZE, focal, principal, people)
    c = render_scene(np.random.default_rng(2), SIZE, focal, principal, people)
    assert a.shape == (256, 320, 3)
    assert a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.std() > 5  # a textured image, not a flat fill
    np.testing.assert_array_equal(
        random_background(np.random.default_rng(3), SIZE), random_background(np.random.default_rng(3), SIZE)
    )


@pytest.mark.parametrize("seed", range(12))
def test_every_joint_inside_the_image_lands_on_the_body(seed):
    focal, principal, people = scene(seed)
    black = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    img = render_scene(
        np.random.default_rng(seed), SIZE, focal, principal, people, occluders=False, noise=False, background=black
    )
    mask = render_silhouette(SIZE, focal, principal, people)
    assert mask.shape == (SIZE[1], SIZE[0])
    assert mask.dtype == bool
    uv = project(people[0][0], focal, principal)
    inside = (uv[:, 0] >= 0) & (uv[:, 0] <= SIZE[0] - 1) & (uv[:, 1] >= 0) & (uv[:, 1] <= SIZE[1] - 1)
    assert inside.sum() >= 10
    for name, (u, v), ok in zip(SYNTH_JOINTS, uv, inside, strict=True):
        if ok:
            assert img[round(v), round(u)].max() > 0, name
            # The hard-edged mask: one of the pixel centres around the sub-pixel joint is inside.
            corners = mask[math.floor(v) : math.floor(v) + 2, math.floor(u) : math.floor(u) + 2]
            assert corners.any(), name
    # The silhouette and the drawn pixels agree up to anti-aliased edges.
    drawn = img.max(axis=2) > 0
    assert (drawn & mask).sum() >= 0.95 * mask.sum()
    grown = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert (drawn & ~grown).sum() <= 0.01 * mask.sum()


def test_nothing_is_drawn_for_people_behind_the_camera():
    focal, principal = np.array([300.0, 300.0]), np.array([160.0, 128.0])
    background = np.full((SIZE[1], SIZE[0], 3), 7, np.uint8)
    behind = front_person(depth=-3000.0)
    straddling = front_person(depth=0.0)
    app = sample_appearance(np.random.default_rng(0))
    img = render_scene(
        np.random.default_rng(0),
        SIZE,
        focal,
        principal,
        [(behind, app)],
        occluders=False,
        noise=False,
        background=background,
    )
    np.testing.assert_array_equal(img, background)
    render_scene(np.random.default_rng(0), SIZE, focal, principal, [(straddling, app)], occluders=False, noise=False)
    assert not render_silhouette(SIZE, focal, principal, [(behind, app)]).any()


def mean_patch(img, point, r=2):
    u, v = np.round(point).astype(int)
    return img[v - r : v + r + 1, u - r : u + r + 1].reshape(-1, 3).astype(float).mean(axis=0)


def warmth(bgr):
    return (bgr[2] - bgr[0]) / max(bgr.sum(), 1.0)


@pytest.mark.parametrize("seed", range(8))
def test_left_and_right_limbs_have_different_colours(seed):
    joints = front_person(l_shoulder_abd=25, r_shoulder_abd=25, l_hip_abd=8, r_hip_abd=8)
    app = sample_appearance(np.random.default_rng(seed))
    focal, principal = np.array([600.0, 600.0]), np.array([160.0, 128.0])
    black = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    img = render_scene(
        np.random.default_rng(seed),
        SIZE,
        focal,
        principal,
        [(joints, app)],
        occluders=False,
        noise=False,
        background=black,
    )
    uv = project(joints, focal, principal)
    assert uv[J["L_Hand"], 0] > uv[J["R_Hand"], 0]  # facing the camera, the left hand is on the image right
    for a, b in (("Shoulder", "Elbow"), ("Hip", "Knee")):
        left = mean_patch(img, (uv[J[f"L_{a}"]] + uv[J[f"L_{b}"]]) / 2)
        right = mean_patch(img, (uv[J[f"R_{a}"]] + uv[J[f"R_{b}"]]) / 2)
        assert np.abs(left - right).max() > 30
        assert warmth(left) > warmth(right) + 0.1
    assert app.left_sleeve != app.right_sleeve
    assert warmth(np.array(WARM_BGR, float)) > 0 > warmth(np.array(COOL_BGR, float))


def test_nearer_people_are_drawn_over_farther_ones():
    focal, principal = np.array([500.0, 500.0]), np.array([160.0, 128.0])
    rng = np.random.default_rng(0)
    near_app, far_app = sample_appearance(rng), sample_appearance(rng)
    near, far = front_person(depth=3000.0), front_person(depth=6000.0)
    black = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    chest = project(near, focal, principal)[J["Spine"]]
    for people in ([(far, far_app), (near, near_app)], [(near, near_app), (far, far_app)]):
        img = render_scene(
            np.random.default_rng(1), SIZE, focal, principal, people, occluders=False, noise=False, background=black
        )
        alone = render_scene(
            np.random.default_rng(1),
            SIZE,
            focal,
            principal,
            [(near, near_app)],
            occluders=False,
            noise=False,
            background=black,
        )
        np.testing.assert_array_equal(mean_patch(img, chest), mean_patch(alone, chest))


def test_face_marker_only_when_facing_the_camera():
    focal, principal = np.array([1000.0, 1000.0]), np.array([160.0, 128.0])
    app = sample_appearance(np.random.default_rng(0))
    black = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    eye_colour = np.array([25, 25, 35])
    for yaw, visible in ((0.0, True), (180.0, False)):
        joints = front_person(yaw=yaw, depth=2500.0) + np.array([0.0, 800.0, 0.0])  # head near the image centre
        img = render_scene(
            np.random.default_rng(0),
            SIZE,
            focal,
            principal,
            [(joints, app)],
            occluders=False,
            noise=False,
            background=black,
        )
        u, v = np.round(project(joints, focal, principal)[J["L_Eye"]]).astype(int)
        assert np.array_equal(img[v, u], eye_colour) == visible


def test_occluders_and_noise_change_the_image():
    """Noise changes pixels; occluders paint patches where, with a black background, only black can be: outside
    the person's silhouette (measured by render_silhouette, not by the renderer's own record of what it drew).
    Mutation tried: ``_draw_occluder`` returning at once fails the occluder part (no seed paints a patch)."""
    focal, principal, people = scene(5)
    black = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    silhouette = render_silhouette(SIZE, focal, principal, people).astype(np.uint8)
    outside = cv2.dilate(silhouette, np.ones((5, 5), np.uint8)) == 0  # 2 px of anti-aliased edge are the person's
    clean = render_scene(
        np.random.default_rng(9), SIZE, focal, principal, people, occluders=False, noise=False, background=black
    )
    assert not clean[outside].any()  # the person alone: everything outside the silhouette stays black
    changed, patched = 0, 0
    smallest = 0.5 * (0.08 * SIZE[0]) * (0.08 * SIZE[1])  # half the smallest occluder (it may be half off-image)
    for seed in range(8):
        noisy = render_scene(
            np.random.default_rng(seed), SIZE, focal, principal, people, occluders=False, background=black
        )
        changed += int(not np.array_equal(noisy, clean))
        occluded = render_scene(
            np.random.default_rng(seed), SIZE, focal, principal, people, noise=False, background=black
        )
        painted = occluded.any(axis=2) & outside
        patched += int(painted.sum() >= smallest)
    assert changed >= 6
    assert patched >= 4  # 0-3 occluders per image: most of 8 images get at least one patch beside the person


def test_bad_inputs_raise():
    focal, principal, people = scene(0)
    with pytest.raises(MhpError):
        render_scene(
            np.random.default_rng(0), SIZE, focal, principal, people, background=np.zeros((10, 10, 3), np.uint8)
        )
    with pytest.raises(MhpError):
        render_silhouette(SIZE, focal, principal, [(np.zeros((17, 3)), people[0][1])])
