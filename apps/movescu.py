"""movescu: DICOM retrieve (C-MOVE) SCU with its own storage SCP (``+P``), with DCMTK's options,
log lines and exit codes (61 association failed, 66 no presentation context, 68/69 warning or
error status, 70 association aborted).

The storage SCP serves the sub-operations' associations in threads of its own while the move
runs; each object streams into a temporary file in ``-od`` and is renamed once complete."""
from __future__ import annotations

import sys

from dcmpy.apps import _netopts as N
from dcmpy.apps import _qropts as Q
from dcmpy.apps._cmdline import INFO, App, Int, log, run

TOOL = "movescu"
_WRITE_TS = {"little": N.EXPLICIT_LE, "big": N.EXPLICIT_BE, "implicit": N.IMPLICIT_LE,
             "deflated": Q.DEFLATED}


def build_app() -> App:
    app = App(TOOL, "DICOM retrieve (C-MOVE) SCU", columns=(4, 21))
    Q.add_params(app)
    app.group("network options:")
    Q.add_keys(app, '[k]ey: gggg,eeee="str" or dict. name="str"')
    Q.add_models(app, "query information model:", ["patient", "study", "psonly"], "patient")
    N.add_ae_titles(app, "MOVESCU")
    app.option("-aem", "--move", "set move destinat. AE title (default: MOVESCU)",
               value="[a]etitle: string", dest="move", default="MOVESCU")
    Q.add_prefer(app, "preferred network transfer syntaxes (incoming associations):", True)
    Q.add_propose(app, "proposed transmission transfer syntaxes (outgoing associations):")
    app.subgroup("network host access control (tcp wrapper):")
    app.option("-ac", "--access-full", "accept connections from any host (default)", dest="")
    app.option("+ac", "--access-control", "enforce host access control rules", dest="")
    app.subgroup("port for incoming network associations:")
    app.option("", "--no-port", "no port for incoming associations (default)", dest="in_port",
               const=None)
    app.option("+P", "--port", "port number for incoming associations", value="[n]umber: integer",
               type=Int(1, 65535), dest="in_port")
    app.subgroup("handling of illegal datasets following 'pending' move responses:")
    app.option("-pi", "--pending-ignore", "assume no dataset present (default)", dest="")
    app.option("-pr", "--pending-read", "read and ignore dataset", dest="")
    Q.add_network_tail(app, socket_timeout=False)
    app.option("-dhl", "--disable-host-lookup", "disable hostname lookup", dest="")
    N.add_repeat_abort(app)
    app.option("", "--ignore", "ignore store data, receive but do not store", dest="ignore")
    Q.add_cancel(app)
    app.option("-up", "--uid-padding", "silently correct space-padded UIDs", dest="")
    _output_options(app)
    return app


def _output_options(app: App) -> None:
    app.group("output options:")
    app.subgroup("general:")
    app.option("-od", "--output-directory", "write received objects to existing directory d",
               value='[d]irectory: string (default: ".")', dest="output_directory", default=".")
    app.subgroup("bit preserving mode:")
    app.option("-B", "--normal", "allow implicit format conversions (default)",
               dest="bit_preserving", const=False)
    app.option("+B", "--bit-preserving", "write data exactly as read", dest="bit_preserving")
    app.subgroup("output file format:")
    app.option("+F", "--write-file", "write file format (default)", dest="write_meta", default=True)
    app.option("-F", "--write-dataset", "write data set without file meta information",
               dest="write_meta", const=False)
    app.subgroup("output transfer syntax (not with --bit-preserving or compressed transmission):")
    app.option("+t=", "--write-xfer-same", "write with same TS as input (default)", dest="write_xfer",
               const=None)
    app.option("+te", "--write-xfer-little", "write with explicit VR little endian TS",
               dest="write_xfer", const="little")
    app.option("+tb", "--write-xfer-big", "write with explicit VR big endian TS", dest="write_xfer",
               const="big")
    app.option("+ti", "--write-xfer-implicit", "write with implicit VR little endian TS",
               dest="write_xfer", const="implicit")
    app.option("+td", "--write-xfer-deflated", "write with deflated expl. VR little endian TS",
               dest="write_xfer", const="deflated")
    app.subgroup("post-1993 value representations (not with --bit-preserving):")
    app.option("+u", "--enable-new-vr", "enable support for new VRs (UN/UT) (default)",
               dest="new_vrs", default=True)
    app.option("-u", "--disable-new-vr", "disable support for new VRs, convert to OB",
               dest="new_vrs", const=False)
    app.subgroup("group length encoding (not with --bit-preserving):")
    app.option("+g=", "--group-length-recalc", "recalculate group lengths if present (default)",
               dest="group_lengths", const="recalc", default="recalc")
    app.option("+g", "--group-length-create", "always write with group length elements",
               dest="group_lengths", const="add")
    app.option("-g", "--group-length-remove", "always write without group length elements",
               dest="group_lengths", const="remove")
    app.subgroup("length encoding in sequences and items (not with --bit-preserving):")
    app.option("+e", "--length-explicit", "write with explicit lengths (default)",
               dest="explicit_lengths", default=True)
    app.option("-e", "--length-undefined", "write with undefined lengths", dest="explicit_lengths",
               const=False)
    app.subgroup("data set trailing padding (not with --write-dataset or --bit-preserving):")
    app.option("-p", "--padding-off", "no padding (default)", dest="padding", const="off",
               default="off")
    app.option("+p", "--padding-create", "align file on multiple of f bytes\n"
               "and items on multiple of i bytes", value="[f]ile-pad [i]tem-pad: integer", nargs=2,
               type=(Int(0), Int(0)), dest="padding")
    app.subgroup("deflate compression level (only with -xd or --write-xfer-deflated/same):")
    app.option("+cl", "--compression-level", "0=uncompressed, 1=fastest, 9=best compression",
               value="[l]evel: integer (default: 6)", type=Int(0, 9), dest="compression_level",
               default=6)


def parse_keys(app: App, opts) -> None:
    """DCMTK's movescu checks every -k when parsing the command line."""
    from dcmpy.dcmnet.qrscu import QueryError, build_query
    for key in opts.keys:
        try:
            build_query([key])
        except QueryError:
            path = key.split("=", 1)[0]
            app.error(f"bad key format or dictionary name not found in dictionary: {path}")


def store_options(app: App, opts):
    """Where and how the storage SCP writes (or an exit code)."""
    from dcmpy.dcmdata.writer import WriteOptions
    from dcmpy.dcmnet.qrstore import StoreOptions
    if opts.in_port is not None and not opts.ignore and not Q.output_dir_ok(opts.output_directory):
        return 1
    write = None
    if not opts.bit_preserving and (opts.write_xfer is not None or opts.group_lengths != "recalc"
                                    or not opts.explicit_lengths or opts.padding != "off"
                                    or not opts.new_vrs):
        write = WriteOptions(transfer_syntax=_WRITE_TS.get(opts.write_xfer),
                             write_meta=opts.write_meta, group_lengths=opts.group_lengths,
                             explicit_lengths=opts.explicit_lengths, new_vrs=opts.new_vrs,
                             padding=opts.padding, compression_level=opts.compression_level)
    return StoreOptions(output_dir=opts.output_directory, ignore=bool(opts.ignore),
                        write_meta=opts.write_meta, write_options=write)


def accepted_syntaxes(prefer: str | None) -> list[str]:
    """The storage transfer syntaxes accepted for +x?, in storescp's order of preference."""
    from dcmpy.apps.storescp import _accepted_syntaxes
    return _accepted_syntaxes(prefer)


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    Q.raw_stderr()
    port = N.parse_port(app, opts.port)
    app.check_dependence("--output-directory", "--port",
                         not opts.given("--output-directory") or opts.in_port is not None)
    Q.check_files(app, opts)
    parse_keys(app, opts)
    store = store_options(app, opts)
    if isinstance(store, int):
        return store
    queries = Q.queries(opts)
    if queries is None:
        return 1
    from dcmpy.dcmnet.qrscu import MoveOptions, MoveSCU
    options = Q.common(app, opts, MoveOptions, destination=N.check_ae_title(app, "--move", opts.move),
                       port=opts.in_port, accept_syntaxes=accepted_syntaxes(opts.prefer), store=store)
    progress = sys.stdout if log.enabled(INFO) else None
    return MoveSCU(opts.peer, port, options, log, progress).run(queries)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
