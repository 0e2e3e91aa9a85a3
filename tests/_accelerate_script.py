"""Run by tests/test_accelerate.py under torchrun: one DDP training, 2 CPUs."""

import sys

import numpy as np
import torch
from accelerate import Accelerator

from vgestimators import TripletImageEmbedder
from vgestimators.datasets import make_forams


def main(out):
    accelerator = Accelerator(cpu=True)
    data = make_forams(n_species=4, n_images=96, image_size=16, random_state=0)
    emb = TripletImageEmbedder(
        backbone="resnet18",
        image_size=16,
        max_epochs=2,
        batch_size=16,
        accelerator=accelerator,
        verbose=0,
        random_state=0,
    ).fit(data.images, data.target)
    rank = accelerator.process_index
    batches = sum(row["train_batch_count"] for row in emb.history_)
    state = {k: v.detach().cpu() for k, v in emb.net_.module_.state_dict().items()}
    torch.save(state, f"{out}/weights{rank}.pt")
    Z = emb.transform(data.images)
    np.save(f"{out}/Z{rank}.npy", Z)
    with open(f"{out}/info{rank}.txt", "w") as handle:
        handle.write(f"{accelerator.num_processes} {batches} {len(data.images)}")


if __name__ == "__main__":
    main(sys.argv[1])
