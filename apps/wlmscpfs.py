"""wlmscpfs: DICOM Basic Worklist Management SCP over worklist files, with DCMTK's options, folder
layout and log lines, and (``--mpps-dir``) a Modality Performed Procedure Step SCP beside it.

Every association runs in a thread of its own (``--single-process`` and ``--fork`` are accepted
and change nothing). The library behind it is :class:`dcmpy.dcmwlm.WorklistSCP`.
"""
from __future__ import annotations

import os
import sys

from dcmpy.apps import _netopts as N
from dcmpy.apps._cmdline import App, Int, log, run

TOOL = "wlmscpfs"
DEFLATED = "1.2.840.10008.1.2.1.99"


def build_app() -> App:
    app = App(TOOL, "DICOM Basic Worklist Management SCP (based on data files)", columns=(4, 21))
    app.param("port", "tcp/ip port number to listen on")
    app.group("multi-process options:", (6, 21))
    app.option("-s", "--single-process", "single process mode", dest="fork", const=False)
    app.option("", "--fork", "fork child process for each association (def.)", dest="fork")
    app.group("input options:")
    app.subgroup("general:")
    app.option("-dfp", "--data-files-path", "path to worklist data files",
               value="[p]ath: string (default: .)", dest="data_path", default=".")
    app.subgroup("handling of worklist files:")
    app.option("-efr", "--enable-file-reject", "enable rejection of incomplete worklist files\n"
               "(default)", dest="reject_incomplete", default=True)
    app.option("-dfr", "--disable-file-reject", "disable rejection of incomplete worklist files",
               dest="reject_incomplete", const=False)
    app.group("processing options:")
    app.subgroup("returned character set:")
    app.option("-cs0", "--return-no-char-set", "return no specific character set (default)",
               dest="charset", const="none", default="none")
    app.option("-cs1", "--return-iso-ir-100", "return specific character set ISO IR 100",
               dest="charset", const="latin1")
    app.option("-csk", "--keep-char-set", "return character set provided in file", dest="charset",
               const="keep")
    app.subgroup("other processing options:")
    app.option("-nse", "--no-sq-expansion", "disable expansion of empty sequences in C-FIND\n"
               "request messages", dest="no_expansion")
    app.group("network options:")
    app.subgroup("preferred network transfer syntaxes:")
    app.option("+x=", "--prefer-uncompr", "prefer explicit VR local byte order (default)",
               dest="prefer", const=None)
    app.option("+xe", "--prefer-little", "prefer explicit VR little endian TS", dest="prefer",
               const=N.EXPLICIT_LE)
    app.option("+xb", "--prefer-big", "prefer explicit VR big endian TS", dest="prefer",
               const=N.EXPLICIT_BE)
    app.option("+xd", "--prefer-deflated", "prefer deflated explicit VR little endian TS",
               dest="prefer", const=DEFLATED)
    app.option("+xi", "--implicit", "accept implicit VR little endian TS only", dest="prefer",
               const=N.IMPLICIT_LE)
    app.subgroup("network host access control (tcp wrapper):")
    app.option("-ac", "--access-full", "accept connections from any host (default)",
               dest="access_control", const=False)
    app.option("+ac", "--access-control", "enforce host access control rules", dest="access_control")
    app.subgroup("post-1993 value representations:")
    app.option("+u", "--enable-new-vr", "enable support for new VRs (UN/UT) (default)",
               dest="new_vrs", default=True)
    app.option("-u", "--disable-new-vr", "disable support for new VRs, convert to OB",
               dest="new_vrs", const=False)
    app.subgroup("deflate compression level (only with --prefer-deflated):")
    app.option("+cl", "--compression-level", "0=uncompressed, 1=fastest, 9=best compression",
               value="[l]evel: integer (default: 6)", type=Int(0, 9), dest="compression_level",
               default=6)
    app.subgroup("other network options:")
    app.option("-ta", "--acse-timeout", "timeout for ACSE messages",
               value="[s]econds: integer (default: 30)", type=Int(1), dest="acse_timeout",
               default=30)
    app.option("-td", "--dimse-timeout", "timeout for DIMSE messages",
               value="[s]econds: integer (default: unlimited)", type=Int(1), dest="dimse_timeout")
    app.option("", "--max-associations", "limit maximum number of parallel associations",
               value="[a]ssocs: integer (default: 50)", type=Int(1), dest="max_associations",
               default=50)
    app.option("", "--refuse", "refuse association", dest="refuse")
    app.option("", "--reject", "reject association if no implement. class UID", dest="reject")
    app.option("", "--no-fail", "don't fail on an invalid query", dest="no_fail")
    for when in ("before", "after", "during"):
        app.option("", f"--sleep-{when}", f"sleep s seconds {when} find (default: 0)",
                   value="[s]econds: integer", type=Int(0), dest=f"sleep_{when}", default=0)
    N.add_max_pdu(app)
    app.option("-dhl", "--disable-host-lookup", "disable hostname lookup", dest="no_host_lookup")
    app.group("output options:")
    app.subgroup("general:")
    app.option("-rfp", "--request-file-path", "path to store request files to",
               value="[p]ath: string", dest="request_path")
    app.option("-rff", "--request-file-format", "request file name format",
               value="[f]ormat: string (default: #t.dump)", dest="request_format", default="#t.dump")
    app.subgroup("modality performed procedure step (dcmpy):")
    app.option("", "--mpps-dir", "serve MPPS N-CREATE/N-SET, store instances in d",
               value="[d]irectory: string", dest="mpps_dir")
    return app


def accepted_syntaxes(prefer: str | None) -> list[str]:
    """The transfer syntaxes wlmscpfs accepts, in its order of preference, for +x?."""
    local = N.EXPLICIT_LE if sys.byteorder == "little" else N.EXPLICIT_BE
    uncompressed = [local] + [ts for ts in (N.EXPLICIT_LE, N.EXPLICIT_BE) if ts != local] + [N.IMPLICIT_LE]
    if prefer is None:
        return uncompressed
    if prefer == N.IMPLICIT_LE:
        return [N.IMPLICIT_LE]
    return [prefer] + [ts for ts in uncompressed if ts != prefer]


def worklist_options(opts):
    """The library's WorklistOptions for the parsed command line."""
    from dcmpy.dcmwlm.scp import WorklistOptions
    return WorklistOptions(
        data_path=opts.data_path, reject_incomplete=opts.reject_incomplete, charset=opts.charset,
        expand_sequences=not opts.no_expansion, no_fail=bool(opts.no_fail),
        request_path=opts.request_path, request_format=opts.request_format,
        sleep_before=opts.sleep_before, sleep_after=opts.sleep_after,
        sleep_during=opts.sleep_during, transfer_syntaxes=accepted_syntaxes(opts.prefer),
        compression_level=opts.compression_level, max_pdu=opts.max_pdu,
        timeouts=N.timeouts_from(opts), max_associations=opts.max_associations,
        refuse=bool(opts.refuse), reject_without_implementation_uid=bool(opts.reject),
        host_lookup=not opts.no_host_lookup, mpps_dir=opts.mpps_dir)


def _check_folders(opts) -> int | None:
    if not os.path.isdir(opts.data_path):
        log.error("Cannot connect to data source.")
        return 1
    if opts.request_path is not None and not (os.path.isdir(opts.request_path)
                                              and os.access(opts.request_path, os.W_OK)):
        log.error("Request file directory (%s) does not exist or is not writable", opts.request_path)
        return 1
    if opts.mpps_dir is not None and not (os.path.isdir(opts.mpps_dir)
                                          and os.access(opts.mpps_dir, os.W_OK)):
        log.error("MPPS directory (%s) does not exist or is not writable", opts.mpps_dir)
        return 1
    return None


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    port = N.parse_port(app, opts.port)
    failed = _check_folders(opts)
    if failed is not None:
        return failed
    if opts.access_control:
        log.warn("host access control (tcp wrapper) is not supported: accepting any host")
    from dcmpy.dcmwlm.scp import WorklistSCP
    scp = WorklistSCP(worklist_options(opts), log)
    try:
        scp.ae.bind(port)
    except OSError as exc:
        log.error("Initialization of network connection failed.")
        log.debug("0006:031c TCP Initialization Error: %s", os.strerror(exc.errno) if exc.errno else exc)
        return 1
    scp.serve(port)
    return 0


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
