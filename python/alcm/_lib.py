"""Every ctypes declaration of libalcm and libalcmc, in one place.

The rest of the package calls the C libraries only through the functions and structures
defined here, so a change of a C signature is one edit in this file. ctypes releases the
GIL for the duration of each foreign call.

Libraries are searched, in order: the directory in ALCM_LIBRARY_DIR; the build tree of the
repository this package sits in (<repo>/build/lib); the system's library path (an installed
copy, e.g. after `cmake --install`).
"""
import ctypes
import ctypes.util
import os

c_size_p = ctypes.POINTER(ctypes.c_size_t)

MAX_RANK = 8

# alcm_status codes (core/include/alcm.h)
OK = 0
E_ARG, E_NOMEM, E_DST_TOO_SMALL, E_SHAPE, E_DTYPE, E_NONFINITE = -1, -2, -3, -4, -5, -6
E_TRUNCATED, E_MAGIC, E_VERSION, E_CHECKSUM, E_CORRUPT, E_CODEC = -7, -8, -9, -10, -11, -12
E_BACKEND, E_LIMIT, E_INTERNAL, E_INPUT_CHANGED = -13, -14, -15, -16

# alcm_dtype, alcm_profile, alcm_backend, alcm_entropy_mode
DTYPE_F32, DTYPE_F16, DTYPE_BF16, DTYPE_BYTES = 1, 2, 3, 4
PROFILE_GRADIENT, PROFILE_LOSSLESS, PROFILE_BASELINE = 1, 2, 3
BACKEND_AUTO, BACKEND_ZLIB, BACKEND_ZSTD = 0, 1, 2
ENTROPY_LEARNED, ENTROPY_MEASURED = 0, 1

# alcmc_status codes that leave the connection usable are the request-level ones.
ALCMC_E_CODEC = -11


class Shape(ctypes.Structure):
    _fields_ = [("rank", ctypes.c_uint32), ("dims", ctypes.c_uint64 * MAX_RANK)]


# Growable structs start with struct_size, which the C _default functions set (docs/ABI.md):
# always fill them with those functions before changing fields.
class Params(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("profile", ctypes.c_int),
                ("dtype", ctypes.c_int), ("backend", ctypes.c_int),
                ("entropy_mode", ctypes.c_int), ("error_budget", ctypes.c_double),
                ("aggressiveness", ctypes.c_double), ("prune_ratio", ctypes.c_double),
                ("block_size", ctypes.c_uint32), ("level", ctypes.c_int),
                ("segments", ctypes.POINTER(ctypes.c_uint64)), ("n_segments", ctypes.c_uint32)]


class Info(ctypes.Structure):
    _fields_ = [("raw_bytes", ctypes.c_uint64), ("blob_bytes", ctypes.c_uint64),
                ("ratio", ctypes.c_double), ("rel_l2_error", ctypes.c_double),
                ("mean_bits", ctypes.c_double), ("pruned_fraction", ctypes.c_double),
                ("n_channels", ctypes.c_uint32), ("backend", ctypes.c_int),
                ("exact", ctypes.c_int), ("n_segments", ctypes.c_uint32),
                ("max_segment_error", ctypes.c_double)]


class Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("profile", ctypes.c_int), ("dtype", ctypes.c_int),
                ("backend", ctypes.c_int), ("shape", Shape), ("raw_bytes", ctypes.c_uint64),
                ("blob_bytes", ctypes.c_uint64), ("n_channels", ctypes.c_uint32),
                ("error_budget", ctypes.c_double), ("rel_l2_error", ctypes.c_double),
                ("n_segments", ctypes.c_uint32)]


class SchedConfig(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("error_budget", ctypes.c_double),
                ("window", ctypes.c_uint32),
                ("deterministic", ctypes.c_int), ("step_up", ctypes.c_double),
                ("back_off", ctypes.c_double), ("prune_max", ctypes.c_double)]


class SchedState(ctypes.Structure):
    _fields_ = [("steps", ctypes.c_uint64), ("aggressiveness", ctypes.c_double),
                ("prune_ratio", ctypes.c_double), ("last_ratio", ctypes.c_double),
                ("last_cpu_seconds", ctypes.c_double), ("last_caq", ctypes.c_double),
                ("last_rel_l2_error", ctypes.c_double), ("window_trend", ctypes.c_double),
                ("last_action", ctypes.c_int)]


class StreamConfig(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("params", Params), ("sched", SchedConfig),
                ("error_feedback", ctypes.c_int), ("adaptive", ctypes.c_int)]


class ClientOptions(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("timeout_ms", ctypes.c_int),
                ("client_name", ctypes.c_char_p), ("shm", ctypes.c_int)]


class CompressResult(ctypes.Structure):
    _fields_ = [("info", Info), ("cpu_seconds", ctypes.c_double), ("sched", SchedState),
                ("event", ctypes.c_int)]


def _candidates(name):
    env = os.environ.get("ALCM_LIBRARY_DIR")
    if env:
        yield os.path.join(env, name)
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, "..", "..", "build", "lib", name)
    found = ctypes.util.find_library(name[3:].split(".")[0])
    if found:
        yield found
    yield name + ".1"  # the SONAME (docs/ABI.md)


def _load(name):
    tried = []
    for path in _candidates(name):
        if os.path.sep in path and not os.path.exists(path):
            tried.append(path)
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    raise ImportError("cannot load %s; build the project (cmake --build build), install it, "
                      "or set ALCM_LIBRARY_DIR. Tried: %s" % (name, "; ".join(tried)))


def _fn(lib, name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


core = _load("libalcm.so")
P = ctypes.POINTER
vp, cvp, sz, i = ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int

strerror = _fn(core, "alcm_strerror", ctypes.c_char_p, i)
status_name = _fn(core, "alcm_status_name", ctypes.c_char_p, i)
params_default = _fn(core, "alcm_params_default", None, P(Params), i)
params_check = _fn(core, "alcm_params_check", i, P(Params))
cctx_create = _fn(core, "alcm_cctx_create", vp)
cctx_free = _fn(core, "alcm_cctx_free", None, vp)
dctx_create = _fn(core, "alcm_dctx_create", vp)
dctx_free = _fn(core, "alcm_dctx_free", None, vp)
compress_bound = _fn(core, "alcm_compress_bound", sz, sz)
compress = _fn(core, "alcm_compress", i, vp, P(Params), P(Shape), cvp, sz,
               P(ctypes.c_float), vp, sz, c_size_p, P(Info))
blob_header = _fn(core, "alcm_blob_header", i, cvp, sz, P(Header))
blob_channel_bits = _fn(core, "alcm_blob_channel_bits", i, cvp, sz, P(ctypes.c_float), sz,
                        P(ctypes.c_uint32))
decompress = _fn(core, "alcm_decompress", i, vp, cvp, sz, vp, sz, c_size_p)
sched_config_default = _fn(core, "alcm_sched_config_default", None, P(SchedConfig))
stream_config_default = _fn(core, "alcm_stream_config_default", None, P(StreamConfig))
_stream_create = _fn(core, "alcm_stream_create", i, P(StreamConfig), P(vp))
stream_free = _fn(core, "alcm_stream_free", None, vp)
stream_compress = _fn(core, "alcm_stream_compress", i, vp, P(Shape), cvp, sz, vp, sz, c_size_p,
                      P(Info), P(ctypes.c_double))
stream_reset = _fn(core, "alcm_stream_reset", None, vp)
stream_get_state = _fn(core, "alcm_stream_get_state", None, vp, P(SchedState))
stream_export_size = _fn(core, "alcm_stream_export_size", sz, vp)
stream_export = _fn(core, "alcm_stream_export", i, vp, vp, sz, c_size_p)
_stream_import = _fn(core, "alcm_stream_import", i, cvp, sz, P(vp))


def stream_create(cfg):
    """alcm_stream_create: returns (status, handle); the handle is None on failure."""
    h = vp()
    st = _stream_create(ctypes.byref(cfg), ctypes.byref(h))
    return (st, h.value) if st == OK else (st, None)


def stream_import(state, n):
    """alcm_stream_import: a new stream from exported state; returns (status, handle)."""
    h = vp()
    st = _stream_import(state, n, ctypes.byref(h))
    return (st, h.value) if st == OK else (st, None)


# Optional: the shared planner (core/include/alcm_exchange.h), when this build has it.
planner = None
if hasattr(core, "alcm_planner_create"):
    planner = type("planner", (), {})()
    planner.create = _fn(core, "alcm_planner_create", i, vp, P(vp))
    planner.free = _fn(core, "alcm_planner_free", None, vp)
    planner.choose = _fn(core, "alcm_planner_choose", i, vp, ctypes.c_uint64, ctypes.c_uint,
                         P(i))
    planner.record = _fn(core, "alcm_planner_record", None, vp, i, ctypes.c_uint64,
                         ctypes.c_double)

_client = None


def client():
    """libalcmc, loaded on first use (the daemon client is optional)."""
    global _client
    if _client is None:
        c = _load("libalcmc.so")
        ns = type("alcmc", (), {})()
        ns.strerror = _fn(c, "alcmc_strerror", ctypes.c_char_p, i)
        ns.status_name = _fn(c, "alcmc_status_name", ctypes.c_char_p, i)
        ns.options_default = _fn(c, "alcmc_options_default", None, P(ClientOptions))
        ns.connect = _fn(c, "alcmc_connect", i, ctypes.c_char_p, P(ClientOptions), P(vp))
        ns.close = _fn(c, "alcmc_close", None, vp)
        ns.last_message = _fn(c, "alcmc_last_message", ctypes.c_char_p, vp)
        ns.last_alcm_status = _fn(c, "alcmc_last_alcm_status", i, vp)
        ns.compress = _fn(c, "alcmc_compress", i, vp, ctypes.c_char_p, P(StreamConfig),
                          P(Shape), cvp, sz, vp, sz, c_size_p, P(CompressResult))
        ns.decompress = _fn(c, "alcmc_decompress", i, vp, cvp, sz, vp, sz, c_size_p)
        ns.reset_stream = _fn(c, "alcmc_reset_stream", i, vp, ctypes.c_char_p, P(i))
        _client = ns
    return _client
