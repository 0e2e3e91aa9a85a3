"""Training on several devices through skorch's AccelerateMixin (DDP)."""

import torch
from skorch.hf import AccelerateMixin

from ..utils._device import is_cuda
from ._net import EmbedderNet


class AcceleratedEmbedderNet(AccelerateMixin, EmbedderNet):
    """The embedder's skorch net, trained through Hugging Face Accelerate.

    skorch's :class:`~skorch.hf.AccelerateMixin` prepares the network, the
    loss, the optimizer and the training batches for the accelerator
    (DistributedDataParallel over the processes that ``accelerate launch``
    or ``torchrun`` started, mixed precision as the accelerator says).
    Three things are added to skorch's mixin:

    * a loss without trainable parameters (plain triplet losses) is not
      wrapped (DDP refuses modules without gradients); losses with a
      softmax head are;
    * at the end of training every process takes the first process's
      buffers (BatchNorm running statistics, which DDP keeps per process
      between its broadcasts), so that all hold one and the same network;
    * inference is skorch's: every process embeds its shard of the images
      and the shards are gathered, so ``transform`` is a collective call
      (every process calls it) that returns all embeddings in each.
    """

    def _initialize_accelerator(self):
        if self._wrapped_with_accelerator:
            return self
        frozen = {}
        for name in self._criteria:
            criterion = getattr(self, name + "_")
            if isinstance(criterion, torch.nn.Module) and not any(
                p.requires_grad for p in criterion.parameters()
            ):
                frozen[name] = criterion
                setattr(self, name + "_", None)  # not a Module: left unwrapped
        super()._initialize_accelerator()
        for name, criterion in frozen.items():
            setattr(self, name + "_", criterion.to(self.accelerator.device))
        return self

    def _on_cuda(self):
        return is_cuda(self.accelerator.device)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        super().on_train_end(net, X=X, y=y, **kwargs)
        if self.accelerator.num_processes > 1:
            from accelerate.utils import broadcast

            for name in self._modules:
                for buffer in getattr(self, name + "_").buffers():
                    buffer.copy_(broadcast(buffer.detach().clone(), from_process=0))
