"""alcm: adaptive learned compression for gradients and checkpoints (libalcm over ctypes).

    import alcm, numpy as np
    blob = alcm.compress(np.random.rand(64, 64).astype("f4"))          # gradient, 1 % budget
    x = alcm.decompress(blob)                                          # shape and dtype back
    alcm.compress(w, profile="lossless")                                # exact
    s = alcm.Stream(error_budget=0.5); s.compress(g); s.state_dict()    # error feedback
    alcm.Client("/run/alcm/alcm.sock").compress(g, stream="rank0/fc1")  # through alcmd

numpy has no bfloat16: pass bf16 tensors as their uint16 bit patterns with dtype="bf16";
decompress returns them as uint16 (or float32 with bf16="float32"). alcm.torch has the
PyTorch pieces (checkpoints, the DDP communication hook).
"""
from ._errors import (Error, ArgumentError, BufferTooSmallError, ShapeError, DtypeError,
                      NonFiniteError, CorruptBlobError, BackendError, LimitError,
                      InternalError, ClientError, ConnectionError_ as ConnectionError)
from ._core import compress, decompress, inspect, Stream
from ._client import Client

__version__ = "0.1.0"
__all__ = ["compress", "decompress", "inspect", "Stream", "Client", "Error", "ArgumentError",
           "BufferTooSmallError", "ShapeError", "DtypeError", "NonFiniteError",
           "CorruptBlobError", "BackendError", "LimitError", "InternalError", "ClientError",
           "ConnectionError"]
