"""One-shot compress/decompress/inspect and alcm.Stream over libalcm."""
import ctypes

import numpy as np

from . import _lib
from ._errors import check, DtypeError, ShapeError, ArgumentError

PROFILES = {"gradient": _lib.PROFILE_GRADIENT, "lossless": _lib.PROFILE_LOSSLESS,
            "baseline": _lib.PROFILE_BASELINE}
BACKENDS = {"auto": _lib.BACKEND_AUTO, "zlib": _lib.BACKEND_ZLIB, "zstd": _lib.BACKEND_ZSTD}
DTYPE_NAMES = {_lib.DTYPE_F32: "f32", _lib.DTYPE_F16: "f16", _lib.DTYPE_BF16: "bf16",
               _lib.DTYPE_BYTES: "bytes"}
_PROFILE_NAMES = {v: k for k, v in PROFILES.items()}
_BACKEND_NAMES = {v: k for k, v in BACKENDS.items()}


def _dtype_code(arr, dtype):
    """The alcm dtype of an array. bf16 has no numpy dtype: pass its raw bit patterns as a
    uint16/int16 array with dtype="bf16"."""
    if dtype is not None:
        code = {"f32": _lib.DTYPE_F32, "f16": _lib.DTYPE_F16, "bf16": _lib.DTYPE_BF16,
                "bytes": _lib.DTYPE_BYTES}.get(dtype)
        if code is None:
            raise ValueError("dtype must be 'f32', 'f16', 'bf16' or 'bytes', not %r" % (dtype,))
        if arr.dtype.itemsize != {1: 4, 2: 2, 3: 2, 4: 1}[code]:
            raise TypeError("dtype=%r needs %d-byte elements, the array has %s"
                            % (dtype, {1: 4, 2: 2, 3: 2, 4: 1}[code], arr.dtype))
        return code
    if arr.dtype == np.float32:
        return _lib.DTYPE_F32
    if arr.dtype == np.float16:
        return _lib.DTYPE_F16
    if arr.dtype in (np.uint8, np.int8):
        return _lib.DTYPE_BYTES
    raise TypeError("alcm compresses float32, float16, bfloat16 (dtype='bf16' on uint16 bit "
                    "patterns) and uint8 arrays, not %s; pass arr.view(numpy.uint8) for raw "
                    "bytes" % arr.dtype)


def as_array(data):
    """A C-contiguous numpy view of data (no copy when it already is contiguous)."""
    if isinstance(data, np.ndarray):
        return np.ascontiguousarray(data)
    if isinstance(data, (bytes, bytearray, memoryview)):
        return np.frombuffer(data, dtype=np.uint8)
    return np.ascontiguousarray(np.asarray(data))


def make_shape(dims):
    if len(dims) > _lib.MAX_RANK:
        raise ShapeError(_lib.E_SHAPE, "ALCM_E_SHAPE", "rank %d above %d" % (len(dims), _lib.MAX_RANK))
    s = _lib.Shape()
    s.rank = len(dims)
    for k, d in enumerate(dims):
        s.dims[k] = d
    return s


def make_params(profile, dtype_code, error_budget=0.01, aggressiveness=1.0, prune_ratio=0.0,
                backend="auto", block_size=0, level=0, entropy="learned"):
    if profile not in PROFILES:
        raise ValueError("profile must be one of %s, not %r" % (sorted(PROFILES), profile))
    if backend not in BACKENDS:
        raise ValueError("backend must be one of %s, not %r" % (sorted(BACKENDS), backend))
    p = _lib.Params()
    _lib.params_default(ctypes.byref(p), PROFILES[profile])
    p.dtype = dtype_code
    p.backend = BACKENDS[backend]
    p.entropy_mode = {"learned": _lib.ENTROPY_LEARNED, "measured": _lib.ENTROPY_MEASURED}[entropy]
    p.error_budget = float(error_budget)
    p.aggressiveness = float(aggressiveness)
    p.prune_ratio = float(prune_ratio)
    p.block_size = int(block_size)
    p.level = int(level)
    check(_lib.params_check(ctypes.byref(p)))
    return p


def info_dict(info):
    return {"raw_bytes": info.raw_bytes, "blob_bytes": info.blob_bytes, "ratio": info.ratio,
            "rel_l2_error": info.rel_l2_error, "mean_bits": info.mean_bits,
            "pruned_fraction": info.pruned_fraction, "n_channels": info.n_channels,
            "backend": _BACKEND_NAMES.get(info.backend, info.backend), "exact": bool(info.exact)}


class _Ctx:
    """Per-thread reusable compression and decompression contexts."""
    import threading
    _tls = threading.local()

    @classmethod
    def cctx(cls):
        c = getattr(cls._tls, "cctx", None)
        if c is None:
            c = cls._tls.cctx = _Handle(_lib.cctx_create(), _lib.cctx_free)
        return c.h

    @classmethod
    def dctx(cls):
        d = getattr(cls._tls, "dctx", None)
        if d is None:
            d = cls._tls.dctx = _Handle(_lib.dctx_create(), _lib.dctx_free)
        return d.h


class _Handle:
    def __init__(self, h, free):
        if not h:
            raise MemoryError("libalcm could not allocate a context")
        self.h, self._free = h, free

    def __del__(self):
        if self.h:
            self._free(self.h)
            self.h = None


def _ptr(arr):
    return ctypes.c_void_p(arr.ctypes.data)


def compress(array, profile="gradient", error_budget=0.01, *, dtype=None, residual=None,
             aggressiveness=1.0, prune_ratio=0.0, backend="auto", block_size=0, level=0,
             entropy="learned", info=None):
    """Compresses a numpy array (float32, float16, bf16 bit patterns with dtype="bf16", or
    uint8 bytes) into an ALCM blob. The array is read in place when C-contiguous.
    residual: None or a float32 array of the same element count (gradient profile, error
    feedback), updated in place. info: None or a dict that receives the step's figures."""
    arr = as_array(array)
    code = _dtype_code(arr, dtype)
    params = make_params(profile, code, error_budget, aggressiveness, prune_ratio, backend,
                         block_size, level, entropy)
    shape = make_shape(arr.shape)
    res_p = None
    if residual is not None:
        if (not isinstance(residual, np.ndarray) or residual.dtype != np.float32
                or residual.size != arr.size or not residual.flags.c_contiguous
                or not residual.flags.writeable):
            raise ArgumentError(_lib.E_ARG, "ALCM_E_ARG",
                                "residual must be a writable contiguous float32 array of %d "
                                "elements" % arr.size)
        res_p = residual.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
    cap = _lib.compress_bound(arr.nbytes)
    out = bytearray(cap)
    dst = (ctypes.c_char * cap).from_buffer(out)
    n = ctypes.c_size_t(0)
    inf = _lib.Info()
    st = _lib.compress(_Ctx.cctx(), ctypes.byref(params), ctypes.byref(shape), _ptr(arr),
                       arr.nbytes, res_p, ctypes.addressof(dst), cap, ctypes.byref(n),
                       ctypes.byref(inf))
    del dst
    check(st)
    if info is not None:
        info.update(info_dict(inf))
    del out[n.value:]
    return bytes(out)


def _numpy_dtype(code, bf16):
    if code == _lib.DTYPE_F32:
        return np.dtype(np.float32)
    if code == _lib.DTYPE_F16:
        return np.dtype(np.float16)
    if code == _lib.DTYPE_BF16:
        return np.dtype(np.uint16)
    return np.dtype(np.uint8)


def header(blob):
    buf = as_array(blob)
    h = _lib.Header()
    check(_lib.blob_header(_ptr(buf), buf.nbytes, ctypes.byref(h)))
    return buf, h


def decompress(blob, *, bf16="uint16", out=None):
    """Decodes a blob into a new numpy array with the blob's shape and dtype: float32,
    float16, uint8 (bytes). numpy has no bfloat16: a bf16 tensor comes back as its uint16
    bit patterns (bf16="uint16", the default, exact), or widened exactly to float32
    (bf16="float32"). out: an optional contiguous array of the right size to decode into."""
    buf, h = header(blob)
    dt = _numpy_dtype(h.dtype, bf16)
    dims = tuple(int(h.shape.dims[k]) for k in range(h.shape.rank))
    if out is None:
        arr = np.empty(dims, dtype=dt)
    else:
        if (not isinstance(out, np.ndarray) or out.dtype.itemsize != dt.itemsize
                or out.nbytes != h.raw_bytes or not out.flags.c_contiguous
                or not out.flags.writeable):
            raise ArgumentError(_lib.E_ARG, "ALCM_E_ARG", "out must be a writable contiguous "
                                "array of %d bytes and %d-byte elements" % (h.raw_bytes, dt.itemsize))
        arr = out
    n = ctypes.c_size_t(0)
    check(_lib.decompress(_Ctx.dctx(), _ptr(buf), buf.nbytes, _ptr(arr), arr.nbytes, ctypes.byref(n)))
    if bf16 not in ("uint16", "float32"):
        raise ValueError("bf16 must be 'uint16' or 'float32'")
    if h.dtype == _lib.DTYPE_BF16 and bf16 == "float32":
        return (arr.astype(np.uint32) << 16).view(np.float32)
    return arr


def inspect(blob):
    """The validated header of a blob as a dict (no payload decoding)."""
    buf, h = header(blob)
    d = {"version": h.version, "profile": _PROFILE_NAMES.get(h.profile, h.profile),
         "dtype": DTYPE_NAMES.get(h.dtype, h.dtype), "backend": _BACKEND_NAMES.get(h.backend, h.backend),
         "shape": tuple(int(h.shape.dims[k]) for k in range(h.shape.rank)),
         "raw_bytes": h.raw_bytes, "blob_bytes": h.blob_bytes,
         "ratio": (h.raw_bytes / h.blob_bytes) if h.blob_bytes else 0.0,
         "n_channels": h.n_channels}
    if h.profile == _lib.PROFILE_GRADIENT:
        d["error_budget"] = h.error_budget
        d["rel_l2_error"] = h.rel_l2_error
        nch = ctypes.c_uint32(0)
        count = h.n_channels
        if h.n_segments:  # channels of a segmented blob are in its inner blobs
            check(_lib.blob_channel_bits(_ptr(buf), buf.nbytes, None, 0, ctypes.byref(nch)))
            count = d["n_channels"] = nch.value
        bits = np.empty(max(count, 1), dtype=np.float32)
        check(_lib.blob_channel_bits(_ptr(buf), buf.nbytes,
                                     bits.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                     bits.size, ctypes.byref(nch)))
        d["channel_bits"] = bits[:nch.value].tolist()
    return d


def sched_dict(s):
    return {"steps": s.steps, "aggressiveness": s.aggressiveness, "prune_ratio": s.prune_ratio,
            "last_ratio": s.last_ratio, "last_cpu_seconds": s.last_cpu_seconds,
            "last_caq": s.last_caq, "last_rel_l2_error": s.last_rel_l2_error,
            "window_trend": s.window_trend, "last_action": s.last_action}


def stream_config(profile="gradient", error_budget=0.01, *, dtype="f32", error_feedback=True,
                  adaptive=False, deterministic=False, window=5, aggressiveness=1.0,
                  prune_ratio=0.0, backend="auto", block_size=0, level=0, entropy="learned"):
    """An alcm_stream_config (and the keyword dict it was made from, for state_dict)."""
    kw = dict(profile=profile, error_budget=float(error_budget), dtype=dtype,
              error_feedback=bool(error_feedback), adaptive=bool(adaptive),
              deterministic=bool(deterministic), window=int(window),
              aggressiveness=float(aggressiveness), prune_ratio=float(prune_ratio),
              backend=backend, block_size=int(block_size), level=int(level), entropy=entropy)
    cfg = _lib.StreamConfig()
    _lib.stream_config_default(ctypes.byref(cfg))
    code = {"f32": _lib.DTYPE_F32, "f16": _lib.DTYPE_F16, "bf16": _lib.DTYPE_BF16,
            "bytes": _lib.DTYPE_BYTES}[dtype]
    cfg.params = make_params(profile, code, min(float(error_budget), 1.0), aggressiveness,
                             prune_ratio, backend, block_size, level, entropy)
    cfg.sched.error_budget = float(error_budget)
    cfg.sched.window = int(window)
    cfg.sched.deterministic = int(bool(deterministic))
    cfg.error_feedback = int(bool(error_feedback))
    cfg.adaptive = int(bool(adaptive))
    return cfg, kw


class Stream:
    """One compression stream: error feedback (a residual carried across steps) and, with
    adaptive=True, the CAQ scheduler (off by default, as in libalcm: static aggressiveness 1
    measured better, docs/DESIGN.md "Ablation"), as the daemon and the MPI hook hold per
    tensor. Feed it the same tensor
    (same element count) step after step. state_dict()/load_state_dict() carry the residual
    and the whole scheduler state, so a resumed stream continues bit for bit (with
    deterministic=True, or adaptive=False, the blobs are then identical)."""

    def __init__(self, profile="gradient", error_budget=0.01, **kw):
        self._cfg, self.config = stream_config(profile, error_budget, **kw)
        st, h = _lib.stream_create(self._cfg)
        check(st, "stream configuration rejected")
        self._h = _Handle(h, _lib.stream_free)
        self.last_info = None

    def compress(self, array):
        arr = as_array(array)
        code = _dtype_code(arr, "bf16" if self.config["dtype"] == "bf16" else None)
        if code != self._cfg.params.dtype:
            raise DtypeError(_lib.E_DTYPE, "ALCM_E_DTYPE", "stream carries %s, got %s"
                             % (self.config["dtype"], arr.dtype))
        shape = make_shape(arr.shape)
        cap = _lib.compress_bound(arr.nbytes)
        out = bytearray(cap)
        dst = (ctypes.c_char * cap).from_buffer(out)
        n = ctypes.c_size_t(0)
        inf = _lib.Info()
        st = _lib.stream_compress(self._h.h, ctypes.byref(shape), _ptr(arr), arr.nbytes,
                                  ctypes.addressof(dst), cap, ctypes.byref(n),
                                  ctypes.byref(inf), None)
        del dst
        check(st)
        self.last_info = info_dict(inf)
        del out[n.value:]
        return bytes(out)

    def reset(self):
        _lib.stream_reset(self._h.h)

    @property
    def state(self):
        s = _lib.SchedState()
        _lib.stream_get_state(self._h.h, ctypes.byref(s))
        return sched_dict(s)

    def export_state(self):
        """The stream's configuration, scheduler state and residual as bytes, with a CRC
        (docs/STATE.md: the same bytes alcmd's state files and export-state op carry)."""
        cap = _lib.stream_export_size(self._h.h)
        buf = ctypes.create_string_buffer(cap)
        n = ctypes.c_size_t(0)
        check(_lib.stream_export(self._h.h, buf, cap, ctypes.byref(n)))
        return buf.raw[:n.value]

    def import_state(self, data):
        """Continues from exported state: every field is checked first, and on an error this
        stream is left as it was."""
        buf = as_array(data)
        st, h = _lib.stream_import(_ptr(buf), buf.nbytes)
        check(st)
        self._h = _Handle(h, _lib.stream_free)

    def state_dict(self):
        return {"config": dict(self.config), "state": self.export_state()}

    def load_state_dict(self, sd):
        if sd.get("config") != self.config:
            raise ArgumentError(_lib.E_ARG, "ALCM_E_ARG",
                                "state was saved from a stream with another configuration",
                                "saved %r, this stream %r" % (sd.get("config"), self.config))
        self.import_state(sd["state"])
