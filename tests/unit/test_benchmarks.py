"""The benchmarks' own arithmetic: what counts as a training step's FLOPs, and fair turns."""

import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import gan_variants  # noqa: E402
import gan_vs_dcgan_tutorial  # noqa: E402
import train_step_efficiency  # noqa: E402


def conv_weight_step():
    """One convolution trained on its input: its input's gradient is built by the tape, but never used."""
    conv = keras.layers.Conv2D(8, 3, padding="same", use_bias=False)
    conv.build((None, 10, 10, 4))

    def step(images: tf.Tensor) -> tuple[tf.Tensor, list[tf.Tensor]]:
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(conv(images))
        return loss, tape.gradient(loss, conv.trainable_variables)

    return step, tf.TensorSpec((2, 10, 10, 4))


def test_flops_count_only_what_the_step_runs():
    step, spec = conv_weight_step()
    forward = 2 * 2 * 10 * 10 * 3 * 3 * 4 * 8  # batch 2, 10x10 outputs, 3x3x4 inputs to 8 maps, two FLOPs a multiply-add
    counted = train_step_efficiency.counted_flops(step, spec)
    # Forward pass and weight gradient: twice the forward FLOPs, plus the
    # loss's sum. Counting the pruned input gradient would give three times.
    assert 2 * forward <= counted < 2 * forward + 2000
    kinds = sorted(k["type"] for k in train_step_efficiency.convolution_kernels(step, spec))
    assert kinds == ["Conv2D", "Conv2DBackpropFilter"]
    # Returning only the gradient leaves the forward pass unused: the weight
    # gradient of a sum needs the input, not the output, so only it is counted.
    gradient_only = train_step_efficiency.counted_flops(lambda images: step(images)[1], spec)
    assert gradient_only == forward


def test_isolated_kernel_is_timed():
    step, spec = conv_weight_step()
    for kernel in train_step_efficiency.convolution_kernels(step, spec):
        seconds = train_step_efficiency.isolated_kernel_seconds(kernel, 0.05)
        assert 0 < seconds < 1


def test_depthwise_form_counts_as_the_plain_convolution():
    """The one-map convolution as depthwise + sum: the same multiply-adds counted, and its kernels timed."""
    from visionbook import gan

    counts, kinds = [], []
    for layer_class in (keras.layers.Conv2D, gan.SingleMapConv2D):
        keras.utils.set_random_seed(0)
        conv = layer_class(1, 3, padding="same", use_bias=False)
        conv.build((2, 10, 10, 4))

        def step(images, conv=conv):
            with tf.GradientTape() as tape:
                tape.watch(images)
                loss = tf.reduce_sum(tf.square(conv(images)))
            return loss, tape.gradient(loss, [images, *conv.trainable_variables])

        spec = tf.TensorSpec((2, 10, 10, 4))
        kernels = train_step_efficiency.convolution_kernels(step, spec)
        kinds.append(sorted(train_step_efficiency.kernel_role(k["type"]) for k in kernels))
        counts.append(sum(k["flops"] for k in kernels))
        for kernel in kernels:
            assert 0 < train_step_efficiency.isolated_kernel_seconds(kernel, 0.03) < 1
    assert kinds[0] == kinds[1] == ["forward", "input_gradient", "weight_gradient"]
    assert counts[0] == counts[1] == 3 * 2 * 2 * 10 * 10 * 3 * 3 * 4  # three kernels, 3x3x4 weights per output


def test_kernel_ceiling_names_the_slowest_kernels():
    step, spec = conv_weight_step()
    flops = train_step_efficiency.counted_flops(step, spec)
    ceiling = train_step_efficiency.kernel_ceiling(step, (spec,), flops, 0.1)
    assert ceiling["kernels"] == 2 and len(ceiling["slowest"]) == 2
    assert 0 < ceiling["conv_gflops"] and ceiling["bound_gflops"] >= ceiling["conv_gflops"]
    assert all("GFLOP/s" in line and "of the kernels' time" in line for line in ceiling["slowest"])
    assert train_step_efficiency.layer_of("gradient_tape/generator_1/image_1/convolution/Conv2DBackpropFilter") == "generator/image"


class Clockwork:
    """Stands in for a GAN in the race: trains exactly as long as it is told, and logs its turns."""

    def __init__(self, name: str, log: list) -> None:
        self.name, self.log, self.trained, self.done = name, log, 0.0, False

    def train_until(self, until: float, budget: float, every: float, judge, reference) -> None:
        self.trained = min(until, budget)
        self.done = self.trained >= budget
        self.log.append((self.name, self.trained))
        self.rows = [{"model": self.name, "train_seconds": self.trained}]


def test_race_takes_turns_until_both_have_the_budget():
    log: list = []
    contestants = [Clockwork("a", log), Clockwork("b", log)]
    gan_vs_dcgan_tutorial.race(contestants, budget=25, every=5, turn=10, judge=None, reference=None)
    assert log == [("a", 10), ("b", 10), ("a", 20), ("b", 20), ("a", 25), ("b", 25)]
    assert all(c.done for c in contestants)


@pytest.mark.parametrize("turn", [0, -1])
def test_race_refuses_turns_that_never_end(turn):
    with pytest.raises(ValueError, match="turn"):
        gan_vs_dcgan_tutorial.race([], budget=10, every=5, turn=turn, judge=None, reference=None)


def test_wider_layers_cost_more_flops():
    book = train_step_efficiency.step_rate(*train_step_efficiency.gan_step(4), 0.01)
    wider = train_step_efficiency.step_rate(*train_step_efficiency.gan_step(4, {"generator_widths": (256, 128)}), 0.01)
    assert wider["mflop_per_image"] > 1.5 * book["mflop_per_image"]
    assert wider["images_per_second"] > 0
    assert train_step_efficiency.describe({}) == "the book's"
    assert train_step_efficiency.describe({"filters": (64, 128)}) == "filters (64, 128)"


def test_race_variants_are_the_book_gan_with_overrides():
    config = gan_variants.variant('{"generator_widths": [64, 32]}')
    assert config["generator_widths"] == (64, 32)
    assert {k: v for k, v in config.items() if k != "generator_widths"} == {
        k: v for k, v in gan_variants.gan.FASHION_GAN.items() if k != "generator_widths"
    }
    with pytest.raises(SystemExit, match="unknown FASHION_GAN keys"):
        gan_variants.variant('{"widths": [64, 32]}')
    with pytest.raises(SystemExit, match="not a JSON object"):
        gan_variants.variant("{generator_widths: [64, 32]}")
    with pytest.raises(SystemExit, match="not a JSON object"):
        gan_variants.variant("[64, 32]")


def test_steps_take_turns_and_report_every_round():
    small = tf.constant(1.0, shape=(4, 4))
    large = tf.constant(1.0, shape=(64, 64))
    runs = [(lambda x: tf.matmul(x, x), [(small,)]), (lambda x: tf.matmul(x, x), [(large,)])]
    rates = train_step_efficiency.steps_per_second_in_rounds(runs, seconds=0.06, rounds=3)
    assert [len(r) for r in rates] == [3, 3]
    assert all(rate > 0 for r in rates for rate in r)


def test_input_pipeline_labels_the_tuner_correctly():
    import input_pipeline

    from visionbook import data

    dataset = tf.data.Dataset.range(10).batch(2)
    untuned = data.without_autotuning(dataset)
    assert input_pipeline.tuned(dataset).options().autotune.enabled is True
    assert input_pipeline.tuned(untuned).options().autotune.enabled is True  # the later setting wins
    batches = [(x.tolist(), y.tolist()) for x, y in input_pipeline.cnn_pipeline(np.arange(10), np.arange(10), 4).as_numpy_iterator()]
    assert [len(x) for x, _ in batches] == [4, 4, 2] and sorted(sum((x for x, _ in batches), [])) == list(range(10))


def test_cnn_pipeline_draws_a_new_order_per_epoch_from_its_seed():
    import input_pipeline

    numbers = np.arange(64)

    def first_two_epochs(seed: int) -> list[list[int]]:
        batches = input_pipeline.cnn_pipeline(numbers, numbers, 64, seed=seed)
        return [next(iter(batches))[0].numpy().tolist() for _ in range(2)]

    orders = first_two_epochs(1)
    assert sorted(orders[0]) == numbers.tolist() and orders[0] != orders[1]
    assert first_two_epochs(1) == orders and first_two_epochs(2) != orders


def test_trained_model_table_tells_configurations_apart_and_marks_missing_numbers():
    import run_notebooks

    records = [
        {"name": "clf", "config": {"width": 8, "seed": 42}, "train_seconds": 3.14, "wall_seconds": 4.0,
         "test_accuracy": 0.81234, "epochs": 1},
        {"name": "clf", "config": {"width": 16, "seed": 42}, "wall_seconds": 9.96},
        {"name": "table", "config": {}},
    ]
    header, rule, *rows = run_notebooks.trained_model_table(records)
    assert header.count("|") == rule.count("|") == 6
    assert rows == [
        "| clf (width 8) | 3.1 | 4.0 | 0.8123 | 1 |",
        "| clf (width 16) | - | 10.0 | - | - |",
        "| table | - | - | - | - |",
    ]
    assert run_notebooks.trained_model_table([]) == []


def test_cnn_widths_reads_filter_pairs_and_marks_the_book_network():
    import argparse

    import cnn_widths

    from visionbook import cnn

    assert cnn_widths.width("16,64") == (16, 64)
    for bad in ("16", "16,0", "a,b", "16,32,64"):
        with pytest.raises(argparse.ArgumentTypeError, match="two positive filter counts"):
            cnn_widths.width(bad)
    assert tuple(cnn.FASHION_CNN["filters"]) in cnn_widths.WIDTHS
    result = {"params": 1000, "mflop_per_image": 2.0, "train_seconds": 3.0, "fastest_epoch": 0.25, "test_accuracy": 0.5}
    assert "the book's" in cnn_widths.row(tuple(cnn.FASHION_CNN["filters"]), result)
    assert "the book's" not in cnn_widths.row((8, 16), result)


def test_cnn_precision_reads_runs_and_compares_each_precision_with_float32():
    import argparse

    import cnn_precision

    assert cnn_precision.run("mixed_bfloat16:12") == ("mixed_bfloat16", 12)
    for bad in ("mixed_float16:10", "float32", "float32:0", "float32:-1", "float32:ten", "float32:10:3"):
        with pytest.raises(argparse.ArgumentTypeError, match="PRECISION:EPOCHS"):
            cnn_precision.run(bad)
    rates = {"float32": [100.0, 300.0, 200.0], "mixed_bfloat16": [500.0, 300.0, 400.0]}
    assert cnn_precision.speed_rows("here", rates) == [
        "| here | float32 | 200 | 100-300 | 1.00 |",
        "| here | mixed_bfloat16 | 400 | 300-500 | 2.00 |",
    ]


def test_cpu_flags_are_read_from_cpuinfo_and_empty_without_it(monkeypatch):
    import machine

    cpuinfo = "processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse2 avx512f avx512_bf16\n"
    monkeypatch.setattr(machine.Path, "read_text", lambda self, *args, **kwargs: cpuinfo)
    assert machine.cpu_flags() == {"fpu", "sse2", "avx512f", "avx512_bf16"}

    def missing(self, *args, **kwargs):
        raise FileNotFoundError(self)

    monkeypatch.setattr(machine.Path, "read_text", missing)
    assert machine.cpu_flags() == set()


def test_step_settings_compare_each_round_with_the_defaults_of_that_round():
    import step_settings

    cnn_name, gan_name = (name for name, _ in step_settings.MODELS)
    # The defaults drift (100, 400, 200); XLA's ratios are 0.8, 0.25, 0.6 in
    # the same rounds: their median (0.6) differs from the ratio of the
    # medians (100 / 200), so the table must pair the rounds.
    default = [{cnn_name: d, gan_name: d / 2} for d in (100.0, 400.0, 200.0)]
    results = {setting: default for setting in step_settings.SETTINGS}
    results["xla"] = [{cnn_name: x, gan_name: x / 2} for x in (80.0, 100.0, 120.0)]
    header, rule, *rows = step_settings.table(results)
    assert header.count("|") == rule.count("|") == 6
    assert len(rows) == 2 * len(step_settings.SETTINGS)
    xla_text = step_settings.SETTINGS["xla"][0]
    assert f"| {cnn_name} | {xla_text} | 100 | 80-120 | 0.60 |" in rows
    assert f"| {gan_name} | {xla_text} | 50 | 40-60 | 0.60 |" in rows
    assert all(row.endswith("| 1.00 |") for row in rows if "defaults" in row)


def test_steps_wait_for_their_start_time_and_run_under_xla():
    import time

    total = tf.Variable(0.0)

    def step(x: tf.Tensor) -> tf.Tensor:
        total.assign_add(tf.reduce_sum(x))
        return total

    start = time.time()
    rates = train_step_efficiency.steps_per_second_in_rounds(
        [(step, [(tf.ones((3,)),)])], seconds=0.2, rounds=2, jit_compile=True, start_at=start + 2.0
    )
    assert time.time() - start >= 2.2  # waited for start_at, then timed 0.2 s
    assert len(rates[0]) == 2 and all(rate > 0 for rate in rates[0])
    assert total.numpy() >= 3 * (3 + 2)  # three warm-up steps, and at least one step in each round
