"""alcm.Client: the same calls through the node's daemon (alcmd), per named stream."""
import ctypes

from . import _lib
import numpy as np

from ._core import as_array, make_shape, stream_config, info_dict, sched_dict, _ptr, \
    _dtype_code, header, _numpy_dtype
from ._errors import check_client


class Client:
    """A connection to alcmd on a Unix socket. Not for two threads at once: give each
    thread its own Client. compress() runs one step of the daemon's stream `stream` (error
    feedback and scheduler held by the daemon); the result's figures are in .last_result."""

    _h = None

    def __init__(self, socket, timeout_ms=60000, shm=True, client_name="alcm-python"):
        c = _lib.client()
        opts = _lib.ClientOptions()
        c.options_default(ctypes.byref(opts))
        opts.timeout_ms = int(timeout_ms)
        opts.shm = int(bool(shm))
        self._name = client_name.encode()
        opts.client_name = self._name
        h = ctypes.c_void_p()
        check_client(c.connect(str(socket).encode(), ctypes.byref(opts), ctypes.byref(h)))
        self._c, self._h = c, h
        self.last_result = None

    def close(self):
        if self._h:
            _lib.client().close(self._h)
            self._h = None

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def compress(self, array, stream, profile="gradient", error_budget=0.01, **kw):
        """One step of stream `stream`; keyword arguments as alcm.Stream's configuration."""
        arr = as_array(array)
        cfg, conf = stream_config(profile, error_budget, **kw)
        _dtype_code(arr, "bf16" if conf["dtype"] == "bf16" else None)
        shape = make_shape(arr.shape)
        cap = _lib.compress_bound(arr.nbytes)
        out = bytearray(cap)
        dst = (ctypes.c_char * cap).from_buffer(out)
        n = ctypes.c_size_t(0)
        r = _lib.CompressResult()
        st = self._c.compress(self._h, stream.encode(), ctypes.byref(cfg), ctypes.byref(shape),
                              _ptr(arr), arr.nbytes, ctypes.addressof(dst), cap,
                              ctypes.byref(n), ctypes.byref(r))
        del dst
        check_client(st, self._h)
        self.last_result = {"info": info_dict(r.info), "cpu_seconds": r.cpu_seconds,
                            "sched": sched_dict(r.sched),
                            "event": ["continued", "created", "recreated_after_eviction",
                                      "reconfigured"][r.event]}
        del out[n.value:]
        return bytes(out)

    def decompress(self, blob):
        """Decodes on the daemon; same result as alcm.decompress (which needs no daemon)."""
        buf, h = header(blob)
        arr = np.empty(tuple(int(h.shape.dims[k]) for k in range(h.shape.rank)),
                       dtype=_numpy_dtype(h.dtype, "uint16"))
        n = ctypes.c_size_t(0)
        check_client(self._c.decompress(self._h, _ptr(buf), buf.nbytes, _ptr(arr), arr.nbytes,
                                        ctypes.byref(n)), self._h)
        return arr

    def reset(self, stream):
        """Drops the stream's residual and scheduler state; True if it existed."""
        existed = ctypes.c_int(0)
        check_client(self._c.reset_stream(self._h, stream.encode(), ctypes.byref(existed)),
                     self._h)
        return bool(existed.value)
