"""The kept benchmarks' own logic: fair turns, the recipes they train, their tables."""

import inspect
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import gan_variants  # noqa: E402
import gan_vs_dcgan_tutorial  # noqa: E402
import machine  # noqa: E402
import run_notebooks  # noqa: E402
import time_to_quality  # noqa: E402

from visionbook import cgan, cnn, gan, vae  # noqa: E402


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


def test_book_trainer_is_the_books_gan_with_its_decay_over_the_budget():
    generator, step, batch_size, set_progress = gan_vs_dcgan_tutorial.book_trainer(0)
    assert batch_size == gan.FASHION_GAN["batch_size"]
    assert generator.output_shape == (None, 28, 28, 1)
    assert callable(step)
    model = step.python_function.__self__
    rate = gan.FASHION_GAN["learning_rate"]
    if gan.FASHION_GAN["decay_from"] is None:
        assert set_progress is None  # constant learning rates
        return
    for fraction, factor in ((0.0, 1.0), (1.0, 0.0)):
        set_progress(fraction)
        for optimizer in (model.d_optimizer, model.g_optimizer):
            assert float(optimizer.learning_rate.numpy()) == pytest.approx(rate * factor)


def test_tutorial_models_have_the_tutorials_shapes():
    generator = gan_vs_dcgan_tutorial.tutorial_generator()
    discriminator = gan_vs_dcgan_tutorial.tutorial_discriminator()
    assert generator.input_shape == (None, 100) and generator.output_shape == (None, 28, 28, 1)
    assert discriminator.output_shape == (None, 1)


def test_race_variants_are_the_book_gan_with_overrides():
    config = gan_variants.variant('{"generator_widths": [128, 64, 16]}')
    assert config["generator_widths"] == (128, 64, 16)
    assert {k: v for k, v in config.items() if k != "generator_widths"} == {
        k: v for k, v in gan_variants.gan.FASHION_GAN.items() if k != "generator_widths"
    }
    with pytest.raises(SystemExit, match="unknown FASHION_GAN keys"):
        gan_variants.variant('{"widths": [64, 32]}')
    with pytest.raises(SystemExit, match="not a JSON object"):
        gan_variants.variant("{generator_widths: [64, 32]}")
    with pytest.raises(SystemExit, match="not a JSON object"):
        gan_variants.variant("[64, 32]")


def test_grouped_spread_over_the_whole_batch_is_the_books_layer():
    """``--spread-group N`` measures the spread in groups of N images; N = the batch is the book's layer."""
    layer = gan.MinibatchStdDev()
    images = np.random.default_rng(0).standard_normal((4, 7, 7, 3)).astype("float32")
    book = np.asarray(layer(images))
    grouped = np.asarray(gan_variants.grouped_spread_call(len(images))(layer, images))
    np.testing.assert_allclose(grouped, book, rtol=1e-5, atol=1e-6)
    pairs = np.asarray(gan_variants.grouped_spread_call(2)(layer, images))
    np.testing.assert_array_equal(pairs[..., :3], images)
    spreads = pairs[:, 0, 0, 3]
    # Images 0 and 2 form one group of two, 1 and 3 the other.
    expected = [np.mean(np.sqrt(np.var(images[[i, i + 2]], axis=0) + 1e-8)) for i in (0, 1)]
    np.testing.assert_allclose(spreads, expected * 2, rtol=1e-5)


@pytest.mark.parametrize(
    "curve, module, trainer, settings",
    [
        ("cnn_curve", cnn, "train_fashion_cnn", cnn.FASHION_TRAINING),
        ("vae_curve", vae, "train_fashion_vae", vae.FASHION_VAE_TRAINING),
        ("cgan_curve", cgan, "train_conditional_gan", None),
    ],
)
def test_time_to_quality_trains_each_recipe_as_its_chapter(monkeypatch, curve, module, trainer, settings):
    """Each curve calls its chapter's training function with the chapter's settings, and only adds a callback."""
    calls = []
    real = getattr(module, trainer)

    def fake(*args, **kwargs):
        calls.append((args, kwargs))
        return None, {"test_accuracy": 0.5}

    fake.__signature__ = inspect.signature(real)  # what time_to_quality.recipe reads
    monkeypatch.setattr(module, trainer, fake)
    extra = () if curve == "cnn_curve" else (None, None)
    getattr(time_to_quality, curve)([], *extra)
    (args, kwargs), = calls
    inspect.signature(real).bind(*args, **kwargs)  # a call the real function accepts
    callbacks = kwargs.pop("callbacks")
    assert [type(c) for c in callbacks] == [time_to_quality.TrainingClock]
    assert kwargs.pop("verbose") == 0
    if settings is None:
        assert args == (cgan.FASHION_CGAN,) and kwargs == {}
    else:
        assert args == () and set(settings) - set(kwargs) <= {"model"}
        assert kwargs == {k: settings[k] for k in kwargs}


def test_a_recipe_the_training_function_no_longer_takes_is_refused():
    def train(epochs=1, seed=0):
        return None

    assert time_to_quality.recipe(train, {"model": {}, "epochs": 3}) == {"epochs": 3}
    with pytest.raises(TypeError, match=r"takes no \['momentum'\]"):
        time_to_quality.recipe(train, {"epochs": 3, "momentum": 0.9})


def test_training_clock_counts_training_not_validation_or_scoring(monkeypatch):
    rows = []
    clock = time_to_quality.TrainingClock("m", lambda model, logs: {"score": logs["val_accuracy"]}, rows)
    times = iter([10.0, 12.5, 30.0])  # the epoch begins, its validation begins, it ends
    monkeypatch.setattr(time_to_quality.time, "perf_counter", lambda: next(times))
    clock.on_epoch_begin(0)
    clock.on_test_begin()
    clock.on_epoch_end(0, {"val_accuracy": 0.75})
    assert rows == [{"model": "m", "epoch": 1, "train_seconds": 2.5, "score": 0.75}]


def test_trained_model_table_tells_configurations_apart_and_marks_missing_numbers():
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


def test_machine_line_names_the_cpu_from_cpuinfo_or_the_platform(monkeypatch):
    cpuinfo = "processor\t: 0\nmodel name\t: Some CPU @ 2.0GHz\nflags\t\t: fpu sse2\n"
    monkeypatch.setattr(machine.Path, "read_text", lambda self, *args, **kwargs: cpuinfo)
    assert machine.cpu_name() == "Some CPU @ 2.0GHz"
    assert machine.machine_line(123.4).startswith("machine: Some CPU @ 2.0GHz, ")
    assert "fp32 matmul 123 GFLOP/s" in machine.machine_line(123.4)

    def missing(self, *args, **kwargs):
        raise FileNotFoundError(self)

    monkeypatch.setattr(machine.Path, "read_text", missing)
    assert machine.cpu_name()  # platform's answer, never empty
