"""TLS for DICOM associations (PS3.15 Annex B secure transport profiles) with Python's ``ssl``,
compatible with DCMTK's dcmtls: the same profiles, cipher suites, peer certificate modes and
error wording.

    ctx = create_context(TLSOptions(server=False, key_file="me.key", cert_file="me.pem",
                                    ca_files=["ca.pem"]))
    with associate("pacs", 2762, contexts, tls=ctx) as assoc: ...
    AE("STORESCP", tls=create_context(TLSOptions(server=True, ...)))

The handshake runs after the TCP connection and before the A-ASSOCIATE exchange; a failed
handshake raises :class:`TLSError` (an ``OSError``) whose text is DCMTK's (``000b:0886 TLS
error: certificate verify failed``). Host names are not checked (DICOM peers are identified by
their certificate chain, as in DCMTK).
"""
from __future__ import annotations

import os
import socket
import ssl
import tempfile
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

from .netlog import DEBUG

# DCMTK's cipher suite table (its order, the order of ``--list-ciphers``): IANA name, code point
CIPHER_SUITES = [
    ("TLS_RSA_WITH_NULL_SHA", 0x0002), ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", 0x000A),
    ("TLS_RSA_WITH_AES_128_CBC_SHA", 0x002F), ("TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", 0x0041),
    ("TLS_RSA_WITH_AES_128_CBC_SHA256", 0x003C), ("TLS_RSA_WITH_AES_128_GCM_SHA256", 0x009C),
    ("TLS_RSA_WITH_CAMELLIA_256_CBC_SHA", 0x0084), ("TLS_RSA_WITH_AES_256_CBC_SHA", 0x0035),
    ("TLS_RSA_WITH_AES_256_CBC_SHA256", 0x003D), ("TLS_RSA_WITH_AES_256_GCM_SHA384", 0x009D),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 0xC009), ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0xC013),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", 0xC023),
    ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", 0xC027),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0xC02B),
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xC02F),
    ("TLS_DHE_DSS_WITH_AES_128_CBC_SHA", 0x0032), ("TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA", 0x0044),
    ("TLS_DHE_RSA_WITH_AES_128_CBC_SHA", 0x0033), ("TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA", 0x0045),
    ("TLS_DHE_DSS_WITH_AES_128_CBC_SHA256", 0x0040), ("TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", 0x0067),
    ("TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", 0x00A2), ("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", 0x009E),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 0xC00A), ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 0xC014),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", 0xC024),
    ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", 0xC028),
    ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 0xCCA9),
    ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xCCA8),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 0xC02C),
    ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0xC030),
    ("TLS_DHE_DSS_WITH_AES_256_CBC_SHA", 0x0038), ("TLS_DHE_RSA_WITH_AES_256_CBC_SHA", 0x0039),
    ("TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA", 0x0087), ("TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA", 0x0088),
    ("TLS_DHE_DSS_WITH_AES_256_CBC_SHA256", 0x006A), ("TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", 0x006B),
    ("TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xCCAA),
    ("TLS_DHE_DSS_WITH_AES_256_GCM_SHA384", 0x00A3), ("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", 0x009F),
]
_CODES = dict(CIPHER_SUITES)
_BCP195 = ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
           "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"]


@dataclass(frozen=True)
class Profile:
    """A security profile: protocol versions and the TLS <= 1.2 cipher suites, as measured on
    DCMTK 3.6.7's ClientHello (TLS 1.3 suites are OpenSSL's defaults)."""
    description: str
    min_version: ssl.TLSVersion
    max_version: ssl.TLSVersion
    ciphers: tuple[str, ...]
    security_level: int | None = None


PROFILES = {
    "bcp195-nd": Profile("Non-downgrading BCP 195 TLS Profile", ssl.TLSVersion.TLSv1_2,
                         ssl.TLSVersion.MAXIMUM_SUPPORTED, tuple(_BCP195)),
    "bcp195": Profile("BCP 195 TLS Profile", ssl.TLSVersion.TLSv1, ssl.TLSVersion.MAXIMUM_SUPPORTED,
                      (*_BCP195, "TLS_RSA_WITH_AES_128_CBC_SHA")),
    "bcp195-ex": Profile("Extended BCP 195 TLS Profile", ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2,
                         (*_BCP195, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                          "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")),
    "aes": Profile("AES TLS Secure Transport Connection Profile", ssl.TLSVersion.TLSv1,
                   ssl.TLSVersion.TLSv1_2, ("TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA")),
    "null": Profile("Authenticated unencrypted communication", ssl.TLSVersion.TLSv1,
                    ssl.TLSVersion.TLSv1_2, ("TLS_RSA_WITH_NULL_SHA",), security_level=0),
}

# RFC 7919's ffdhe2048 group: what a server offers DHE suites with unless +dp names other
# parameters (DCMTK's servers have built-in ones; OpenSSL through Python has none by default)
FFDHE2048 = b"""-----BEGIN DH PARAMETERS-----
MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz
+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a
87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7
YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi
7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD
ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==
-----END DH PARAMETERS-----
"""

VERIFY_MODES = {"require": ssl.CERT_REQUIRED, "verify": ssl.CERT_OPTIONAL, "ignore": ssl.CERT_NONE}


@dataclass
class TLSOptions:
    """DCMTK's TLS options as a library object (see ``apps/_tlsopts.py`` for the command line).

    ``key_file``/``cert_file`` None: anonymous (a client without a certificate). ``password``:
    a string, or a callable asked only if the key is encrypted. ``verify``: 'require' (-rc),
    'verify' (-vc, servers only) or 'ignore' (-ic). ``crl``: None, 'leaf' (+crv) or 'all'
    (+cra). Files that cannot be loaded are reported through ``warn`` and ignored, as DCMTK.
    """
    server: bool = False
    key_file: str | None = None
    cert_file: str | None = None
    password: str | Callable[[], str] | None = None
    der: bool = False
    ca_files: list[str] = field(default_factory=list)
    ca_dirs: list[str] = field(default_factory=list)
    crl_files: list[str] = field(default_factory=list)
    crl: str | None = None
    profile: str = "bcp195-nd"
    ciphers: list[str] = field(default_factory=list)
    dh_params: str | None = None
    seed_file: str | None = None
    write_seed_file: str | None = None
    verify: str = "require"
    warn: Callable[[str], None] = lambda message: None


class TLSSetupError(Exception):
    """The TLS context cannot be made (key, certificate, cipher suite): ``str()`` is DCMTK's
    fatal message, ``detail`` (may be empty) says more about the cause."""

    def __init__(self, text: str, detail: str = "") -> None:
        super().__init__(text)
        self.detail = detail


class TLSError(ConnectionError):
    """The TLS handshake failed; ``str()`` is DCMTK's condition text, ``detail`` OpenSSL's
    certificate verification message (if any), ``probe`` True when the peer closed before
    sending a byte (a port check, not an error)."""

    tls_condition = True          # describe_failure() prints str() as it is

    def __init__(self, text: str, detail: str = "", probe: bool = False) -> None:
        super().__init__(text)
        self.text, self.detail, self.probe = text, detail, probe

    def __str__(self) -> str:
        return self.text


# ---------------------------------------------------------------------------------------------
# the context


def supported_ciphers() -> dict[str, str]:
    """IANA name -> OpenSSL name of DCMTK's suites this OpenSSL offers, in DCMTK's order."""
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    probe.set_ciphers("ALL:eNULL:@SECLEVEL=0")
    by_code = {c["id"] & 0xFFFF: c["name"] for c in probe.get_ciphers() if c["id"] >> 24 == 3}
    return {name: by_code[code] for name, code in CIPHER_SUITES if code in by_code}


def create_context(opts: TLSOptions) -> ssl.SSLContext:
    """An SSLContext for ``opts``; raises TLSSetupError with DCMTK's message."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if opts.server else ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = VERIFY_MODES[opts.verify if opts.server or opts.verify != "verify" else "require"]
    _set_profile(ctx, opts)
    _seed(opts)
    if opts.key_file is not None and opts.cert_file is not None:
        _load_identity(ctx, opts)
    for path in opts.ca_files:
        _load_ca_file(ctx, path, opts)
    for path in opts.ca_dirs:
        _load_ca_dir(ctx, path, opts)
    for path in opts.crl_files:
        _load_crl(ctx, path, opts)
    if opts.crl or opts.crl_files:
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN if opts.crl == "all" else ssl.VERIFY_CRL_CHECK_LEAF
    if opts.server:
        _load_dh(ctx, opts)
    return ctx


def _load_dh(ctx: ssl.SSLContext, opts: TLSOptions) -> None:
    """+dp's DH parameters, else RFC 7919's ffdhe2048 (DHE suites need one or the other)."""
    if opts.dh_params:
        try:
            ctx.load_dh_params(opts.dh_params)
            return
        except (OSError, ValueError, ssl.SSLError):
            opts.warn(f"unable to load temporary DH parameter file '{opts.dh_params}', ignoring")
    with tempfile.TemporaryDirectory(prefix="dcmpy-tls-") as tmp:
        path = os.path.join(tmp, "ffdhe2048.pem")
        with open(path, "wb") as f:
            f.write(FFDHE2048)
        ctx.load_dh_params(path)


def _set_profile(ctx: ssl.SSLContext, opts: TLSOptions) -> None:
    profile = PROFILES[opts.profile]
    available = supported_ciphers()
    for name in opts.ciphers:
        if name not in available:
            raise TLSSetupError("0001:0007 Illegal call, perhaps wrong parameters",
                                f"ciphersuite '{name}' is unknown or not supported by "
                                f"{ssl.OPENSSL_VERSION}")
    names = [available[n] for n in (*profile.ciphers, *opts.ciphers) if n in available]
    if opts.server:        # DCMTK's servers prefer the list's last suites (measured: +pz picks
        names.reverse()    # DHE-RSA-AES256-GCM-SHA384 when the client offers its whole list)
    level = profile.security_level if profile.security_level is not None else (
        0 if any(n == "TLS_RSA_WITH_NULL_SHA" for n in opts.ciphers) else None)
    with warnings.catch_warnings():           # TLS 1.0/1.1 are deprecated, and BCP 195 allows them
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = profile.min_version
        ctx.maximum_version = profile.max_version
    ctx.set_ciphers(":".join(names) + (f":@SECLEVEL={level}" if level is not None else ""))


def _seed(opts: TLSOptions) -> None:
    """+rs: mix a file into OpenSSL's random generator; +ws/+wf: write fresh bytes back."""
    if opts.seed_file is None:
        return
    try:
        with open(opts.seed_file, "rb") as f:
            data = f.read(1 << 20)
        ssl.RAND_add(data, len(data))
    except OSError:
        pass                                 # DCMTK ignores a missing seed file too
    if opts.write_seed_file:
        _atomic_write(opts.write_seed_file, ssl.RAND_bytes(1024), opts)


def _atomic_write(path: str, data: bytes, opts: TLSOptions) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, temp = tempfile.mkstemp(prefix=".dcmpy-seed-", dir=directory)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temp, path)
    except OSError as exc:
        opts.warn(f"cannot write random seed file '{path}': {exc.strerror or exc}, ignoring")


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read(1 << 22)


def _pem(der: bytes, label: str) -> bytes:
    import base64
    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return b"-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label.encode(), b"\n".join(lines),
                                                             label.encode())


def _load_identity(ctx: ssl.SSLContext, opts: TLSOptions) -> None:
    """Key and certificate (PEM, or DER with -der), checked against each other."""
    key, cert = opts.key_file, opts.cert_file
    try:
        key_data = _read(key)
    except OSError:
        raise TLSSetupError(f"000b:0004 Unable to load private TLS key from '{key}'") from None
    try:
        cert_data = _read(cert)
        cert_pem = _pem(cert_data, "CERTIFICATE") if opts.der else cert_data
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=cert_pem.decode("ascii"))
    except (OSError, ValueError, UnicodeDecodeError, ssl.SSLError):
        raise TLSSetupError(f"000b:0006 Private key '{key}' and certificate '{cert}' do not match",
                            f"cannot read certificate file '{cert}'") from None
    candidates = [key_data] if not opts.der else [
        _pem(key_data, label) for label in ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY",
                                            "ENCRYPTED PRIVATE KEY")]
    last: Exception | None = None
    with tempfile.TemporaryDirectory(prefix="dcmpy-tls-") as tmp:    # mode 0700
        cert_path = os.path.join(tmp, "cert.pem")
        with open(cert_path, "wb") as f:
            f.write(cert_pem)
        for n, pem in enumerate(candidates):
            key_path = os.path.join(tmp, f"key{n}.pem")
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
            try:
                ctx.load_cert_chain(cert_path, key_path, password=_password(opts))
                return
            except ssl.SSLError as exc:
                if exc.reason == "KEY_VALUES_MISMATCH":
                    raise TLSSetupError(f"000b:0006 Private key '{key}' and certificate '{cert}' "
                                        "do not match") from None
                last = exc
            except (OSError, ValueError, TypeError) as exc:
                last = exc
    raise TLSSetupError(f"000b:0004 Unable to load private TLS key from '{key}'",
                        _reason_text(last) if isinstance(last, ssl.SSLError) else "")


def _password(opts: TLSOptions) -> Any:
    """What ``load_cert_chain`` takes: a callable (asked only for an encrypted key) or bytes."""
    pw = opts.password
    if pw is None:
        return lambda: ""
    if callable(pw):
        return pw
    return pw.encode("utf-8")


def _load_ca_file(ctx: ssl.SSLContext, path: str, opts: TLSOptions) -> None:
    try:
        data = _read(path)
        if opts.der:
            ctx.load_verify_locations(cadata=data)
        else:
            ctx.load_verify_locations(cadata=data.decode("ascii"))
    except (OSError, ValueError, UnicodeDecodeError, ssl.SSLError):
        opts.warn(f"unable to load certificate file '{path}', ignoring")


def _load_ca_dir(ctx: ssl.SSLContext, path: str, opts: TLSOptions) -> None:
    """+cd: OpenSSL's hashed directory lookup for PEM (as DCMTK); with -der every file in it."""
    if not opts.der:
        if os.path.isdir(path):
            ctx.load_verify_locations(capath=path)
        return
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return
    for name in names:
        full = os.path.join(path, name)
        if os.path.isfile(full):
            _load_ca_file(ctx, full, opts)


def _load_crl(ctx: ssl.SSLContext, path: str, opts: TLSOptions) -> None:
    try:
        data = _read(path)
        pem = _pem(data, "X509 CRL") if opts.der else data
        with tempfile.TemporaryDirectory(prefix="dcmpy-tls-") as tmp:
            crl_path = os.path.join(tmp, "crl.pem")
            with open(crl_path, "wb") as f:
                f.write(pem)
            ctx.load_verify_locations(cafile=crl_path)
    except (OSError, ValueError, ssl.SSLError):
        opts.warn(f"unable to load CRL file '{path}', ignoring")


# ---------------------------------------------------------------------------------------------
# the handshake


def secure_client(sock: socket.socket, ctx: ssl.SSLContext, timeout: float | None,
                  log: Any = None) -> ssl.SSLSocket:
    """TLS over a connected socket (we are the requestor); closes it and raises TLSError on
    failure."""
    return _handshake(sock, ctx, False, timeout, log)


def secure_server(sock: socket.socket, ctx: ssl.SSLContext, timeout: float | None,
                  log: Any = None) -> ssl.SSLSocket:
    """TLS over an accepted socket (we are the acceptor); closes it and raises TLSError."""
    return _handshake(sock, ctx, True, timeout, log)


class _DicomSocket(ssl.SSLSocket):
    """An SSLSocket whose TLS failures after the handshake read as DCMTK's conditions."""

    def recv_into(self, *args: Any, **kwargs: Any) -> int:
        try:
            return super().recv_into(*args, **kwargs)
        except ssl.SSLError as exc:
            raise TLSError(describe_error(exc)) from None

    def sendall(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().sendall(*args, **kwargs)
        except ssl.SSLError as exc:
            raise TLSError(describe_error(exc)) from None


def _handshake(sock: socket.socket, ctx: ssl.SSLContext, server: bool, timeout: float | None,
               log: Any) -> ssl.SSLSocket:
    probe = False
    ctx.sslsocket_class = _DicomSocket
    try:
        if server:
            sock.settimeout(timeout)
            probe = not sock.recv(1, socket.MSG_PEEK)    # connected and closed without a byte
            if probe:
                raise ConnectionResetError("closed before the handshake")
        tls = ctx.wrap_socket(sock, server_side=server, do_handshake_on_connect=False)
        tls.settimeout(timeout)
        tls.do_handshake()
        tls.settimeout(None)
    except (OSError, ValueError) as exc:
        sock.close()
        raise TLSError(describe_error(exc), getattr(exc, "verify_message", "") or "", probe) from None
    if log is not None and log.enabled(DEBUG):
        log.debug("%s", connection_details(tls))
    return tls


def describe_error(exc: BaseException) -> str:
    """DCMTK's condition text for a failed TLS operation."""
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "000b:0017 OpenSSL I/O error (SSL_ERROR_SYSCALL): TLS handshake timed out"
    if isinstance(exc, ssl.SSLError) and not isinstance(exc, (ssl.SSLEOFError, ssl.SSLSyscallError)) \
            and exc.reason:
        return f"000b:{0x800 + _reason_code(exc):04x} TLS error: {_reason_text(exc)}"
    return "000b:0017 OpenSSL I/O error (SSL_ERROR_SYSCALL)"


def _reason_code(exc: ssl.SSLError) -> int:
    """OpenSSL's numeric reason (what DCMTK adds to 0x800) from the error's library and reason."""
    import _ssl
    libraries = {name: code for code, name in getattr(_ssl, "lib_codes_to_names", {}).items()}
    found = 0
    for (lib, code), name in getattr(_ssl, "err_codes_to_names", {}).items():
        if name == exc.reason:
            if lib == libraries.get(exc.library):
                return code
            found = found or code
    return found


def _reason_text(exc: ssl.SSLError) -> str:
    """OpenSSL's reason string: '[SSL: X] certificate verify failed: detail (_ssl.c:1)' ->
    'certificate verify failed'."""
    text = str(exc.args[1] if len(exc.args) > 1 else exc)
    if "] " in text:
        text = text.split("] ", 1)[1]
    text = text.rsplit(" (_ssl.c", 1)[0]
    if isinstance(exc, ssl.SSLCertVerificationError):
        text = text.split(": ", 1)[0]
    return text


# ---------------------------------------------------------------------------------------------
# what the debug log shows of a connection


def connection_details(tls: ssl.SSLSocket) -> str:
    """DCMTK's 'TLS CONNECTION DETAILS' block: protocol, cipher suite, peer certificate."""
    name, _, bits = tls.cipher() or ("", "", 0)
    lines = ["================== BEGIN TLS CONNECTION DETAILS =================",
             "Transport connection: TLS over TCP/IP",
             f"  Protocol    : {tls.version()}",
             f"  Ciphersuite : {name}, encryption: {bits} bits"]
    der = tls.getpeercert(binary_form=True)
    lines += certificate_lines(der) if der else ["Peer X.509 Certificate: none"]
    lines.append("=================== END TLS CONNECTION DETAILS ==================")
    return "\n".join(lines)


_OIDS = {"2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O",
         "2.5.4.11": "OU", "1.2.840.113549.1.9.1": "emailAddress", "2.5.4.5": "serialNumber"}
_KEYS = {"1.2.840.113549.1.1.1": "RSA", "1.2.840.10045.2.1": "EC", "1.2.840.10040.4.1": "DSA",
         "1.3.101.112": "ED25519", "1.3.101.113": "ED448"}


def certificate_lines(der: bytes) -> list[str]:
    """Version, subject, issuer, serial number, validity and key of a DER certificate."""
    try:
        tbs = _children(_children(der)[0][1])[0][1]
        parts = _children(tbs)
        version = 1
        if parts[0][0] == 0xA0:
            version = int.from_bytes(_children(parts[0][1])[0][1], "big") + 1
            parts = parts[1:]
        serial = int.from_bytes(parts[0][1], "big", signed=True)
        issuer, validity, subject, key = parts[2][1], parts[3][1], parts[4][1], parts[5][1]
        not_before, not_after = (_time(tag, value) for tag, value in _children(validity))
        return [f"Peer X.509v{version} Certificate", f"  Subject     : {_name(subject)}",
                f"  Issued by   : {_name(issuer)}", f"  Serial no.  : {serial}",
                f"  Validity    : not before {not_before}, not after {not_after}",
                f"  Public key  : {_key(key)}"]
    except (IndexError, ValueError):
        return ["Peer X.509 Certificate: (cannot be decoded)"]


def _children(data: bytes) -> list[tuple[int, bytes]]:
    """The (tag, content) items of a DER constructed value's content."""
    items, pos = [], 0
    while pos < len(data):
        tag, length = data[pos], data[pos + 1]
        pos += 2
        if length & 0x80:
            n = length & 0x7F
            if n == 0 or n > 4 or pos + n > len(data):
                raise ValueError("bad DER length")
            length = int.from_bytes(data[pos:pos + n], "big")
            pos += n
        if pos + length > len(data):
            raise ValueError("DER item runs past its parent")
        items.append((tag, data[pos:pos + length]))
        pos += length
    return items


def _oid(data: bytes) -> str:
    first, rest, value = data[0], [], 0
    for byte in data[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            rest.append(str(value))
            value = 0
    return ".".join([str(min(first // 40, 2)), str(first - 40 * min(first // 40, 2)), *rest])


def _name(data: bytes) -> str:
    out = []
    for _, rdn in _children(data):
        for _, attr in _children(rdn):
            (_, oid), (_, value) = _children(attr)[:2]
            key = _OIDS.get(_oid(oid), _oid(oid))
            out.append(f"/{key}={value.decode('utf-8', 'replace')}")
    return "".join(out)


def _time(tag: int, value: bytes) -> str:
    import time
    text = value.decode("ascii")
    if tag == 0x17:                                   # UTCTime: YYMMDDHHMMSSZ
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    t = time.strptime(text[:14], "%Y%m%d%H%M%S")
    return time.strftime("%b ", t) + f"{t.tm_mday:2d}" + time.strftime(" %H:%M:%S %Y GMT", t)


def _key(data: bytes) -> str:
    algorithm, bits = _children(data)
    alg = _children(algorithm[1])
    kind = _KEYS.get(_oid(alg[0][1]), _oid(alg[0][1]))
    key = bits[1][1:]                                 # BIT STRING: skip the unused-bits byte
    if kind == "RSA":
        size = int.from_bytes(_children(_children(key)[0][1])[0][1], "big").bit_length()
    elif kind == "EC":
        size = (len(key) - 1) // 2 * 8
    else:
        size = len(key) * 8
    return f"{kind}, {size} bits"


# ---------------------------------------------------------------------------------------------
# offline certificate checks (echoscu +vc/+rc): OpenSSL's X509 store through ctypes, because
# Python's ssl module verifies certificates only inside a handshake


def check_certificate(path: str, opts: TLSOptions, root: bool = False) -> tuple[bool, str]:
    """(ok, message): ``path`` verified against the CA files/directories of ``opts``, or, with
    ``root``, checked to be a self-signed root CA certificate (issued by itself, signature
    valid with its own key)."""
    try:
        ders = _certificates(_read(path), opts.der)
    except (OSError, ValueError):
        ders = []
    if not ders:
        return False, f"Cannot read certificate file '{path}'"
    lib = _libcrypto()
    if lib is None:
        return False, "offline certificate checks need OpenSSL's libcrypto, which was not found"
    cert = _x509(lib, ders[0])
    if not cert:
        return False, f"Cannot read certificate file '{path}'"
    try:
        if root:
            key = lib.X509_get0_pubkey(cert)
            ok = lib.X509_check_issued(cert, cert) == 0 and bool(key) and lib.X509_verify(cert, key) == 1
            return ok, ""
        return _verify(lib, cert, opts)
    finally:
        lib.X509_free(cert)


def _certificates(data: bytes, der: bool) -> list[bytes]:
    """The DER certificates in a PEM file (all of them) or a DER file."""
    if der:
        return [data]
    import re
    blocks = re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", data, re.S)
    return [ssl.PEM_cert_to_DER_cert(b.decode("ascii")) for b in blocks]


def _verify(lib: Any, cert: Any, opts: TLSOptions) -> tuple[bool, str]:
    store = lib.X509_STORE_new()
    ctx = lib.X509_STORE_CTX_new()
    try:
        for path in opts.ca_files:
            try:
                ders = _certificates(_read(path), opts.der)
            except (OSError, ValueError):
                ders = []
            for der in ders:
                ca = _x509(lib, der)
                if ca:
                    lib.X509_STORE_add_cert(store, ca)
                    lib.X509_free(ca)
        for path in opts.ca_dirs:
            lib.X509_STORE_load_locations(store, None, os.fsencode(path))
        if lib.X509_STORE_CTX_init(ctx, store, cert, None) != 1:
            return False, "certificate verification failed: cannot set up the store"
        if lib.X509_verify_cert(ctx) == 1:
            return True, ""
        reason = lib.X509_verify_cert_error_string(lib.X509_STORE_CTX_get_error(ctx))
        return False, f"certificate verification failed: {reason.decode('utf-8', 'replace')}"
    finally:
        lib.X509_STORE_CTX_free(ctx)
        lib.X509_STORE_free(store)


def _x509(lib: Any, der: bytes) -> Any:
    import ctypes
    buf = ctypes.create_string_buffer(der, len(der))
    ptr = ctypes.c_char_p(ctypes.addressof(buf))
    return lib.d2i_X509(None, ctypes.byref(ptr), len(der))


def _libcrypto() -> Any:
    """libcrypto as Python's _ssl module loaded it (its symbols resolve through _ssl's
    dependencies), else the system's; None if neither is there."""
    import ctypes
    import ctypes.util
    import _ssl
    for name in (_ssl.__file__, ctypes.util.find_library("crypto")):
        try:
            lib = ctypes.CDLL(name)
            lib.X509_verify_cert
        except (OSError, AttributeError, TypeError):
            continue
        p, i = ctypes.c_void_p, ctypes.c_int
        for fn, res, args in (
                ("d2i_X509", p, [p, p, ctypes.c_long]), ("X509_free", None, [p]),
                ("X509_get0_pubkey", p, [p]), ("X509_check_issued", i, [p, p]),
                ("X509_verify", i, [p, p]), ("X509_STORE_new", p, []), ("X509_STORE_free", None, [p]),
                ("X509_STORE_add_cert", i, [p, p]),
                ("X509_STORE_load_locations", i, [p, ctypes.c_char_p, ctypes.c_char_p]),
                ("X509_STORE_CTX_new", p, []), ("X509_STORE_CTX_free", None, [p]),
                ("X509_STORE_CTX_init", i, [p, p, p, p]), ("X509_verify_cert", i, [p]),
                ("X509_STORE_CTX_get_error", i, [p]),
                ("X509_verify_cert_error_string", ctypes.c_char_p, [ctypes.c_long])):
            func = getattr(lib, fn)
            func.restype, func.argtypes = res, args
        return lib
    return None
