"""Training and transform throughput of TripletImageEmbedder vs a plain loop.

Both paths train the same network (torchvision ResNet with the embedder's
stem, ``--stem``, + linear embedding head), with the same loss (triplet
margin loss with semi-hard mining), batch size, optimizer, learning-rate
schedule (``--lr-schedule``) and number of steps, on the same in-memory
uint8 images:

* ``TripletImageEmbedder.fit`` (skorch, DataLoader, P x m sampler), timed
  from skorch's per-epoch durations after one warm-up epoch;
* a hand-written PyTorch loop indexing batches out of a tensor that already
  sits on the device (the ceiling).

It prints images/s of both and their ratio (goal: >= 0.9), then the same
for inference (``transform`` against a plain no-grad loop).

Examples::

    python benchmarks/bench_embedder.py                      # CPU, resnet18, 64 px
    python benchmarks/bench_embedder.py --device cuda --backbone resnet50 \\
        --image-size 224 --batch-size 128 --bf16
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def _images(n, size, n_classes, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)
    y = np.arange(n) % n_classes
    return X, y


def _sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


class _PlainTrainer:
    """The same network, loss, optimizer and schedule, stepped by hand."""

    def __init__(self, args, steps):
        from pytorch_metric_learning.losses import TripletMarginLoss
        from pytorch_metric_learning.miners import TripletMarginMiner

        from vgestimators.vision._net import EmbeddingNetwork

        self.device = args.device
        torch.manual_seed(0)
        net = EmbeddingNetwork(
            args.backbone, None, 128, stem=args.stem, image_size=args.image_size
        ).to(self.device)
        self.channels_last = self.device.startswith("cuda")
        if self.channels_last:
            net = net.to(memory_format=torch.channels_last)
        self.net = net.train()
        self.loss_fn = TripletMarginLoss(margin=0.2)
        self.miner = TripletMarginMiner(margin=0.2, type_of_triplets="semihard")
        self.optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)
        self.scheduler = (
            torch.optim.lr_scheduler.OneCycleLR(
                self.optimizer, max_lr=1e-3, total_steps=args.warmup + steps
            )
            if args.lr_schedule == "onecycle"
            else None
        )
        self.amp = torch.bfloat16 if args.bf16 else None

    def step(self, batch, target):
        if self.channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        with torch.autocast(
            torch.device(self.device).type, dtype=self.amp, enabled=self.amp is not None
        ):
            emb = self.net(batch)
        emb = emb.float()
        loss = self.loss_fn(emb, target, self.miner(emb, target))
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()


def _images_per_second(step, args, steps):
    """Images/s of ``steps`` calls of ``step`` after ``args.warmup`` untimed ones."""
    for _ in range(args.warmup):
        step()
    _sync(args.device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(args.device)
    return steps * args.batch_size / (time.perf_counter() - start)


def plain_training(X, y, args, steps):
    """The ceiling: batches indexed out of device-resident tensors."""
    trainer = _PlainTrainer(args, steps)
    device = args.device
    images = torch.from_numpy(X).permute(0, 3, 1, 2).contiguous().to(device)
    labels = torch.from_numpy(y).to(device)
    # P x m batches, like the embedder's sampler
    m = 4
    per_class = [torch.nonzero(labels == c).flatten() for c in labels.unique()]
    generator = torch.Generator().manual_seed(0)

    def step():
        classes = torch.randperm(len(per_class), generator=generator)[
            : args.batch_size // m
        ]
        index = torch.cat(
            [
                per_class[c][
                    torch.randint(len(per_class[c]), (m,), generator=generator)
                ]
                for c in classes.tolist()
            ]
        )
        trainer.step(images[index], labels[index])

    return _images_per_second(step, args, steps)


class _PngFiles(torch.utils.data.Dataset):
    """PNG files decoded one by one (in DataLoader worker processes)."""

    def __init__(self, paths, y):
        self.paths, self.y = paths, y

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        from PIL import Image

        with Image.open(self.paths[i]) as im:
            arr = np.array(im.convert("RGB"), dtype=np.uint8)
        return torch.from_numpy(arr).permute(2, 0, 1).contiguous(), int(self.y[i])


def plain_training_files(paths, y, args, steps):
    """A plain loop over image files decoded by DataLoader workers."""
    trainer = _PlainTrainer(args, steps)
    device = args.device
    loader = torch.utils.data.DataLoader(
        _PngFiles(paths, y),
        batch_size=args.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=args.workers,
        pin_memory=device.startswith("cuda"),
        persistent_workers=args.workers > 0,
        generator=torch.Generator().manual_seed(0),
    )
    batches = iter(loader)

    def step():
        nonlocal batches
        try:
            images, target = next(batches)
        except StopIteration:
            batches = iter(loader)
            images, target = next(batches)
        trainer.step(
            images.to(device, non_blocking=True), target.to(device, non_blocking=True)
        )

    return _images_per_second(step, args, steps)


def write_png_files(X, folder):
    """The in-memory images as PNG files (for the from-files measurement)."""
    from PIL import Image

    paths = []
    for i, image in enumerate(X):
        path = Path(folder) / f"img{i:06d}.png"
        Image.fromarray(image).save(path, compress_level=1)
        paths.append(str(path))
    return np.asarray(paths)


def embedder_training(X, y, args, steps):
    from vgestimators.vision import TripletImageEmbedder

    epochs = 3
    per_epoch = max(1, steps // (epochs - 1))
    n = per_epoch * args.batch_size
    emb = TripletImageEmbedder(
        backbone=args.backbone,
        weights=None,
        image_size=args.image_size,
        stem=args.stem,
        lr_schedule=args.lr_schedule,
        loss="triplet",
        miner="semihard",
        triplet_margin=0.2,
        sampler="m_per_class",
        m_per_class=4,
        augment=False,
        max_epochs=epochs,
        batch_size=args.batch_size,
        lr=1e-3,
        weight_decay=1e-4,
        precision="bf16" if args.bf16 else "fp32",
        device=args.device,
        random_state=0,
        verbose=0,
        iterator_train__num_workers=args.workers,
    )
    emb.fit(X[:n], y[:n])
    history = emb.history_
    batches = sum(row["train_batch_count"] for row in history[1:])
    seconds = sum(row["dur"] for row in history[1:])
    return batches * args.batch_size / seconds, emb


def plain_inference(emb, X, args):
    net = emb.net_.module_.eval()
    device = args.device
    amp = torch.bfloat16 if args.bf16 else None
    images = torch.from_numpy(X).permute(0, 3, 1, 2).contiguous()
    _sync(device)
    start = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(images), args.batch_size):
            batch = images[i : i + args.batch_size].to(device, non_blocking=True)
            if device.startswith("cuda"):
                batch = batch.contiguous(memory_format=torch.channels_last)
            with torch.autocast(
                torch.device(device).type, dtype=amp, enabled=amp is not None
            ):
                out = net(batch)
            torch.nn.functional.normalize(out.float(), dim=1).cpu()
    _sync(device)
    return len(images) / (time.perf_counter() - start)


def embedder_inference(emb, X):
    emb.transform(X[: emb.batch_size])  # warm-up
    start = time.perf_counter()
    emb.transform(X)
    return len(X) / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--stem", default="auto", choices=["auto", "torchvision", "small"]
    )
    parser.add_argument(
        "--lr-schedule", default="onecycle", choices=["onecycle", "constant"]
    )
    parser.add_argument("--steps", type=int, default=10, help="timed training steps")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast (CUDA)")
    parser.add_argument("--workers", type=int, default=None, help="DataLoader workers")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--transform-images", type=int, default=512)
    parser.add_argument(
        "--from-files",
        action="store_true",
        help="also measure both paths on PNG files decoded by DataLoader workers",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.workers is None:
        args.workers = 8 if args.device.startswith("cuda") else 0

    n_classes = 64
    n = max(args.steps, 2) * args.batch_size
    X, y = _images(max(n, args.transform_images), args.image_size, n_classes)
    where = torch.cuda.get_device_name() if args.device.startswith("cuda") else "CPU"
    print(
        f"device={args.device} ({where}), backbone={args.backbone}, "
        f"image_size={args.image_size}, stem={args.stem}, "
        f"lr_schedule={args.lr_schedule}, batch_size={args.batch_size}, "
        f"bf16={args.bf16}, torch threads={torch.get_num_threads()}"
    )
    figures = {}
    ours, emb = embedder_training(X, y, args, args.steps)
    plain = plain_training(X, y, args, args.steps)
    figures["train_memory"] = (ours, plain)
    print(f"training   plain loop: {plain:9.1f} images/s")
    print(f"training   embedder  : {ours:9.1f} images/s")
    print(f"training   ratio embedder/plain: {ours / plain:.3f} (goal >= 0.9)")
    if args.from_files:
        with tempfile.TemporaryDirectory() as folder:
            n_files = max(args.steps, 2) * args.batch_size
            paths = write_png_files(X[:n_files], folder)
            ours_f, _ = embedder_training(paths, y[:n_files], args, args.steps)
            plain_f = plain_training_files(paths, y[:n_files], args, args.steps)
        figures["train_files"] = (ours_f, plain_f)
        print(
            f"from files plain loop: {plain_f:9.1f} images/s ({args.workers} workers)"
        )
        print(f"from files embedder  : {ours_f:9.1f} images/s")
        print(f"from files ratio embedder/plain: {ours_f / plain_f:.3f}")
    Xt = X[: args.transform_images]
    plain_t = plain_inference(emb, Xt, args)
    ours_t = embedder_inference(emb, Xt)
    figures["transform"] = (ours_t, plain_t)
    print(f"transform  plain loop: {plain_t:9.1f} images/s")
    print(f"transform  embedder  : {ours_t:9.1f} images/s")
    print(f"transform  ratio embedder/plain: {ours_t / plain_t:.3f}")
    return figures


if __name__ == "__main__":
    main()
