"""echoscu: DICOM verification (C-ECHO) SCU, with DCMTK's options, log lines and exit codes."""
from __future__ import annotations

from dcmpy.apps import _netopts as N
from dcmpy.apps import _tlsopts as T
from dcmpy.apps._cmdline import App, Int, log, run

TOOL = "echoscu"
VERIFICATION = "1.2.840.10008.1.1"
# the transfer syntaxes -pts proposes, in DCMTK's order
PROPOSE_TS = ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"] + [
    f"1.2.840.10008.1.2.4.{n}" for n in (50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
                                         64, 65, 66, 70)] + [
    "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.1.99"] + [
    f"1.2.840.10008.1.2.4.{n}" for n in (80, 81, 90, 91, 92, 93, 100, 101, 102, 103, 104, 105,
                                         106, 107, 108)]


def build_app() -> App:
    app = App(TOOL, "DICOM verification (C-ECHO) SCU", columns=(4, 19), libraries=T.libraries)
    app.param("peer", "hostname of DICOM peer")
    app.param("port", "tcp/ip port number of peer")
    app.group("network options:")
    N.add_ae_titles(app, "ECHOSCU")
    app.subgroup("association negotiation debugging:")
    app.option("-pts", "--propose-ts", "propose n transfer syntaxes", value="[n]umber: integer (1..38)",
               type=Int(1, len(PROPOSE_TS)), dest="propose_ts", default=1)
    app.option("-ppc", "--propose-pc", "propose n presentation contexts",
               value="[n]umber: integer (1..128)", type=Int(1, 128), dest="propose_pc", default=1)
    app.subgroup("other network options:")
    N.add_timeouts(app)
    N.add_max_pdu(app)
    N.add_repeat_abort(app)
    T.add_options(app, offline=True)
    return app


def echo(host: str, port: int, *, calling_ae: str = "ECHOSCU", called_ae: str = "ANY-SCP",
         transfer_syntaxes: int = 1, contexts: int = 1, repeat: int = 1, abort: bool = False,
         max_pdu: int = 16384, timeouts=None, logger=log, tls=None) -> int:
    """Associate (over TLS with an ssl.SSLContext ``tls``), send ``repeat`` C-ECHO requests,
    release (or abort). Returns 0 on success, 1 on any failure (DCMTK's echoscu exit codes)."""
    from dcmpy.dcmnet.association import AssociationError
    from dcmpy.dcmnet.scu import associate
    specs = [(VERIFICATION, PROPOSE_TS[:transfer_syntaxes])] * contexts
    logger.info("Requesting Association")
    try:
        assoc = associate(host, port, specs, calling_ae=calling_ae, called_ae=called_ae,
                          max_pdu=max_pdu, timeouts=timeouts, log=logger, tls=tls)
    except (AssociationError, OSError) as exc:
        N.report_association_failure(exc, host)
        return 1
    if not assoc.contexts:
        logger.fatal("No Acceptable Presentation Contexts")
        assoc.abort()
        return 1
    logger.info("Association Accepted (Max Send PDV: %d)", assoc.max_send_pdv)
    try:
        for _ in range(repeat):
            mid = assoc.next_message_id()
            logger.info("Sending Echo Request (MsgID %d)", mid)
            rsp = assoc.send_c_echo(mid)
            from dcmpy.dcmnet.status import dcmtk_text
            logger.info("Received Echo Response (%s)", dcmtk_text(rsp.Status, "C-ECHO"))
        if abort:
            logger.info("Aborting Association")
            assoc.abort()
        else:
            logger.info("Releasing Association")
            assoc.release()
    except (AssociationError, OSError) as exc:
        logger.error("Echo SCU Failed: %s", exc)
        assoc.close()
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    tls = T.parse(app, opts)
    port = N.parse_port(app, opts.port)
    aet = N.check_ae_title(app, "--aetitle", opts.aetitle)
    aec = N.check_ae_title(app, "--call", opts.call)
    context = T.context(tls)
    if isinstance(context, int):
        return context
    return echo(opts.peer, port, calling_ae=aet, called_ae=aec, transfer_syntaxes=opts.propose_ts,
                contexts=opts.propose_pc, repeat=opts.repeat, abort=opts.abort,
                max_pdu=opts.max_pdu, timeouts=N.timeouts_from(opts), tls=context)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
