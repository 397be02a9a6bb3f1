"""alcm.Error and its subclasses: one per status code of libalcm and libalcmc."""
from . import _lib


class Error(Exception):
    """A libalcm or libalcmc failure. .status is the numeric code, .name its symbol
    ("ALCM_E_CHECKSUM"), .message the library's one-line explanation."""

    def __init__(self, status, name, message, detail=None):
        self.status, self.name, self.message, self.detail = status, name, message, detail
        text = "%s: %s" % (name, message)
        if detail:
            text += " (%s)" % detail
        super().__init__(text)


class ArgumentError(Error, ValueError): pass
class MemoryError_(Error, MemoryError): pass
class BufferTooSmallError(Error): pass
class ShapeError(Error, ValueError): pass
class DtypeError(Error, TypeError): pass
class NonFiniteError(Error, ValueError): pass
class CorruptBlobError(Error, ValueError):
    """The blob is damaged: truncated, wrong magic or version, checksum, bad field, codec."""
class BackendError(Error): pass
class LimitError(Error): pass
class InternalError(Error): pass
class ClientError(Error):
    """A daemon-client failure (libalcmc); .codec_status is libalcm's status for ALCMC_E_CODEC."""
    codec_status = 0
class ConnectionError_(ClientError, ConnectionError):
    """The daemon is unreachable or the connection broke: reconnect."""


_CORE = {
    _lib.E_ARG: ArgumentError, _lib.E_NOMEM: MemoryError_,
    _lib.E_DST_TOO_SMALL: BufferTooSmallError, _lib.E_SHAPE: ShapeError,
    _lib.E_DTYPE: DtypeError, _lib.E_NONFINITE: NonFiniteError,
    _lib.E_TRUNCATED: CorruptBlobError, _lib.E_MAGIC: CorruptBlobError,
    _lib.E_VERSION: CorruptBlobError, _lib.E_CHECKSUM: CorruptBlobError,
    _lib.E_CORRUPT: CorruptBlobError, _lib.E_CODEC: CorruptBlobError,
    _lib.E_BACKEND: BackendError, _lib.E_LIMIT: LimitError, _lib.E_INTERNAL: InternalError,
    _lib.E_INPUT_CHANGED: ArgumentError,
}
# libalcmc: connect, daemon gone, timeout, protocol, version, denied, shutting down, io, broken,
# permission (the socket file refused this user)
_CONNECTION = {-3, -4, -5, -6, -7, -9, -13, -16, -17, -18}


def check(status, detail=None):
    """Raises the Error subclass of a libalcm status; returns None on ALCM_OK."""
    if status == _lib.OK:
        return
    cls = _CORE.get(status, Error)
    raise cls(status, _lib.status_name(status).decode(), _lib.strerror(status).decode(), detail)


def check_client(status, conn=None):
    """Raises the ClientError of a libalcmc status (with the daemon's message)."""
    if status == 0:
        return
    c = _lib.client()
    detail = c.last_message(conn).decode(errors="replace") if conn else None
    cls = ConnectionError_ if status in _CONNECTION else ClientError
    err = cls(status, c.status_name(status).decode(), c.strerror(status).decode(), detail or None)
    if conn and status == _lib.ALCMC_E_CODEC:
        err.codec_status = c.last_alcm_status(conn)
    raise err
