"""dcmsend: simple DICOM storage SCU (sender), with DCMTK's options, proposal rules, log lines,
report file (+crf) and exit codes.

Unlike storescu, dcmsend proposes one presentation context per SOP class and kind of transfer
syntax it finds in its files (the three uncompressed syntaxes for uncompressed files; a
compressed syntax alone, or followed by the uncompressed three when it may and can decompress),
and starts another association when 128 contexts are not enough. As a library::

    from dcmpy.apps.dcmsend import Sender, SenderOptions
    sender = Sender("pacs", 104, SenderOptions(called_ae="PACS"))
    sender.add_files(["a.dcm", "b.dcm"])
    code = sender.run()                  # DCMTK's exit code; sender.entries tell the details

Deliberate difference: every compressed syntax dcmpy decodes (JPEG 2000, HTJ2K, JPEG XL too)
counts as decompressible, so such files also get the uncompressed fallback (DCMTK 3.6.7 has no
decoder for them and proposes the compressed syntax alone).
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from dcmpy.apps import _netopts as N
from dcmpy.apps._cmdline import (EXITCODE_CANNOT_ADD_PRESENTATION_CONTEXT,
                                 EXITCODE_CANNOT_NEGOTIATE_ASSOCIATION,
                                 EXITCODE_CANNOT_SEND_REQUEST, EXITCODE_CANNOT_WRITE_REPORT_FILE,
                                 EXITCODE_INVALID_INPUT_FILE, EXITCODE_NO_INPUT_FILES,
                                 EXITCODE_NO_VALID_INPUT_FILES, INFO, DEBUG, App, Int, log, run)

TOOL = "dcmsend"
UNCOMPRESSED = [N.EXPLICIT_LE, N.EXPLICIT_BE, N.IMPLICIT_LE]
DEFLATED = "1.2.840.10008.1.2.1.99"
NO_CONTEXT = 0xFF01 + 0x10000        # markers beyond 16 bits: not a DIMSE status
INVALID_DATASET = 0xFF02 + 0x10000
STORAGE_PREFIX = "1.2.840.10008.5.1.4.1.1"


@dataclass
class SenderOptions:
    """dcmsend's options as a library object."""
    calling_ae: str = "DCMSEND"
    called_ae: str = "ANY-SCP"
    read_mode: str = "file-only"          # +f 'auto', +fo 'file-only', -f 'dataset'
    from_dicomdir: bool = False           # +rd
    decompress: str = "lossless"          # -dn 'never', +dls 'lossless', +dly 'lossy'
    halt: bool = True                     # -nh clears it
    illegal_proposal: bool = True         # -nip clears it
    check_uids: bool = True               # -nuc clears it
    multiple_associations: bool = True    # -ma clears it
    max_pdu: int = 16384
    max_send_pdu: int | None = None
    timeouts: Any = None
    verbose_pc: bool = False
    compute_sizes: bool = False           # the report's 'Dataset Size' (+crf)
    tls: Any = None                       # an ssl.SSLContext (dcmnet.tls)


@dataclass
class Entry:
    """One SOP instance of the transfer list and what became of it."""
    path: str
    sop_class: str
    sop_instance: str
    transfer_syntax: str
    sent: bool = False
    status: int = 0                       # the response status (or NO_CONTEXT/INVALID_DATASET)
    context_id: int = 0
    association: int = 0
    network_ts: str = ""
    size: int = 0

    @property
    def uncompressed(self) -> bool:
        return self.transfer_syntax in UNCOMPRESSED


class InputError(Exception):
    """A file that cannot join the transfer list (DCMTK's condition text)."""


class Sender:
    """dcmsend as a library class."""

    def __init__(self, host: str, port: int, options: SenderOptions | None = None,
                 logger: Any = log) -> None:
        self.host, self.port = host, port
        self.opts = options or SenderOptions()
        self.log = logger
        self.entries: list[Entry] = []
        self.associations = 0
        self.contexts_proposed = 0
        self._current = 0                 # first entry of the association being prepared

    # -- the transfer list ------------------------------------------------------------------------
    def add_file(self, path: str) -> None:
        """Add a DICOM file (or, with ``from_dicomdir``, the files a DICOMDIR references);
        raises InputError."""
        self.log.debug("adding DICOM file '%s'", path)
        sop_class, sop_instance, ts = _uids_of(path, self.opts.read_mode)
        if self.opts.from_dicomdir and sop_class == "1.2.840.10008.1.3.10":
            self._add_dicomdir(path)
            return
        _check_uids(sop_class, sop_instance, ts, self.opts.check_uids)
        self.entries.append(Entry(path, sop_class, sop_instance, ts))
        self.log.debug("successfully added SOP instance %s to the transfer list", sop_instance)

    def _add_dicomdir(self, path: str) -> None:
        from dcmpy.dcmdata.reader import DicomError, dcmread
        self.log.debug("processing a DICOMDIR file (Media Storage Directory Storage SOP Class)")
        try:
            ds = dcmread(path)
        except (DicomError, OSError) as exc:
            raise InputError(str(exc)) from None
        base = os.path.dirname(path)
        before = len(self.entries)
        for record in _records(ds):
            file_id = record.get(0x00041500)
            if file_id is None or not file_id.value:
                continue
            parts = file_id.value if isinstance(file_id.value, (list, tuple)) else \
                str(file_id.value).split("\\")
            target = os.path.join(base, *[str(p).strip() for p in parts])
            uids = [_text(record, tag) for tag in (0x00041510, 0x00041511, 0x00041512)]
            try:
                _check_uids(*uids, self.opts.check_uids)
            except InputError as exc:
                self.log.error("cannot add DICOM file from DICOMDIR to the transfer list: %s: %s",
                               target, exc)
                if self.opts.halt:
                    raise
                continue
            self.entries.append(Entry(target, *uids))
        if len(self.entries) > before:
            self.log.debug("successfully added %d SOP instances from DICOMDIR to the transfer list",
                           len(self.entries) - before)

    def add_files(self, paths: list[str]) -> int:
        """DCMTK's 'checking input files': each file added or reported; returns 0, or the exit
        code when a bad file halts the run (or no file is valid)."""
        self.log.info("checking input files ...")
        invalid = 0
        for path in paths:
            try:
                self.add_file(path)
            except InputError as exc:
                name = path or "<empty string>"
                self.log.error("cannot add DICOM file to the transfer list: %s: %s", name, exc)
                if self.opts.halt:
                    self.log.fatal("bad DICOM file: %s: %s", name, exc)
                    return EXITCODE_INVALID_INPUT_FILE
                self.log.warn("bad DICOM file: %s: %s, ignoring file", name, exc)
                invalid += 1
        if not self.entries:
            self.log.fatal("no valid input files to be processed")
            return EXITCODE_NO_VALID_INPUT_FILES
        self.log.debug("in total, there are %d SOP instances to be sent, %d invalid files are "
                       "ignored", len(self.entries), invalid)
        return 0

    # -- the run ----------------------------------------------------------------------------------
    def run(self, report: str | None = None) -> int:
        """Send everything (one association after the other as needed); DCMTK's exit code."""
        opts = self.opts
        self.log.debug("%s", "multiple associations allowed (option --multi-associations used)"
                       if opts.multiple_associations else
                       "only a single associations allowed (option --single-association used)")
        while True:
            contexts, failure = self._prepare_contexts()
            if failure == "none":
                break
            if failure:
                self.log.error("cannot add presentation contexts: %s", failure)
                return EXITCODE_CANNOT_ADD_PRESENTATION_CONTEXT
            code = self._one_association(contexts)
            if code:
                return code
            if not opts.multiple_associations:
                break
        if report:
            if not self.write_report(report):
                return EXITCODE_CANNOT_WRITE_REPORT_FILE
        if self.log.enabled(INFO):
            self.log.info("\n%s", self.summary())
        return 0

    def _prepare_contexts(self) -> tuple[list[tuple[int, str, list[str]]], str]:
        """The contexts for the next association from the current entry on: ([(id, abstract
        syntax, transfer syntaxes)], '') or ([], 'none') when nothing is left to propose, or
        ([], reason) when a file cannot be proposed and the run halts."""
        if self.contexts_proposed == 0:
            self._current = 0
        contexts: list[tuple[int, str, list[str]]] = []
        next_id = 1
        for n in range(self._current, len(self.entries)):
            if next_id >= 256:
                break
            entry = self.entries[n]
            if entry.sent:
                continue
            self.log.debug("preparing presentation context for SOP Class / Transfer Syntax: %s / %s",
                           _uid_name(entry.sop_class), _ts_name(entry.transfer_syntax))
            entry.context_id = 0
            for earlier in self.entries[self._current:n]:
                if earlier.sop_class == entry.sop_class and earlier.context_id > 0 and (
                        earlier.uncompressed and entry.uncompressed
                        or earlier.transfer_syntax == entry.transfer_syntax):
                    self.log.debug("same SOP Class UID and compatible Transfer Syntax UID as for "
                                   "another SOP instance, reusing the presentation context with "
                                   "ID %d", earlier.context_id)
                    entry.context_id = earlier.context_id
                    break
            if entry.context_id:
                continue
            syntaxes = self._proposal(entry)
            if syntaxes is None:
                entry.sent, entry.status = True, NO_CONTEXT
                if self.opts.halt:
                    return [], "Unsupported compression or encryption"
                continue
            contexts.append((next_id, entry.sop_class, syntaxes))
            self.log.debug("added new presentation context with ID %d", next_id)
            entry.context_id = next_id
            next_id += 2
            self.contexts_proposed += 1
        return contexts, "" if contexts else "none"

    def _proposal(self, entry: Entry) -> list[str] | None:
        """The transfer syntaxes proposed for ``entry`` (None: it cannot be proposed)."""
        from dcmpy.dcmdata.xfer import lookup
        ts = lookup(entry.transfer_syntax)
        if entry.uncompressed:
            return list(UNCOMPRESSED)
        if ts is None:
            self.log.warn("transfer syntax is unknown, trying to propose only this one: %s",
                          entry.transfer_syntax)
            return [entry.transfer_syntax]
        decodable = _decodable(ts.uid)
        if not ts.lossy:
            mode = self.opts.decompress
            if mode != "never" and decodable:
                self.log.debug("also propose the three uncompressed transfer syntaxes, because we "
                               "can decompress the SOP instance (if required)")
                return [ts.uid, *UNCOMPRESSED]
            reason = "we are not allowed to decompress it" if mode == "never" else "we cannot decompress it"
            if not self.opts.illegal_proposal:
                self.log.error("transfer syntax uses a lossless compression but %s, so we cannot "
                               "add a presentation context for this SOP instance", reason)
                return None
            self.log.warn("transfer syntax uses a lossless compression but %s, so we are not "
                          "proposing any uncompressed transfer syntax\n  (including the Default "
                          "Transfer Syntax, which might result in a violation of the DICOM "
                          "standard if it is not proposed in another presentation context)", reason)
            return [ts.uid]
        if self.opts.decompress != "lossy":
            self.log.debug("transfer syntax uses a lossy compression but we are not allowed to "
                           "decompress it, so we are not proposing any uncompressed transfer syntax")
            return [ts.uid]
        if decodable:
            self.log.debug("also propose the three uncompressed transfer syntaxes, because we can "
                           "decompress the SOP instance (if required)")
            return [ts.uid, *UNCOMPRESSED]
        self.log.warn("transfer syntax uses a lossy compression but we cannot decompress it, so we "
                      "are not proposing any uncompressed transfer syntax")
        return [ts.uid]

    def _one_association(self, contexts: list[tuple[int, str, list[str]]]) -> int:
        from dcmpy.dcmnet import pdu as P
        from dcmpy.dcmnet.association import Association, AssociationError, AssociationRejected
        from dcmpy.dcmnet.scu import build_request
        opts = self.opts
        if opts.multiple_associations:
            if self.log.enabled(DEBUG):
                self.log.debug("%s\nstarting association #%d", "-" * 65, self.associations + 1)
            else:
                self.log.info("starting association #%d", self.associations + 1)
        self.log.info("initializing network ...")
        self.log.debug("Configured a total of %d presentation contexts for SCU", len(contexts))
        self.log.info("negotiating network association ...")
        rq = build_request(opts.calling_ae, opts.called_ae,
                           [P.PresentationContextRQ(cid, sop, ts) for cid, sop, ts in contexts],
                           max_pdu=opts.max_pdu)
        if opts.verbose_pc and not self.log.enabled(DEBUG):
            from dcmpy.dcmnet.describe import describe
            self.log.info("Request Parameters:\n%s", describe(rq))
        self.log.info("Requesting Association")
        self.associations += 1
        try:
            assoc = Association.request(self.host, self.port, rq, timeouts=opts.timeouts,
                                        log=self.log, tls=opts.tls)
        except (AssociationError, OSError) as exc:
            text = "DUL Association Rejected" if isinstance(exc, AssociationRejected) else \
                _condition(exc, self.host)
            self.log.fatal("cannot negotiate network association: %s", text)
            return EXITCODE_CANNOT_NEGOTIATE_ASSOCIATION
        if opts.max_send_pdu:
            assoc.peer_max_pdu = min(assoc.peer_max_pdu or opts.max_send_pdu, opts.max_send_pdu)
        if opts.verbose_pc and not self.log.enabled(DEBUG):
            from dcmpy.dcmnet.describe import describe
            self.log.info("Association Parameters Negotiated:\n%s", describe(rq, assoc.ac))
        if not assoc.contexts:
            self.log.error("No Acceptable Presentation Contexts")
            self.log.error("cannot negotiate network association: No acceptable Presentation Contexts")
            self._no_contexts()
            left = sum(1 for e in self.entries if not e.sent)
            if left:
                self.log.warn("trying to continue with a new association in order to send the "
                              "remaining %d SOP instances", left)
            self.log.info("Releasing Association")
            self._close(assoc, release=True)
            return 0
        self.log.info("Association Accepted (Max Send PDV: %d)", assoc.max_send_pdv)
        self.log.info("sending SOP instances ...")
        failure = self._send_all(assoc)
        if failure is not None:
            self.log.fatal("cannot send SOP instance: %s", failure)
            self.log.info("Aborting Association")
            self._close(assoc, release=False)
            return EXITCODE_CANNOT_SEND_REQUEST
        self.log.info("Releasing Association")
        self._close(assoc, release=True)
        return 0

    def _no_contexts(self) -> None:
        """The association accepted nothing: its entries count as 'no acceptable pres.'."""
        while self._current < len(self.entries):
            entry = self.entries[self._current]
            if entry.sent or entry.context_id == 0:
                break
            entry.sent, entry.status = True, NO_CONTEXT
            self._current += 1

    @staticmethod
    def _close(assoc: Any, release: bool) -> None:
        from dcmpy.dcmnet.association import AssociationError
        try:
            assoc.release() if release else assoc.abort()
        except (AssociationError, OSError):
            assoc.close()

    def _send_all(self, assoc: Any) -> str | None:
        """Send this association's entries; a failure text when the run must stop."""
        from dcmpy.dcmnet.association import AssociationError
        while self._current < len(self.entries):
            entry = self.entries[self._current]
            if not entry.sent:
                if entry.context_id == 0:
                    return None                        # for the next association
                try:
                    self._send(assoc, entry)
                except (AssociationError, OSError) as exc:
                    entry.sent, entry.association = True, self.associations
                    entry.status = INVALID_DATASET
                    return str(exc)
                except InputError as exc:
                    if self.opts.halt:
                        return str(exc)
                if not assoc.established:
                    return "DIMSE Failed to send message: the association was lost"
            self._current += 1
        return None

    def _send(self, assoc: Any, entry: Entry) -> None:
        """One C-STORE; InputError when it cannot be sent (the run goes on unless halting)."""
        from dcmpy.dcmnet.scu import StoreError, c_store, open_for_store
        from dcmpy.dcmdata.reader import DicomError, ReadOptions
        from dcmpy.dcmnet.storage import modality_prefix
        self.log.debug("sending SOP instance from file: %s", entry.path)
        try:
            obj = open_for_store(entry.path, ReadOptions(read_mode=self.opts.read_mode))
        except (DicomError, StoreError, OSError) as exc:
            text = _input_error(exc, entry.path, self.opts.read_mode)
            self.log.error("cannot send SOP instance from file: %s: %s", entry.path, text)
            raise InputError(text) from None
        try:
            if obj.sop_class != entry.sop_class:
                self.log.warn("SOP Class UID in dataset differs from the one in the transfer list")
            if obj.sop_instance != entry.sop_instance:
                self.log.warn("SOP Instance UID in dataset differs from the one in the transfer list")
            if self.opts.compute_sizes:
                entry.size = _dataset_size(entry.path, obj.transfer_syntax, self.opts.read_mode)
            entry.association, entry.network_ts = self.associations, obj.transfer_syntax
            ctx = assoc.contexts.get(entry.context_id)
            if ctx is None:
                self.log.error("No presentation context found for sending C-STORE with SOP Class / "
                               "Transfer Syntax: %s / %s", _uid_name(entry.sop_class),
                               _ts_name(obj.transfer_syntax))
                entry.sent, entry.status = True, NO_CONTEXT
                raise InputError("DIMSE No valid Presentation Context ID")
            data = None
            if ctx.transfer_syntax != obj.transfer_syntax:
                self.log.info("Converting transfer syntax: %s -> %s", _ts_name(obj.transfer_syntax),
                              _ts_name(ctx.transfer_syntax))
                try:
                    data = _converted(obj, ctx.transfer_syntax)
                except Exception as exc:       # a codec failure: this file only
                    self.log.error("cannot convert %s: %s", entry.path, exc)
                    entry.sent, entry.status = True, INVALID_DATASET
                    raise InputError(f"cannot convert dataset: {exc}") from None
            entry.network_ts = ctx.transfer_syntax
            mid = assoc.next_message_id()
            prefix = modality_prefix(entry.sop_class)
            self.log.info("Sending C-STORE Request (MsgID %d, %s)", mid,
                          "OT" if prefix == "UNKNOWN" else prefix)     # DcmSCU's default
            rsp = c_store(assoc, obj, ctx.id, message_id=mid, data=data)
            entry.sent, entry.status = True, rsp.Status
            from dcmpy.dcmnet.status import dcmtk_text
            self.log.info("Received C-STORE Response (%s)", dcmtk_text(rsp.Status, "C-STORE"))
        finally:
            obj.close()

    # -- what happened ------------------------------------------------------------------------------
    def summary(self) -> str:
        """DCMTK's 'Status Summary' block."""
        counts = {k: 0 for k in ("sent", "success", "warning", "error", "refused", "unknown",
                                 "nocontext", "invalid")}
        for entry in self.entries:
            if entry.sent:
                kind = _status_kind(entry.status)
                counts[kind] += 1
                counts["sent"] += kind not in ("nocontext", "invalid")
        lines = ["Status Summary", "--------------",
                 f"Number of associations   : {self.associations}",
                 f"Number of pres. contexts : {self.contexts_proposed}",
                 f"Number of SOP instances  : {len(self.entries)}"]
        rows = [("sent", "- sent to the peer       : "), ("success", "  * with status SUCCESS  : "),
                ("warning", "  * with status WARNING  : "), ("error", "  * with status ERROR    : "),
                ("refused", "  * with status REFUSED  : "), ("unknown", "  * with unknown status  : ")]
        lines += [f"{text}{counts[key]}" for key, text in rows if counts[key]]
        if counts["sent"] < len(self.entries):
            lines.append(f"- NOT sent to the peer   : {len(self.entries) - counts['sent']}")
        if counts["nocontext"]:
            lines.append(f"  * no acceptable pres.  : {counts['nocontext']}")
        if counts["invalid"]:
            lines.append(f"  * invalid dataset ptr. : {counts['invalid']}")
        return "\n".join(lines)

    def report(self) -> str:
        """The text of DCMTK's report file (+crf)."""
        from dcmpy.dcmnet.status import dcmtk_text
        head = ["Detailed Report on the Transfer of Instances",
                "============================================", "",
                f"Communication Peer : {self.host}:{self.port}",
                f"AE Titles used     : {self.opts.calling_ae} -> {self.opts.called_ae}",
                f"Current Date/Time  : {time.strftime('%Y-%m-%d %H:%M:%S')}", "", ""]
        parts = ["\n".join(head) + "\n"]
        for n, e in enumerate(self.entries, 1):
            if not e.sent:
                status = "<not sent>"
            elif e.status == NO_CONTEXT:
                status = "<no acceptable presentation context>"
            elif e.status == INVALID_DATASET:
                status = "<invalid dataset pointer>"
            else:
                status = f"0x{e.status:04x} ({dcmtk_text(e.status, 'C-STORE')})"
            net = f"{e.network_ts} = {_ts_name(e.network_ts)}" if e.network_ts else ""
            parts.append(f"Number        : {n}\nFilename      : {e.path}\n"
                         f"SOP Instance  : {e.sop_instance}\n"
                         f"SOP Class     : {e.sop_class} = {_uid_name(e.sop_class, 'unknown')}\n"
                         f"Original Xfer : {e.transfer_syntax} = {_ts_name(e.transfer_syntax)}\n"
                         f"Dataset Size  : {e.size} bytes\nAssociation   : {e.association}\n"
                         f"Pres. Context : {e.context_id}\nNetwork Xfer  : {net}\n"
                         f"DIMSE Status  : {status}\n\n")
        return "".join(parts) + "\n" + self.summary()

    def write_report(self, path: str) -> bool:
        """Write :meth:`report` to ``path`` (atomically); False (and an E: line) on failure."""
        self.log.info("creating detailed report on the transfer ...")
        self.log.debug("creating report file '%s'", path)
        if os.path.exists(path):
            self.log.warn("file '%s' already exists, overwriting", path)
        from dcmpy.dcmnet.storage import TEMP_PREFIX
        import tempfile
        try:
            fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=os.path.dirname(os.path.abspath(path)))
            with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(self.report())
            os.replace(temp, path)
        except OSError:
            self.log.error("cannot write detailed report to file '%s'", path)
            return False
        return True


# ---------------------------------------------------------------------------------------------
# helpers


def _uids_of(path: str, read_mode: str) -> tuple[str, str, str]:
    """(SOP class, SOP instance, transfer syntax) of a file; InputError in DCMTK's words."""
    from dcmpy.dcmdata.reader import DicomError, ReadOptions, dcmread
    try:
        head = dcmread(path, ReadOptions(read_mode=read_mode, stop_after=0x00080018))
    except (DicomError, OSError) as exc:
        raise InputError(_input_error(exc, path, read_mode)) from None
    meta = head.file_meta if getattr(head, "has_meta", False) else None
    return (_text(head, 0x00080016) or (_text(meta, 0x00020002) if meta is not None else ""),
            _text(head, 0x00080018) or (_text(meta, 0x00020003) if meta is not None else ""),
            head.transfer_syntax.uid)


def _input_error(exc: BaseException, path: str, read_mode: str) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    try:
        short = os.path.getsize(path) < 12          # measured: DCMTK's threshold
    except OSError:
        short = True
    if read_mode == "file-only" and short:
        return "I/O suspension or premature end of stream"
    if "DICM" in str(exc):
        return "File meta information header missing"
    return str(exc)


def _text(ds: Any, tag: int) -> str:
    elem = ds.get(tag) if ds is not None else None
    value = elem.value if elem is not None else None
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return str(value).strip("\0 ") if value is not None else ""


def _check_uids(sop_class: str, sop_instance: str, ts: str, check: bool) -> None:
    """DCMTK's checks of a transfer list entry (-nuc: presence only)."""
    from dcmpy.dcmdata.uid import dcmtk_name, is_valid_uid
    from dcmpy.dcmdata.xfer import lookup
    from dcmpy.dcmnet.storage import storage_sop_classes
    if not sop_class or check and not is_valid_uid(sop_class):
        raise InputError("Invalid SOP Class UID")
    if check and sop_class not in storage_sop_classes() and not sop_class.startswith(STORAGE_PREFIX) \
            and sop_class.startswith("1.2.840.10008"):
        raise InputError("Invalid SOP Class UID" if dcmtk_name(sop_class) else
                         "Unknown Storage SOP Class")
    if not sop_instance or check and not is_valid_uid(sop_instance):
        raise InputError("Invalid SOP Instance UID")
    if not ts or check and not is_valid_uid(ts):
        raise InputError("Invalid Transfer Syntax UID")
    if check and lookup(ts) is None:
        raise InputError("Unknown Transfer Syntax")


def _records(ds: Any):
    """Every directory record of a DICOMDIR (its items of (0004,1220))."""
    seq = ds.get(0x00041220)
    return list(seq.value) if seq is not None and seq.value else []


def _decodable(ts_uid: str) -> bool:
    if ts_uid == DEFLATED:
        return True
    from dcmpy.codecs import supported
    return supported().get(ts_uid, (False,))[0]


def _converted(obj: Any, target: str) -> bytes:
    """The data set of ``obj`` in ``target`` (an uncompressed syntax): re-encoded, inflated or
    decompressed."""
    from dcmpy.dcmdata.reader import dcmread
    from dcmpy.dcmdata.transcode import decompress
    from dcmpy.dcmdata.writer import WriteOptions, encode_file
    from dcmpy.dcmdata.xfer import lookup
    ds = dcmread(obj.path)
    if lookup(obj.transfer_syntax).encapsulated:
        decompress(ds, target, planar="restore")
    chunks = encode_file(ds, WriteOptions(transfer_syntax=target, write_meta=False))
    return b"".join(bytes(c) for c in chunks)


def _dataset_size(path: str, ts_uid: str, read_mode: str) -> int:
    """DCMTK's 'Dataset Size': the data set's length in its own syntax (inflated) with explicit
    sequence and item lengths."""
    from dcmpy.dcmdata.reader import ReadOptions, dcmread
    from dcmpy.dcmdata.writer import WriteOptions, encode_file
    target = N.EXPLICIT_LE if ts_uid == DEFLATED else ts_uid
    try:
        ds = dcmread(path, ReadOptions(read_mode=read_mode))
        chunks = encode_file(ds, WriteOptions(transfer_syntax=target, write_meta=False,
                                              explicit_lengths=True, group_lengths="recalc"))
        return sum(len(c) for c in chunks)
    except Exception:                   # the size is only informative
        return 0


def _status_kind(status: int) -> str:
    from dcmpy.dcmnet.status import category
    if status == NO_CONTEXT:
        return "nocontext"
    if status == INVALID_DATASET:
        return "invalid"
    if status & 0xFF00 == 0xA700:
        return "refused"
    if status & 0xFF00 == 0xA900 or status & 0xF000 == 0xC000:
        return "error"
    if category(status) == "Warning":
        return "warning"
    return "success" if status == 0 else "unknown"


def _condition(exc: BaseException, host: str) -> str:
    """DCMTK's condition text of a failed association request (without the code)."""
    from dcmpy.dcmnet.association import describe_failure
    import re
    text = describe_failure(exc, host).split("Association Request Failed: ", 1)[-1]
    return re.sub(r"^[0-9a-f]{4}:[0-9a-f]{4} ", "", text)


def _uid_name(uid: str, default: str | None = None) -> str:
    from dcmpy.dcmdata.uid import dcmtk_name
    return dcmtk_name(uid) or (default if default is not None else uid)


def _ts_name(uid: str) -> str:
    from dcmpy.dcmdata.xfer import lookup
    ts = lookup(uid)
    return ts.name if ts else uid


# ---------------------------------------------------------------------------------------------
# the command line


def build_app() -> App:
    app = App(TOOL, "Simple DICOM storage SCU (sender)", columns=(4, 21), standard_options=False)
    app.param("peer", "hostname of DICOM peer")
    app.param("port", "tcp/ip port number of peer")
    app.param("dcmfile-in", "DICOM file or directory to be transmitted", multiple=True)
    app.group("general options:", (6, 21))
    app.option("-h", "--help", "print this help text and exit", dest="", exclusive=True)
    app.option("", "--version", "print version information and exit", dest="", exclusive=True)
    app.option("", "--list-decoders", "list transfer syntaxes of decoders and exit",
               dest="list_decoders", exclusive=True)
    app.option("", "--arguments", "print expanded command line arguments", dest="")
    app.option("-q", "--quiet", "quiet mode, print no warnings and errors", dest="")
    app.option("-v", "--verbose", "verbose mode, print processing details", dest="")
    app.option("-d", "--debug", "debug mode, print debug information", dest="")
    app.option("-ll", "--log-level", "(fatal, error, warn, info, debug, trace)\n"
               "use level l for the logger", value="[l]evel: string constant", dest="")
    app.option("-lc", "--log-config", "use config file f for the logger",
               value="[f]ilename: string", dest="")
    app.option("+v", "--verbose-pc", "show presentation contexts in verbose mode", dest="verbose_pc")
    app.group("input options:")
    app.subgroup("input file format:")
    app.option("+f", "--read-file", "read file format or data set", dest="read_mode", const="auto")
    app.option("+fo", "--read-file-only", "read file format only (default)", dest="read_mode",
               const="file-only", default="file-only")
    app.option("-f", "--read-dataset", "read data set without file meta information",
               dest="read_mode", const="dataset")
    app.subgroup("input files:")
    app.option("+rd", "--read-from-dicomdir", "read information on input files from DICOMDIR",
               dest="dicomdir")
    app.option("+sd", "--scan-directories", "scan directories for input files (dcmfile-in)",
               dest="scan_dirs")
    app.option("+sp", "--scan-pattern", "pattern for filename matching (wildcards)",
               value="[p]attern: string (only w/ --scan-directories)", dest="scan_pattern")
    app.option("-r", "--no-recurse", "do not recurse within directories (default)", dest="recurse",
               const=False)
    app.option("+r", "--recurse", "recurse within specified directories", dest="recurse")
    app.group("processing options:")
    app.subgroup("transfer syntax conversion:")
    app.option("-dn", "--decompress-never", "never decompress compressed data sets",
               dest="decompress", const="never")
    app.option("+dls", "--decompress-lossless", "only decompress lossless compression (default)",
               dest="decompress", const="lossless", default="lossless")
    app.option("+dly", "--decompress-lossy", "decompress both lossy and lossless compression",
               dest="decompress", const="lossy")
    app.subgroup("deflate compression level:")
    app.option("+cl", "--compression-level", "0=uncompressed, 1=fastest, 9=best compression",
               value="[l]evel: integer (default: 6)", type=Int(0, 9), dest="compression_level",
               default=6)
    app.subgroup("other processing options:")
    app.option("-nh", "--no-halt", "do not halt on first invalid input file\n"
               "or if unsuccessful store encountered", dest="no_halt")
    app.option("-nip", "--no-illegal-proposal", "do not propose any presentation context that\n"
               "does not contain the default TS (if needed)", dest="no_illegal")
    app.option("-nuc", "--no-uid-checks", "do not check UID values of input files", dest="no_uid_checks")
    app.group("network options:")
    N.add_ae_titles(app, "DCMSEND")
    app.subgroup("association handling:")
    app.option("+ma", "--multi-associations", "use multiple associations (one after the other)\n"
               "if needed to transfer the instances (default)", dest="multi", default=True)
    app.option("-ma", "--single-association", "always use a single association", dest="multi",
               const=False)
    app.subgroup("other network options:")
    app.option("-to", "--timeout", "timeout for connection requests",
               value="[s]econds: integer (default: unlimited)", type=Int(1), dest="timeout")
    app.option("-ta", "--acse-timeout", "timeout for ACSE messages",
               value="[s]econds: integer (default: 30)", type=Int(1), dest="acse_timeout", default=30)
    app.option("-td", "--dimse-timeout", "timeout for DIMSE messages",
               value="[s]econds: integer (default: unlimited)", type=Int(1), dest="dimse_timeout")
    N.add_max_pdu(app, send=True)
    app.group("output options:")
    app.subgroup("general:")
    app.option("+crf", "--create-report-file", "create a detailed report on the transfer\n"
               "(if successful) and write it to text file f", value="[f]ilename: string",
               dest="report")
    return app


def list_decoders(app: App) -> None:
    """--list-decoders: the syntaxes read natively and those our codecs (and zlib) decode."""
    from dcmpy.codecs import supported
    from dcmpy.dcmdata.xfer import lookup
    native = "".join(f"- {_ts_name(uid)}\n" for uid in (N.IMPLICIT_LE, N.EXPLICIT_LE, N.EXPLICIT_BE))
    decoders = [DEFLATED] + [uid for uid, (ok, _, _) in supported().items() if ok and lookup(uid)]
    listed = "".join(f"- {_ts_name(uid)}\n" for uid in decoders)
    sys.stdout.write(f"{app.header()}\nTransfer syntaxes supported natively:\n{native}\n"
                     f"Transfer syntaxes supported by decoders:\n{listed}")


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    if opts.list_decoders:
        list_decoders(app)
        return 0
    port = N.parse_port(app, opts.port)
    app.check_dependence("--scan-pattern", "--scan-directories",
                         opts.scan_pattern is None or opts.scan_dirs)
    options = SenderOptions(
        calling_ae=N.check_ae_title(app, "--aetitle", opts.aetitle),
        called_ae=N.check_ae_title(app, "--call", opts.call), read_mode=opts.read_mode,
        from_dicomdir=opts.dicomdir, decompress=opts.decompress, halt=not opts.no_halt,
        illegal_proposal=not opts.no_illegal, check_uids=not opts.no_uid_checks,
        multiple_associations=opts.multi, max_pdu=opts.max_pdu, max_send_pdu=opts.max_send_pdu,
        timeouts=N.timeouts_from(opts), verbose_pc=opts.verbose_pc,
        compute_sizes=opts.report is not None)
    from dcmpy.apps._files import collect_input_files
    if opts.scan_dirs:
        log.info("determining input files ...")
    files = collect_input_files(opts, TOOL)
    if not files:
        log.fatal("no input files to be processed")
        return EXITCODE_NO_INPUT_FILES
    sender = Sender(opts.peer, port, options)
    return sender.add_files(files) or sender.run(opts.report)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
