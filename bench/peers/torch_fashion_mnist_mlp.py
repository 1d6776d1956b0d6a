#!/usr/bin/python3
"""examples/fashion_mnist_mlp.cpp in PyTorch 1.13: the same program, for the end-to-end comparison.

Run:  /usr/bin/python3 bench/peers/torch_fashion_mnist_mlp.py [--threads 1] [--epochs 5] [--seed 0]
                                                             [--data-dir /usr/share/datasets/fashion-mnist]

Same as the C++ example: the IDX .gz files read with gzip + numpy, pixels / 255, each pixel
standardised with its own training-set mean and std + 0.05 (--normalize global: one mean 0.2860 and
std 0.3530 for all, the example's old recipe); 784-256-128-10 ReLU with nn.Linear's default init (xgrad's Linear uses
the same kaiming_uniform(a=sqrt(5)) rule); Adam lr 2e-3; cross-entropy with label smoothing
0.1; the lr annealed to 0 by the last batch (CosineAnnealingLR stepped after every batch; --warmup
adds a LinearLR warm-up from lr/25, chained as in the C++ program, --weight-decay makes it AdamW);
batch 64, reshuffled every epoch (index batches from
torch.randperm, the fastest loading PyTorch offers for an in-memory tensor); 5 epochs; the test
set (10 000 images, batches of 1000, no_grad) after every epoch, and the training-set cost before
and after training, as the C++ program prints them.
Prints per-epoch train loss and accuracy, test loss and accuracy and training seconds, then the
total wall time (data loading included, as the C++ program's "total").
"""
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from fmnist_torch import evaluate, load_split, parser, pixel_scaling


def main():
    p = parser(__doc__, epochs=5, batch_size=64, lr=2e-3, warmup=0.0)
    p.add_argument("--weight-decay", type=float, default=0.0, help="> 0: AdamW")
    p.add_argument("--normalize", choices=["pixel", "global"], default="pixel",
                   help="a mean and std per pixel (the example's default) or one for all pixels")
    p.add_argument("--std-floor", type=float, default=0.05, help="added to each pixel's std")
    a = p.parse_args()
    if a.threads < 1 or a.epochs < 1 or a.batch_size < 1:
        p.error("--threads, --epochs and --batch-size must be positive")
    torch.set_num_threads(a.threads)
    t_start = time.perf_counter()
    per_pixel = a.normalize == "pixel"
    x_train, y_train = load_split(a.data_dir, "train", (784,), standardise=not per_pixel)
    x_test, y_test = load_split(a.data_dir, "test", (784,), standardise=not per_pixel)
    if per_pixel:  # each pixel with its own training-set mean and std (+ std_floor)
        mean, std = pixel_scaling(x_train, a.std_floor)
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    print(f"{x_train.shape[0]} training images, {x_test.shape[0]} test images "
          f"(loaded in {time.perf_counter() - t_start:.2f} s)")

    torch.manual_seed(a.seed)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    if a.weight_decay > 0:
        opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    n = x_train.shape[0]
    steps = a.epochs * math.ceil(n / a.batch_size)
    schedulers = []
    if a.warmup > 0:
        schedulers.append(torch.optim.lr_scheduler.LinearLR(
            opt, start_factor=0.04, total_iters=max(1, round(a.warmup * steps))))
    schedulers.append(torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; Adam{'W' if a.weight_decay > 0 else ''} "
          f"lr {a.lr:g}, label smoothing {a.label_smoothing:g}, warm-up {a.warmup:g}, batch {a.batch_size}, "
          f"{a.epochs} epochs")

    before, _ = evaluate(model, x_train, y_train, 1000)
    train_seconds = []
    for epoch in range(1, a.epochs + 1):
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        loss_sum, correct = 0.0, 0
        for s in range(0, n, a.batch_size):
            idx = perm[s:s + a.batch_size]
            x, y = x_train[idx], y_train[idx]
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=a.label_smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            for sch in schedulers:
                sch.step()
            loss_sum += loss.item() * idx.shape[0]
            correct += (logits.argmax(1) == y).sum().item()
        train_seconds.append(time.perf_counter() - t0)
        test_loss, test_acc = evaluate(model, x_test, y_test, 1000)
        print(f"epoch {epoch}: train loss {loss_sum / n:.4f} acc {100 * correct / n:.2f}% | "
              f"test loss {test_loss:.4f} acc {100 * test_acc:.2f}% | {train_seconds[-1]:.1f} s", flush=True)
    after, _ = evaluate(model, x_train, y_train, 1000)
    print(f"training-set cost {before:.4f} -> {after:.4f}; test accuracy {100 * test_acc:.2f}%; "
          f"train {sum(train_seconds):.1f} s; total {time.perf_counter() - t_start:.1f} s")


if __name__ == "__main__":
    main()
