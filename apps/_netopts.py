"""Network options shared by the dcmnet apps (DCMTK's echoscu/storescu/storescp blocks)."""
from __future__ import annotations

from dcmpy.apps._cmdline import App, Int, Options, log

PORT = Int(1, 65535)

# -x? (SCU proposal) and +x? (SCP preference) letters -> the transfer syntax they put first
TS_OPTIONS = [
    # letter, long name after --propose-/--prefer-, UID, SCU help, SCP help
    ("s", "lossless", "1.2.840.10008.1.2.4.70", "default JPEG lossless TS", "default JPEG lossless TS"),
    ("y", "jpeg8", "1.2.840.10008.1.2.4.50", "default JPEG lossy TS for 8 bit data", "default JPEG lossy TS for 8 bit data"),
    ("x", "jpeg12", "1.2.840.10008.1.2.4.51", "default JPEG lossy TS for 12 bit data", "default JPEG lossy TS for 12 bit data"),
    ("v", "j2k-lossless", "1.2.840.10008.1.2.4.90", "JPEG 2000 lossless TS", "JPEG 2000 lossless TS"),
    ("w", "j2k-lossy", "1.2.840.10008.1.2.4.91", "JPEG 2000 lossy TS", "JPEG 2000 lossy TS"),
    ("t", "jls-lossless", "1.2.840.10008.1.2.4.80", "JPEG-LS lossless TS", "JPEG-LS lossless TS"),
    ("u", "jls-lossy", "1.2.840.10008.1.2.4.81", "JPEG-LS lossy TS", "JPEG-LS lossy TS"),
    ("m", "mpeg2", "1.2.840.10008.1.2.4.100", "MPEG2 Main Profile @ Main Level TS", "MPEG2 Main Profile @ Main Level TS"),
    ("h", "mpeg2-high", "1.2.840.10008.1.2.4.101", "MPEG2 Main Profile @ High Level TS", "MPEG2 Main Profile @ High Level TS"),
    ("n", "mpeg4", "1.2.840.10008.1.2.4.102", "MPEG4 AVC/H.264 HP / Level 4.1 TS", "MPEG4 AVC/H.264 HP / Level 4.1 TS"),
    ("l", "mpeg4-bd", "1.2.840.10008.1.2.4.103", "MPEG4 AVC/H.264 BD-compatible TS", "MPEG4 AVC/H.264 BD-compatible TS"),
    ("2", "mpeg4-2-2d", "1.2.840.10008.1.2.4.104", "MPEG4 AVC/H.264 HP / Level 4.2 TS (2D)", "MPEG4 AVC/H.264 HP / Level 4.2 TS (2D)"),
    ("3", "mpeg4-2-3d", "1.2.840.10008.1.2.4.105", "MPEG4 AVC/H.264 HP / Level 4.2 TS (3D)", "MPEG4 AVC/H.264 HP / Level 4.2 TS (3D)"),
    ("o", "mpeg4-2-st", "1.2.840.10008.1.2.4.106", "MPEG4 AVC/H.264 Stereo / Level 4.2 TS", "MPEG4 AVC/H.264 Stereo HP / Level 4.2 TS"),
    ("4", "hevc", "1.2.840.10008.1.2.4.107", "HEVC/H.265 Main Profile / Level 5.1 TS", "HEVC/H.265 Main Profile / Level 5.1 TS"),
    ("5", "hevc10", "1.2.840.10008.1.2.4.108", "HEVC/H.265 Main 10 Profile / Level 5.1 TS", "HEVC/H.265 Main 10 Profile / Level 5.1 TS"),
    ("r", "rle", "1.2.840.10008.1.2.5", "RLE lossless TS", "RLE lossless TS"),
    ("d", "deflated", "1.2.840.10008.1.2.1.99", "deflated expl. VR little endian TS", "deflated expl. VR little endian TS"),
]
VIDEO = {"m", "h", "n", "l", "2", "3", "o", "4", "5"}
EXPLICIT_LE, EXPLICIT_BE, IMPLICIT_LE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2"


def add_ae_titles(app: App, default_aet: str, called: bool = True, scp: bool = False) -> None:
    app.subgroup("application entity titles:")
    app.option("-aet", "--aetitle", f"set my {'' if scp else 'calling '}AE title (default: {default_aet})",
               value="[a]etitle: string", dest="aetitle", default=default_aet)
    if called:
        app.option("-aec", "--call", "set called AE title of peer (default: ANY-SCP)",
                   value="[a]etitle: string", dest="call", default="ANY-SCP")


def add_timeouts(app: App, connect: bool = True) -> None:
    if connect:
        app.option("-to", "--timeout", "timeout for connection requests",
                   value="[s]econds: integer (default: unlimited)", type=Int(1), dest="timeout")
    app.option("-ts", "--socket-timeout", "timeout for network socket (0 for none)",
               value="[s]econds: integer (default: 60)", type=Int(0), dest="socket_timeout",
               default=60)
    app.option("-ta", "--acse-timeout", "timeout for ACSE messages",
               value="[s]econds: integer (default: 30)", type=Int(1), dest="acse_timeout",
               default=30)
    app.option("-td", "--dimse-timeout", "timeout for DIMSE messages",
               value="[s]econds: integer (default: unlimited)", type=Int(1), dest="dimse_timeout")


def add_max_pdu(app: App, send: bool = False) -> None:
    app.option("-pdu", "--max-pdu", "set max receive pdu to n bytes (default: 16384)",
               value="[n]umber of bytes: integer (4096..131072)", type=Int(4096, 131072),
               dest="max_pdu", default=16384)
    if send:
        app.option("", "--max-send-pdu", "restrict max send pdu to n bytes",
                   value="[n]umber of bytes: integer (4096..131072)", type=Int(4096, 131072),
                   dest="max_send_pdu")


def add_repeat_abort(app: App) -> None:
    app.option("", "--repeat", "repeat n times", value="[n]umber: integer", type=Int(1),
               dest="repeat", default=1)
    app.option("", "--abort", "abort association instead of releasing it", dest="abort")


def add_tls(app: App, scp: bool = False) -> None:
    """DCMTK's TLS block (see ``_tlsopts``). An app that does not wire TLS yet calls
    :func:`check_tls`; one that does uses ``_tlsopts.parse``/``_tlsopts.context`` instead."""
    from dcmpy.apps._tlsopts import add_options
    add_options(app, scp=scp)


def check_tls(opts: Options) -> int | None:
    """Exit code 1 with a fatal line if TLS was asked for by an app that does not wire it."""
    if opts.tls:
        log.fatal("TLS is not supported by this tool in dcmpy yet")
        return 1
    return None


def parse_port(app: App, text: str) -> int:
    """A port parameter checked as DCMTK does (1..65535, 'Invalid parameter value ...')."""
    try:
        return PORT(text)
    except ValueError as exc:
        detail = str(exc)
        if detail.startswith(("underflow", "overflow")):
            app.error(f"Invalid parameter value {text} ({detail.split(':')[0]})")
        app.error(f"Invalid parameter value {text}")
    raise AssertionError


def check_ae_title(app: App, option: str, title: str) -> str:
    """An AE title for the association: at most 16 characters of ASCII (DCMTK cuts longer ones)."""
    if not title.isascii() or any(c in title for c in "\\\r\n\x00"):
        app.error(f"Invalid value for option {option} (not a valid AE title: {title!r})")
    return title[:16]


def timeouts_from(opts: Options):
    from dcmpy.dcmnet.association import Timeouts
    socket_timeout = getattr(opts, "socket_timeout", 60)
    return Timeouts(connect=getattr(opts, "timeout", None),
                    socket=socket_timeout or None,
                    acse=getattr(opts, "acse_timeout", 30),
                    dimse=getattr(opts, "dimse_timeout", None))


def report_association_failure(exc: BaseException, host: str) -> None:
    """The F: lines DCMTK prints when requesting an association fails."""
    from dcmpy.dcmnet.association import describe_failure
    log.fatal("%s", describe_failure(exc, host))
