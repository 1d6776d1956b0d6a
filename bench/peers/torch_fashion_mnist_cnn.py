#!/usr/bin/python3
"""examples/fashion_mnist_cnn.cpp in PyTorch 1.13: the same program, for the end-to-end comparison.

Run:  /usr/bin/python3 bench/peers/torch_fashion_mnist_cnn.py [--threads 1] [--epochs 8] [--seed 0]
                                                             [--data-dir /usr/share/datasets/fashion-mnist]

Same as the C++ example: the IDX .gz files read with gzip + numpy, pixels / 255 standardised with
mean 0.2860 and std 0.3530, images [N, 1, 28, 28];
  conv(1->32, 3x3, no bias) maxpool(2) BatchNorm2d ReLU -> conv(32->64) maxpool(2) BatchNorm2d ReLU
  -> Linear(3136, 128, no bias) BatchNorm1d ReLU Dropout(0.3) -> Linear(128, 10)
with PyTorch's default inits (xgrad's Conv2d and Linear use the same kaiming_uniform(a=sqrt(5))
rule); Adam with peak lr 3e-3, warmed up linearly from lr/25 over the first 20 % of the batches
(LinearLR) and annealed to 0 by the last batch (CosineAnnealingLR), both stepped after every batch;
cross-entropy with label smoothing 0.1; each training image mirrored left-right with probability
0.5 (torch.where over the batch); batch 128, reshuffled every epoch (index batches from
torch.randperm); the test set (batches of 500, eval mode, no_grad) after every epoch, and the cost
on the first 10 000 training images before and after training, as the C++ program.
Prints per-epoch results and training seconds, the wall time (from before the data loading, as
the C++ program's clock) at which the test accuracy first reached --target, and the total.
"""
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from fmnist_torch import evaluate, load_split, parser


def make_model(c, dropout):
    return nn.Sequential(
        nn.Conv2d(1, c, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(c), nn.ReLU(),
        nn.Conv2d(c, 2 * c, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(2 * c), nn.ReLU(),
        nn.Flatten(), nn.Linear(2 * c * 7 * 7, 128, bias=False), nn.BatchNorm1d(128), nn.ReLU(),
        nn.Dropout(dropout), nn.Linear(128, 10))


def main():
    p = parser(__doc__, epochs=8, batch_size=128, lr=3e-3, warmup=0.2)
    p.add_argument("--flip", type=float, default=0.5)
    p.add_argument("--dropout", type=float, default=0.3)
    p.add_argument("--channels", type=int, default=32)
    p.add_argument("--target", type=float, default=0.93)
    a = p.parse_args()
    if a.threads < 1 or a.epochs < 1 or a.batch_size < 1 or a.channels < 1:
        p.error("--threads, --epochs, --batch-size and --channels must be positive")
    torch.set_num_threads(a.threads)
    t_start = time.perf_counter()
    x_train, y_train = load_split(a.data_dir, "train", (1, 28, 28))
    x_test, y_test = load_split(a.data_dir, "test", (1, 28, 28))

    torch.manual_seed(a.seed)
    model = make_model(a.channels, a.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    n = x_train.shape[0]
    steps = a.epochs * math.ceil(n / a.batch_size)
    warm_up = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.04,
                                                total_iters=max(1, round(a.warmup * steps)))
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; Adam peak lr {a.lr:g} "
          f"(warm-up {a.warmup:g}, cosine), label smoothing {a.label_smoothing:g}, flip {a.flip:g}, "
          f"dropout {a.dropout:g}, batch {a.batch_size}, {a.epochs} epochs")

    probe = min(10000, n)
    first_cost, _ = evaluate(model, x_train[:probe], y_train[:probe], 500)
    target_epoch, target_seconds, train_seconds = 0, 0.0, []
    for epoch in range(1, a.epochs + 1):
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        loss_sum, correct = 0.0, 0
        for s in range(0, n, a.batch_size):
            idx = perm[s:s + a.batch_size]
            x, y = x_train[idx], y_train[idx]
            if a.flip > 0:
                x = torch.where(torch.rand(x.shape[0], 1, 1, 1) < a.flip, x.flip(3), x)
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=a.label_smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            warm_up.step()
            cosine.step()
            loss_sum += loss.item() * idx.shape[0]
            correct += (logits.argmax(1) == y).sum().item()
        train_seconds.append(time.perf_counter() - t0)
        test_loss, test_acc = evaluate(model, x_test, y_test, 500)
        print(f"epoch {epoch}: train loss {loss_sum / n:.4f} acc {100 * correct / n:.2f}% | "
              f"test loss {test_loss:.4f} acc {100 * test_acc:.2f}% | {train_seconds[-1]:.1f} s", flush=True)
        if target_epoch == 0 and test_acc >= a.target:
            target_epoch, target_seconds = epoch, time.perf_counter() - t_start
    if target_epoch:
        print(f"reached {100 * a.target:g} % after epoch {target_epoch}, {target_seconds:.1f} s")
    else:
        print(f"did not reach {100 * a.target:g} % in {a.epochs} epochs")
    last_cost, _ = evaluate(model, x_train[:probe], y_train[:probe], 500)
    print(f"training-set cost {first_cost:.4f} -> {last_cost:.4f}; test accuracy {100 * test_acc:.2f}%; "
          f"train {sum(train_seconds):.1f} s; total {time.perf_counter() - t_start:.1f} s")


if __name__ == "__main__":
    main()
