"""How close the book's training steps come to this machine's matmul rate.

Usage (from the repository root)::

    .venv/bin/python benchmarks/train_step_efficiency.py

For the Fashion-MNIST CNN and the GAN, TensorFlow's profiler counts the
floating-point operations of one compiled training step (forward pass,
gradients, and for the GAN both networks' halves of the step). The script
then times steps on real batches and divides the achieved GFLOP/s by the
dense float32 matmul rate it measures in the same run. A ratio near 1 means
the step keeps the CPU as busy as a large matrix product does; small
convolutions on 28x28 images rarely get there, because their matrices are
small and memory traffic dominates.  Writes ``benchmarks/efficiency.md``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import visionbook  # noqa: E402  (before TensorFlow: quiet start-up)
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from machine import cpu_name, matmul_gflops  # noqa: E402
from visionbook import cnn, data, gan  # noqa: E402

OUT = Path(__file__).resolve().parent


def counted_flops(step: Callable[..., Any], *specs: tf.TensorSpec) -> float:
    """Floating-point operations of one call of ``step``, as TensorFlow's profiler counts them."""
    graph = tf.function(step).get_concrete_function(*specs).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return float(tf.compat.v1.profiler.profile(graph=graph, options=options).total_float_ops)


def steps_per_second(step: Callable[..., Any], batches: list[tuple], seconds: float) -> float:
    """Run the compiled ``step`` over ``batches`` repeatedly for about ``seconds``; steps per second."""
    compiled = tf.function(step)
    for batch in batches[:3]:  # trace and warm up
        compiled(*batch)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for batch in batches:
            result = compiled(*batch)
            done += 1
        _ = [np.asarray(v) for v in tf.nest.flatten(result)]  # wait for the last step
    return done / (time.perf_counter() - start)


def cnn_step(batch_size: int) -> tuple[Callable[..., Any], tuple[tf.TensorSpec, ...], list[tuple]]:
    """The book's CNN training step (forward, loss, gradients, Adam update)."""
    keras.utils.set_random_seed(visionbook.SEED)
    (x_train, y_train), _ = data.fashion_mnist_for_training()
    model = cnn.create_fashion_cnn()
    cnn.compile_classifier(model, 1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    optimizer = model.optimizer
    optimizer.build(model.trainable_variables)

    def step(images: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    specs = (tf.TensorSpec((batch_size, 28, 28, 1)), tf.TensorSpec((batch_size,), tf.int64))
    batches = [
        (tf.constant(x_train[i : i + batch_size]), tf.constant(y_train[i : i + batch_size].astype("int64")))
        for i in range(0, 40 * batch_size, batch_size)
    ]
    return step, specs, batches


def gan_step(batch_size: int) -> tuple[Callable[..., Any], tuple[tf.TensorSpec, ...], list[tuple]]:
    """The book's GAN training step: one discriminator and one generator update."""
    keras.utils.set_random_seed(visionbook.SEED)
    (x_train, _), _ = data.load_fashion_mnist()
    model = gan.build_fashion_gan()
    model.d_optimizer.build(model.discriminator.trainable_variables)
    model.g_optimizer.build(model.generator.trainable_variables)
    real = data.to_tanh_range(data.as_batch(x_train[: 40 * batch_size]))

    def step(images: tf.Tensor) -> Any:
        return model.train_step(images)

    specs = (tf.TensorSpec((batch_size, 28, 28, 1)),)
    batches = [(tf.constant(real[i : i + batch_size]),) for i in range(0, len(real), batch_size)]
    return step, specs, batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="timing per model (default 20)")
    args = parser.parse_args()
    rate = matmul_gflops()
    machine = f"{cpu_name()}, {os.cpu_count()} CPUs, fp32 matmul {rate:.0f} GFLOP/s (TensorFlow, 2048x2048)"
    print("machine:", machine, flush=True)
    rows = []
    for name, build, batch_size in [
        ("Fashion-MNIST CNN", cnn_step, cnn.FASHION_TRAINING["batch_size"]),
        ("GAN (both networks)", gan_step, gan.FASHION_GAN["batch_size"]),
    ]:
        step, specs, batches = build(batch_size)
        flops = counted_flops(step, *specs)
        sps = steps_per_second(step, batches, args.seconds)
        achieved = flops * sps / 1e9
        rows.append((name, batch_size, flops / batch_size / 1e6, sps * batch_size, achieved, achieved / rate))
        print(f"{name}: {flops / batch_size / 1e6:.1f} MFLOP per image, {sps * batch_size:.0f} images/s, "
              f"{achieved:.0f} GFLOP/s = {achieved / rate:.2f} of matmul", flush=True)
    lines = [
        "# Training-step efficiency",
        "",
        f"- machine: {machine}",
        "- command: `.venv/bin/python benchmarks/train_step_efficiency.py`",
        "- FLOPs: TensorFlow's profiler on the compiled step (forward, gradients, optimizer update)",
        "",
        "| model | batch | MFLOP per image | images/s | achieved GFLOP/s | share of matmul rate |",
        "|---|---:|---:|---:|---:|---:|",
        *[f"| {n} | {b} | {m:.1f} | {i:.0f} | {g:.0f} | {s:.2f} |" for n, b, m, i, g, s in rows],
    ]
    (OUT / "efficiency.md").write_text("\n".join(lines) + "\n")
    print("wrote", OUT / "efficiency.md")


if __name__ == "__main__":
    main()
