"""What the two end-to-end PyTorch programs share: their common options, the Fashion-MNIST IDX
files read with gzip + numpy and standardised as the C++ examples do, and the test-set
evaluation after each epoch."""
import argparse
import gzip
import os

import numpy as np
import torch
import torch.nn.functional as F

MEAN, STD = 0.2860, 0.3530


def parser(doc, epochs, batch_size, lr, warmup):
    """The options both programs take, with the example's defaults."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--warmup", type=float, default=warmup, help="fraction of the batches")
    p.add_argument("--label-smoothing", type=float, default=0.1)
    return p


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(data_dir, split, shape, standardise=True):
    """Images as float32 of `shape` per image ((784,) or (1, 28, 28)), pixels / 255, standardised
    with MEAN and STD unless standardise=False; labels as int64."""
    pre = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(data_dir, f"{pre}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(data_dir, f"{pre}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(x.reshape(x.shape[0], *shape).astype(np.float32) / 255.0)
    return ((x - MEAN) / STD if standardise else x), torch.from_numpy(y.astype(np.int64))


def pixel_scaling(x_train, std_floor):
    """Per-pixel mean and std of the training images [N, 784] (population std; a pixel that never
    varies gets std 1), plus std_floor: examples/fashion_mnist_mlp.cpp's --normalize pixel."""
    x = x_train.double()
    mean = x.mean(0, keepdim=True)
    std = ((x - mean) ** 2).mean(0, keepdim=True).sqrt()
    std = torch.where(std <= 0, torch.ones_like(std), std) + std_floor
    return mean.float(), std.float()


def evaluate(model, x, y, batch):
    """Mean cross-entropy and accuracy, forward only, in eval mode."""
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for s in range(0, x.shape[0], batch):
            logits = model(x[s:s + batch])
            loss += F.cross_entropy(logits, y[s:s + batch], reduction="sum").item()
            correct += (logits.argmax(1) == y[s:s + batch]).sum().item()
    model.train()
    return loss / x.shape[0], correct / x.shape[0]
