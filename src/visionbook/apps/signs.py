"""Traffic-sign-like images drawn procedurally, for a driving demo offline.

Real traffic-sign datasets cannot be downloaded here, so each sign is drawn
from simple polygons (outline shape, colours, an inner symbol) and then
spoiled the way a camera spoils real signs: random position, size and
rotation, a squashed aspect (seen at an angle), colour and brightness
shifts, haze, blur, sensor noise, a cluttered background with sign-coloured
distractors, and an occluding object.  Every image comes from a seeded
generator, so the same call always returns the same pixels.

Drawing happens at twice the output size and is averaged down, which gives
soft (anti-aliased) edges as a camera does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage
from skimage import draw

from visionbook import checks

#: The classes, in label order.  Pairs that share colours or outlines
#: (stop / no entry, yield / warning, ahead only / turn right) make the task
#: harder than telling colours apart.
SIGN_CLASSES: tuple[str, ...] = (
    "stop",
    "no_entry",
    "no_vehicles",
    "yield",
    "warning",
    "ahead_only",
    "turn_right",
    "priority_road",
    "parking",
)

RED = (0.80, 0.08, 0.10)
WHITE = (0.95, 0.95, 0.95)
BLUE = (0.08, 0.30, 0.75)
YELLOW = (0.96, 0.78, 0.08)
BLACK = (0.05, 0.05, 0.05)

#: Smallest output size at which the inner symbols are still drawn legibly.
MIN_SIZE = 16

#: Largest output size (each sign is drawn at twice this size first) and
#: number of background shapes :func:`render_signs` accepts.
MAX_SIZE = 1024
MAX_CLUTTER = 100


def _regular(sides: int, radius: float = 1.0, turn: float = 0.0) -> np.ndarray:
    """Vertices (x, y) of a regular polygon; y points down as in an image."""
    angles = np.deg2rad(turn) + 2 * np.pi * np.arange(sides) / sides
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)


def _arrow(turn: float = 0.0) -> np.ndarray:
    """An arrow pointing up (turn 0) or rotated clockwise by ``turn`` degrees."""
    points = np.array(
        [[0.0, -0.62], [0.42, -0.12], [0.14, -0.12], [0.14, 0.58],
         [-0.14, 0.58], [-0.14, -0.12], [-0.42, -0.12]]
    )
    angle = np.deg2rad(turn)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return points @ rotation.T


_CIRCLE = _regular(40)
_OCTAGON = _regular(8, 1.0, 22.5)
_TRIANGLE_UP = _regular(3, 1.0, -90.0)
_TRIANGLE_DOWN = _regular(3, 1.0, 90.0)
_DIAMOND = _regular(4, 1.0, -90.0)

#: Each sign is a list of (polygon in unit coordinates, colour), painted in order.
_LAYERS: dict[str, list[tuple[np.ndarray, tuple[float, float, float]]]] = {
    "stop": [(_OCTAGON, WHITE), (_OCTAGON * 0.88, RED), (_rect(-0.6, -0.16, 0.6, 0.16), WHITE)],
    "no_entry": [(_CIRCLE, RED), (_rect(-0.65, -0.17, 0.65, 0.17), WHITE)],
    "no_vehicles": [(_CIRCLE, RED), (_CIRCLE * 0.72, WHITE)],
    "yield": [(_TRIANGLE_DOWN, RED), (_TRIANGLE_DOWN * 0.55, WHITE)],
    "warning": [
        (_TRIANGLE_UP, RED),
        (_TRIANGLE_UP * 0.58, WHITE),
        (_rect(-0.08, -0.30, 0.08, 0.12), BLACK),
        (_rect(-0.08, 0.2, 0.08, 0.34), BLACK),
    ],
    "ahead_only": [(_CIRCLE, BLUE), (_arrow(0.0), WHITE)],
    "turn_right": [(_CIRCLE, BLUE), (_arrow(90.0), WHITE)],
    "priority_road": [(_DIAMOND, WHITE), (_DIAMOND * 0.7, YELLOW)],
    "parking": [
        (_rect(-0.82, -0.82, 0.82, 0.82), BLUE),
        (_rect(-0.36, -0.58, 0.34, 0.08), WHITE),
        (_rect(-0.36, -0.58, -0.12, 0.62), WHITE),
        (_rect(-0.12, -0.38, 0.12, -0.12), BLUE),
    ],
}


def class_index(name_or_index: str | int) -> int:
    """The label of a class given by name or index, checked."""
    if isinstance(name_or_index, str):
        if name_or_index not in SIGN_CLASSES:
            raise ValueError(
                f"unknown sign class {name_or_index!r}: choose one of {', '.join(SIGN_CLASSES)}."
            )
        return SIGN_CLASSES.index(name_or_index)
    if isinstance(name_or_index, (bool, np.bool_)) or not isinstance(name_or_index, (int, np.integer)):
        raise TypeError(f"a sign class is a name or an integer index, got {name_or_index!r}.")
    if not 0 <= name_or_index < len(SIGN_CLASSES):
        raise ValueError(
            f"sign class index {name_or_index} is outside 0..{len(SIGN_CLASSES) - 1}: "
            f"there are {len(SIGN_CLASSES)} classes ({', '.join(SIGN_CLASSES)})."
        )
    return int(name_or_index)


def _fill(canvas: np.ndarray, polygon_xy: np.ndarray, colour: Sequence[float]) -> None:
    rows, cols = draw.polygon(polygon_xy[:, 1], polygon_xy[:, 0], shape=canvas.shape[:2])
    canvas[rows, cols] = colour


def _background(rng: np.random.Generator, size: int, clutter: int) -> np.ndarray:
    """A smooth random backdrop with ``clutter`` coloured shapes on it."""
    base = rng.uniform(0.15, 0.85, 3)
    tilt = rng.uniform(-0.25, 0.25, 3)
    ramp = np.linspace(-1, 1, size)[:, None, None] * tilt
    canvas = np.clip(base + ramp + np.zeros((size, size, 3)), 0, 1)
    sign_colours = (RED, BLUE, YELLOW, WHITE)
    for _ in range(clutter):
        colour = (
            np.array(sign_colours[rng.integers(len(sign_colours))])
            if rng.random() < 0.35
            else rng.uniform(0, 1, 3)
        )
        kind = rng.integers(3)
        centre = rng.uniform(0, size, 2)
        if kind == 0:  # an ellipse (a tree, a head, a wheel)
            rows, cols = draw.ellipse(
                centre[1], centre[0], rng.uniform(0.05, 0.25) * size,
                rng.uniform(0.05, 0.25) * size, shape=canvas.shape[:2],
                rotation=rng.uniform(0, np.pi),
            )
            canvas[rows, cols] = colour
        else:  # a block (a building, a car) or a pole (thin and long)
            half = rng.uniform(0.03, 0.3, 2) * size
            if kind == 2:
                half = np.array([rng.uniform(0.02, 0.05), rng.uniform(0.3, 0.6)]) * size
            _fill(canvas, _rect(*(centre - half), *(centre + half)), colour)
    return canvas


def _draw_one(
    label: int,
    rng: np.random.Generator,
    size: int,
    *,
    clean: bool,
    occlusion: float,
    clutter: int,
    rotation: float,
) -> np.ndarray:
    big = 2 * size
    if clean:
        canvas = np.full((big, big, 3), 0.55)
        radius, centre, angle, squash = 0.42 * big, np.array([big / 2, big / 2]), 0.0, 1.0
    else:
        canvas = _background(rng, big, clutter)
        radius = rng.uniform(0.26, 0.44) * big
        margin = radius * 0.9
        centre = rng.uniform(margin, big - margin, 2)
        angle = np.deg2rad(rng.uniform(-rotation, rotation))
        squash = rng.uniform(0.75, 1.0)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    for polygon, colour in _LAYERS[SIGN_CLASSES[label]]:
        points = (polygon * [squash, 1.0]) @ turn.T * radius + centre
        _fill(canvas, points, colour)
    if not clean and occlusion > 0 and rng.random() < 0.5:
        # An object in front of the sign (a branch, a lamp post, a sticker).
        # Its area is at most ``occlusion`` times the sign's bounding square.
        area = rng.uniform(0.3, 1.0) * occlusion * (2 * radius) ** 2
        aspect = np.exp(rng.uniform(-0.9, 0.9))
        width, height = np.sqrt(area * aspect), np.sqrt(area / aspect)
        corner = centre + rng.uniform(-0.8, 0.8, 2) * radius - [width / 2, height / 2]
        shade = rng.uniform(0.0, 0.45, 3) * rng.uniform(0.5, 1.0)
        _fill(canvas, _rect(corner[0], corner[1], corner[0] + width, corner[1] + height), shade)
    image = canvas.reshape(size, 2, size, 2, 3).mean(axis=(1, 3))
    if clean:
        return image
    gain = rng.uniform(0.8, 1.15, 3) * rng.uniform(0.55, 1.2)  # white balance and exposure
    haze = rng.uniform(0.0, 0.3)
    image = (1 - haze) * image * gain + haze * rng.uniform(0.5, 0.9)
    blur = rng.uniform(0.0, 0.9)
    if blur > 0.2:
        image = ndimage.gaussian_filter(image, sigma=(blur, blur, 0))
    image = image + rng.normal(0.0, rng.uniform(0.01, 0.05), image.shape)
    return np.clip(image, 0.0, 1.0)


def render_signs(
    count: int | None = None,
    *,
    labels: Sequence[int | str] | None = None,
    size: int = 32,
    seed: int = 0,
    occlusion: float = 0.3,
    clutter: int = 4,
    rotation: float = 15.0,
    clean: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw sign images; return ``(images, labels)``.

    ``images`` is float32 ``(n, size, size, 3)`` in [0, 1]; ``labels`` are
    int64 indices into :data:`SIGN_CLASSES`.  Give either ``count`` (classes
    cycle in order, so every class gets ``count // 9`` or one more, then the
    order is shuffled) or explicit ``labels`` (names or indices).
    ``occlusion`` is the largest share of the sign an occluder may cover
    (half of the signs get one), ``clutter`` the number of background
    shapes, ``rotation`` the largest tilt in degrees; ``clean=True`` draws
    the plain sign, centred, on grey, for a legend.  The same arguments
    always give the same images.
    """
    if (count is None) == (labels is None):
        raise ValueError("pass either count (how many signs) or labels (which signs), not both or neither.")
    seed = checks.check_seed(seed)
    if isinstance(size, (int, np.integer)) and not isinstance(size, (bool, np.bool_)) and size < MIN_SIZE:
        raise ValueError(
            f"size must be an integer of at least {MIN_SIZE} pixels (smaller signs lose "
            f"their symbols), got {size!r}."
        )
    size = checks.check_positive_int(size, "size", minimum=MIN_SIZE, maximum=MAX_SIZE)
    if labels is None:
        count = checks.check_count(count, "count", item_bytes=12 * size * size, minimum=0, what="signs")
        rng_order = np.random.default_rng([seed, 1])
        chosen = rng_order.permutation(np.arange(count) % len(SIGN_CLASSES))
    else:
        if isinstance(labels, (str, bytes)) or not isinstance(labels, (Sequence, np.ndarray)) or np.ndim(labels) != 1:
            raise TypeError(
                f"labels must be a list of sign classes (names or indices), got {labels!r}: "
                "for one sign pass a list of one, e.g. ['stop']."
            )
        checks.check_count(len(labels), "len(labels)", item_bytes=12 * size * size, minimum=0, what="signs")
        chosen = np.array([class_index(label) for label in labels], dtype=np.int64)
    checks.check_number(
        occlusion, "occlusion", low=0.0, high=0.6,
        fix="it is the share of the sign that may be hidden; above 0.6 the class is no longer visible",
    )
    clutter = checks.check_positive_int(clutter, "clutter", minimum=0, maximum=MAX_CLUTTER)
    checks.check_number(
        rotation, "rotation", low=0.0, high=45.0,
        fix="degrees; beyond 45 an 'ahead only' arrow turns into a 'turn right' one",
    )
    clean = checks.check_flag(clean, "clean")
    rng = np.random.default_rng([seed, 2])
    images = np.zeros((len(chosen), size, size, 3), np.float32)
    for i, label in enumerate(chosen):
        images[i] = _draw_one(
            int(label), rng, size, clean=clean, occlusion=occlusion, clutter=clutter, rotation=rotation
        )
    return images, chosen.astype(np.int64)
