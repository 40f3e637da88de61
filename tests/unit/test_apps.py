"""visionbook.apps: code composer, sign renderer, cell helpers (Part IV)."""

import numpy as np
import pytest

from visionbook import data
from visionbook.apps import cells, codes, signs


@pytest.fixture(scope="module")
def digits():
    return data.load_digits_images()


# --------------------------------------------------------------------------
# codes
# --------------------------------------------------------------------------


def test_compose_codes_shapes_ranges_and_determinism(digits):
    images, labels = digits
    canvases, truth = codes.compose_codes(images, labels, 7, 5, width=64, seed=3)
    assert canvases.shape == (7, 12, 64) and canvases.dtype == np.float32
    assert truth.shape == (7, 5) and truth.min() >= 0 and truth.max() <= 9
    assert 0.0 <= canvases.min() and canvases.max() <= 1.0
    again, truth_again = codes.compose_codes(images, labels, 7, 5, width=64, seed=3)
    np.testing.assert_array_equal(canvases, again)
    np.testing.assert_array_equal(truth, truth_again)
    other, _ = codes.compose_codes(images, labels, 7, 5, width=64, seed=4)
    assert not np.array_equal(canvases, other)


def test_compose_codes_uses_only_the_pool_given(digits):
    images, labels = digits
    only_sevens = labels == 7
    _, truth = codes.compose_codes(images[only_sevens], labels[only_sevens], 20, 4, seed=0)
    assert np.all(truth == 7)
    empty, empty_truth = codes.compose_codes(images, labels, 0, 3)
    assert empty.shape == (0, 12, 64) and empty_truth.shape == (0, 3)


def test_segmentation_finds_the_digits_of_a_clean_code(digits):
    images, labels = digits
    canvases, truth = codes.compose_codes(images, labels, 30, 4, gap=(2, 3), noise=0.0, seed=5)
    for canvas in canvases:
        spans = codes.segment_code(canvas)
        assert len(spans) == 4
        assert all(a < b for a, b in spans)
        assert all(spans[i][1] < spans[i + 1][0] for i in range(3))
        pieces = codes.cut_digits(canvas, spans)
        assert pieces.shape == (4, 8, 8)


def test_known_length_repairs_touching_and_broken_digits():
    canvas = np.zeros((12, 40), np.float32)
    canvas[2:10, 2:14] = 1.0  # two digits touching: one piece 12 columns wide
    canvas[5, 8] = 0.0  # (still touching)
    canvas[2:10, 18:20] = 1.0  # a digit broken in two pieces
    canvas[2:10, 21:23] = 1.0
    assert len(codes.segment_code(canvas)) == 3
    spans = codes.segment_code(canvas, expected=3)
    assert len(spans) == 3
    merged = codes.segment_code(canvas, expected=2)
    assert merged[-1] == (18, 23)
    split = codes.segment_code(canvas, expected=4)
    assert len(split) == 4 and split[0][0] == 2 and split[1][1] == 14


def test_center_digit_moves_ink_to_the_middle_and_fits_wide_ink():
    image = np.zeros((8, 8), np.float32)
    image[0:2, 0:2] = 1.0
    centred = codes.center_digit(image)
    rows, cols = np.nonzero(centred)
    assert rows.min() == 3 and rows.max() == 4 and cols.min() == 3 and cols.max() == 4
    wide = np.ones((8, 14), np.float32)
    assert codes.center_digit(wide).shape == (8, 8)
    np.testing.assert_array_equal(codes.center_digit(np.zeros((8, 8))), np.zeros((8, 8)))


def test_center_digits_keeps_count(digits):
    images, _ = digits
    centred = codes.center_digits(images[:10])
    assert centred.shape == (10, 8, 8) and centred.dtype == np.float32


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"count": -1}, "count must be at least 0"),
        ({"length": 0}, "length"),
        ({"length": 7, "width": 60}, r"needs a canvas at least 74 pixels wide.*width=74"),
        ({"gap": (3, 1)}, "gap"),
        ({"gap": (-5, 1)}, "gap"),
        ({"gap": 2}, "pair"),
        ({"jitter": 3, "height": 12}, "height >= 14"),
        ({"noise": -0.1}, "noise"),
    ],
)
def test_compose_codes_rejects_impossible_arguments(digits, kwargs, message):
    images, labels = digits
    arguments = {"count": 2, "length": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        codes.compose_codes(images, labels, **arguments)


def test_compose_codes_rejects_wrong_images(digits):
    images, labels = digits
    with pytest.raises(ValueError, match="8x8"):
        codes.compose_codes(np.zeros((5, 28, 28)), labels[:5], 1, 2)
    with pytest.raises(ValueError, match="divide by 16"):
        codes.compose_codes(images * 16, labels, 1, 2)
    with pytest.raises(ValueError, match="one digit per image"):
        codes.compose_codes(images, labels[:3], 1, 2)


def test_segment_and_cut_reject_bad_input():
    canvas = np.zeros((12, 20), np.float32)
    with pytest.raises(ValueError, match="expected"):
        codes.segment_code(canvas, expected=0)
    with pytest.raises(ValueError, match="2-D"):
        codes.segment_code(np.zeros((2, 12, 20)))
    with pytest.raises(ValueError, match="does not fit"):
        codes.cut_digits(canvas, [(15, 25)])
    assert codes.cut_digits(canvas, []).shape == (0, 8, 8)
    assert codes.min_code_width(5, 3) == 52


# --------------------------------------------------------------------------
# signs
# --------------------------------------------------------------------------


def test_render_signs_shapes_ranges_balance_and_determinism():
    images, labels = signs.render_signs(36, seed=7)
    assert images.shape == (36, 32, 32, 3) and images.dtype == np.float32
    assert labels.dtype == np.int64 and labels.shape == (36,)
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert np.all(np.bincount(labels, minlength=len(signs.SIGN_CLASSES)) == 4)
    again, labels_again = signs.render_signs(36, seed=7)
    np.testing.assert_array_equal(images, again)
    np.testing.assert_array_equal(labels, labels_again)
    other, _ = signs.render_signs(36, seed=8)
    assert not np.array_equal(images, other)


def test_render_signs_by_label_and_clean_legend():
    images, labels = signs.render_signs(labels=["stop", 5, "parking"], size=24, clean=True)
    assert images.shape == (3, 24, 24, 3)
    assert list(labels) == [0, 5, 8]
    stop = images[0]
    centre = stop[12, 4]  # left of the white bar, inside the octagon: red
    assert centre[0] > 0.6 and centre[1] < 0.3
    assert signs.render_signs(0)[0].shape == (0, 32, 32, 3)


def test_clean_signs_of_different_classes_differ():
    images, _ = signs.render_signs(labels=list(range(len(signs.SIGN_CLASSES))), clean=True)
    flat = images.reshape(len(images), -1)
    distances = np.linalg.norm(flat[:, None] - flat[None], axis=-1)
    assert np.all(distances[~np.eye(len(images), dtype=bool)] > 1.0)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"count": -3}, ValueError, "count must be at least 0"),
        ({"labels": ["stop", "roundabout"]}, ValueError, "unknown sign class 'roundabout'"),
        ({"labels": [9]}, ValueError, "outside 0..8"),
        ({"labels": [1.5]}, TypeError, "name or an integer"),
        ({"count": 3, "labels": [0]}, ValueError, "either count"),
        ({}, ValueError, "either count"),
        ({"count": 3, "size": 12}, ValueError, "at least 16"),
        ({"count": 3, "occlusion": 0.9}, ValueError, "occlusion"),
        ({"count": 3, "clutter": -1}, ValueError, "clutter"),
        ({"count": 3, "rotation": 90}, ValueError, "rotation"),
    ],
)
def test_render_signs_rejects_impossible_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        signs.render_signs(**kwargs)


# --------------------------------------------------------------------------
# cells
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stains():
    return cells.stain_channels(cells.load_ihc())


def test_stain_channels_shapes_and_ranges(stains):
    hematoxylin, dab = stains
    assert hematoxylin.shape == dab.shape == (512, 512)
    for channel in (hematoxylin, dab):
        assert channel.dtype == np.float32 and 0.0 <= channel.min() and channel.max() <= 1.0
    # The glands (top left) are brown, the stroma (marked region) is not.
    r0, r1, c0, c1 = cells.MARKED_REGION
    assert dab[0:100, 0:100].mean() > 2 * dab[r0:r1, c0:c1].mean()
    with pytest.raises(ValueError, match="colour image"):
        cells.stain_channels(np.zeros((10, 10)))


def test_marked_nuclei_lie_in_their_region():
    assert len(cells.in_region(cells.MARKED_NUCLEI)) == len(cells.MARKED_NUCLEI) == 22
    assert len(cells.in_region(cells.UNSURE_NUCLEI)) == len(cells.UNSURE_NUCLEI)


def test_detect_nuclei_on_synthetic_blobs():
    image = np.zeros((60, 60), np.float32)
    yy, xx = np.mgrid[:60, :60]
    centres = [(15, 15), (15, 45), (45, 30)]
    for r, c in centres:
        image[(yy - r) ** 2 + (xx - c) ** 2 <= 16] = 1.0
    found = cells.detect_nuclei(image)
    score = cells.match_points(found, centres, radius=2)
    assert score["tp"] == 3 and score["fp"] == 0 and score["f1"] == 1.0


def test_match_points_counts_one_to_one_and_ignores_unsure():
    reference = [[10, 10], [10, 30]]
    predicted = [[11, 10], [10, 12], [40, 40], [10, 50]]
    score = cells.match_points(predicted, reference, radius=3)
    assert (score["tp"], score["fp"], score["fn"]) == (1, 3, 1)
    lenient = cells.match_points(predicted, reference, radius=3, ignore=[[40, 41]])
    assert (lenient["tp"], lenient["fp"], lenient["fn"]) == (1, 2, 1)
    assert cells.match_points([], reference)["recall"] == 0.0
    with pytest.raises(ValueError, match="radius"):
        cells.match_points(predicted, reference, radius=0)
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        cells.match_points([[1, 2, 3]], reference)


def test_tissue_patches_shapes_labels_and_blocks(stains):
    hematoxylin, dab = stains
    patches, labels, blocks = cells.tissue_patches(hematoxylin, dab, patch=32, stride=16, block=128)
    per_block = ((128 - 32) // 16 + 1) ** 2
    assert patches.shape == (16 * per_block, 32, 32) and labels.shape == blocks.shape[:1]
    assert set(np.unique(labels)) == {0, 1}
    assert blocks.min() == 0 and blocks.max() == 3
    assert np.all(np.bincount(blocks[:, 0] * 4 + blocks[:, 1]) == per_block)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"patch": 64, "block": 32}, "must fit in a block"),
        ({"block": 1024}, "larger than the image"),
        ({"stride": 0}, "stride"),
        ({"positive_share": 0.0}, "positive_share"),
    ],
)
def test_tissue_patches_rejects_sizes_that_do_not_fit(stains, kwargs, message):
    hematoxylin, dab = stains
    with pytest.raises(ValueError, match=message):
        cells.tissue_patches(hematoxylin, dab, **kwargs)


def test_detector_and_region_reject_bad_input(stains):
    hematoxylin, _ = stains
    with pytest.raises(ValueError, match="2-D"):
        cells.detect_nuclei(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="min_area"):
        cells.detect_nuclei(hematoxylin, min_area=0)
    with pytest.raises(ValueError, match="start < stop"):
        cells.in_region([[1, 1]], (10, 5, 0, 5))


def test_apps_stay_free_of_training_code():
    """apps/ is a pure helper: it never imports Keras, TensorFlow or the store."""
    import ast
    import importlib.util

    banned = ("keras", "tensorflow", "visionbook.store", "visionbook.gan", "visionbook.vae", "visionbook.cnn")
    for name in ("visionbook.apps", "visionbook.apps.codes", "visionbook.apps.signs", "visionbook.apps.cells"):
        tree = ast.parse(open(importlib.util.find_spec(name).origin).read())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        bad = sorted(m for m in imported if m.startswith(banned))
        assert not bad, f"{name} imports {bad}"


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda d: codes.compose_codes(*d, 2, 2, noise=float("nan")), "noise"),
        (lambda d: codes.compose_codes(*d, 2, 2, seed=-1), "seed"),
        (lambda d: codes.compose_codes(d[0], [str(v) for v in d[1]], 2, 2), "labels"),
        (lambda d: codes.segment_code(np.full((12, 20), 200.0)), "divide by 255"),
        (lambda d: signs.render_signs(2, seed=-1), "seed"),
        (lambda d: signs.render_signs(2, rotation=float("nan")), "rotation"),
        (lambda d: signs.render_signs(labels="stop"), "list"),
        (lambda d: cells.stain_channels(np.full((8, 8, 3), 200.0)), "divide by 255"),
        (lambda d: cells.detect_nuclei(np.zeros((8, 8)), sigma=float("nan")), "sigma"),
        (lambda d: cells.match_points([[1, 1]], [[1, 1]], radius=float("nan")), "radius"),
    ],
)
def test_garbage_settings_are_refused(digits, call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call(digits)


def test_stain_channels_give_the_same_answer_for_every_valid_form():
    rgb = cells.load_ihc()[:32, :32]
    reference = cells.stain_channels(rgb)
    for same in (rgb / 255.0, rgb.astype(np.int64)):
        np.testing.assert_allclose(cells.stain_channels(same)[0], reference[0], atol=1e-5)
