"""Sending files with C-STORE as DCMTK's storescu does: check the files, propose the contexts it
proposes, send each file in the best accepted context, report as it reports.

    code = StoreSCU("pacs", 104, SendOptions(called_ae="PACS"), log).send(["a.dcm", "b.dcm"])

A file goes out as its own bytes (memory-mapped) when the accepted transfer syntax is its own;
between uncompressed syntaxes it is converted; compressed data is never decompressed here.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, TextIO

from . import pdu as P
from .association import Association, AssociationError, Timeouts, describe_failure
from .netlog import DEBUG, NULL
from .scu import StoreError, StoreObject, build_request, c_store, convert_for_store, open_for_store
from .status import category, dcmtk_text
from .storage import modality_prefix

EXPLICIT_LE, EXPLICIT_BE, IMPLICIT_LE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2"
LOCAL_EXPLICIT = EXPLICIT_LE if sys.byteorder == "little" else EXPLICIT_BE
DEFLATED = "1.2.840.10008.1.2.1.99"


@dataclass
class InventOptions:
    """+II/+IR/+IS/+IP: new UIDs (and patients) every so many objects."""
    series_every: int = 100
    study_every: int = 50
    patient_every: int = 25


@dataclass
class SendOptions:
    calling_ae: str = "STORESCU"
    called_ae: str = "ANY-SCP"
    propose: str | None = None          # -x?: the preferred transfer syntax (None: local explicit)
    required_only: bool = False         # -R
    combine: bool = False               # +C
    profile: Any = None                 # -xf: an assocprofile.Profile
    max_pdu: int = 16384
    max_send_pdu: int | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    repeat: int = 1                     # --repeat: send each file this many times
    abort: bool = False
    halt: bool = True                   # -nh clears it
    rename: bool = False                # +rn
    read_options: Any = None
    user_identity: P.UserIdentity | None = None
    invent: InventOptions | None = None
    verbose_pc: bool = False
    tls: Any = None                     # an ssl.SSLContext (dcmnet.tls.create_context)


def proposed_contexts(classes: list[str], file_syntaxes: dict[str, set[str]], preferred: str | None,
                      required_only: bool, combine: bool) -> list[tuple[str, list[str]]]:
    """The presentation contexts DCMTK's storescu proposes: its list of SOP classes (the files'
    own with -R), each with the preferred syntax alone and then the fallbacks (together with +C).

    Deliberate difference: a file whose class is not in DCMTK's list makes room for itself by
    dropping list classes no file needs (DCMTK proposes its 128 contexts and then cannot send
    such a file: "No presentation context for: ..."); a file in a syntax that none of the
    proposed ones carries gets a context for that syntax (DCMTK fails to convert it)."""
    from ._storage_table import STORESCU_DEFAULT_CLASSES
    first = preferred or LOCAL_EXPLICIT
    fallback = [] if first == IMPLICIT_LE or first.startswith("1.2.840.10008.1.2.4.10") else \
        [ts for ts in (EXPLICIT_LE, EXPLICIT_BE, IMPLICIT_LE) if ts != first]
    proposed = [first] + fallback
    own = {sop: sorted(ts for ts in syntaxes if ts not in proposed and not _convertible(ts, proposed))
           for sop, syntaxes in file_syntaxes.items()}
    sops = list(classes) if required_only else list(STORESCU_DEFAULT_CLASSES)
    extra = [c for c in classes if c not in sops]
    per_class = 1 if combine or not fallback else 2
    budget = 128 - sum(len(v) for v in own.values()) - len(extra) * per_class
    needed = set(classes)
    while len(sops) * per_class > budget and any(c not in needed for c in sops):
        sops.remove(next(c for c in reversed(sops) if c not in needed))
    contexts: list[tuple[str, list[str]]] = []
    for sop in sops + extra:
        if combine or not fallback:
            contexts.append((sop, proposed))
        else:
            contexts += [(sop, [first]), (sop, fallback)]
        contexts += [(sop, [ts]) for ts in own.get(sop, ())]
    return contexts[:128]


class StoreSCU:
    """storescu as a library class; ``send(files)`` returns DCMTK's exit code."""

    def __init__(self, host: str, port: int, options: SendOptions | None = None, log: Any = NULL,
                 progress: TextIO | None = None) -> None:
        self.host, self.port = host, port
        self.opts = options or SendOptions()
        self.log = log
        self.progress = progress          # DCMTK's XMIT dots (stdout in verbose mode)
        self._invent_count = 0
        self._invent_uids: dict[str, str] = {}
        self.sent = self.failed = 0

    # -- input ------------------------------------------------------------------------------------
    def check_files(self, files: list[str]) -> tuple[list[tuple[str, StoreObject | str]], bool]:
        """(path, object, or the reason it cannot be read) for each file, and whether to halt
        now (a file that cannot be accessed at all)."""
        from ..dcmdata.reader import DicomError
        self.log.info("checking input files ...")
        checked: list[tuple[str, StoreObject | str]] = []
        for path in files:
            if not os.access(path, os.R_OK) or os.path.isdir(path):
                self.log.fatal("cannot access file: %s", path)
                return checked, True
            try:
                checked.append((path, open_for_store(path, self.opts.read_options)))
            except (DicomError, StoreError, OSError) as exc:
                checked.append((path, str(exc)))     # reported when its turn comes, as DCMTK
        return checked, False

    def request(self, objects: list[StoreObject]) -> P.AssociateRQ:
        """The A-ASSOCIATE-RQ for these objects (profile, or DCMTK's proposal rules)."""
        opts = self.opts
        roles, extended = [], []
        if opts.profile is not None:
            contexts = [(pc.abstract_syntax, list(pc.transfer_syntaxes)) for pc in opts.profile.contexts]
            roles = [P.RoleSelection(r.abstract_syntax, r.scu, r.scp) for r in opts.profile.roles]
            extended = [P.ExtendedNegotiation(e.abstract_syntax, e.data) for e in opts.profile.extended]
        else:
            classes: list[str] = []
            syntaxes: dict[str, set[str]] = {}
            for obj in objects:
                if obj.sop_class not in classes:
                    classes.append(obj.sop_class)
                ts = DEFLATED if opts.propose == DEFLATED and _uncompressed(obj.transfer_syntax) \
                    else obj.transfer_syntax
                syntaxes.setdefault(obj.sop_class, set()).add(ts)
            contexts = proposed_contexts(classes, syntaxes, opts.propose, opts.required_only,
                                         opts.combine)
        return build_request(opts.calling_ae, opts.called_ae, contexts, max_pdu=opts.max_pdu,
                             roles=roles, extended=extended, user_identity=opts.user_identity)

    # -- the run ------------------------------------------------------------------------------------
    def send(self, files: list[str]) -> int:
        checked, halt = self.check_files(files)
        if halt:
            return 1
        objects = [obj for _, obj in checked if isinstance(obj, StoreObject)]
        try:
            return self._one_association(checked)
        finally:
            for obj in objects:
                obj.close()

    def _one_association(self, checked: list) -> int:
        rq = self.request([obj for _, obj in checked if isinstance(obj, StoreObject)])
        verbose_pc = self.opts.verbose_pc and not self.log.enabled(DEBUG)   # -d prints them anyway
        if verbose_pc:
            from .describe import describe
            self.log.info("Request Parameters:\n%s", describe(rq))
        self.log.info("Requesting Association")
        try:
            assoc = Association.request(self.host, self.port, rq, timeouts=self.opts.timeouts,
                                        log=self.log, tls=self.opts.tls)
        except (AssociationError, OSError) as exc:
            self.log.fatal("%s", describe_failure(exc, self.host))
            return 1
        if self.opts.max_send_pdu:
            assoc.peer_max_pdu = min(assoc.peer_max_pdu or self.opts.max_send_pdu,
                                     self.opts.max_send_pdu)
        if verbose_pc:
            from .describe import describe
            self.log.info("Association Parameters Negotiated:\n%s", describe(rq, assoc.ac))
        if not assoc.contexts:
            self.log.fatal("No Acceptable Presentation Contexts")
            assoc.abort()
            return 1
        if self.opts.user_identity is not None and self.opts.user_identity.positive_response_requested \
                and assoc.ac.user.user_identity_response is None:
            self.log.error("User Identity Negotiation failed: Positive response requested but none received")
            self.log.fatal("0006:0108 ASC User Identification Negotiation failed")
            assoc.abort()
            return 1
        self.log.info("Association Accepted (Max Send PDV: %d)", assoc.max_send_pdv)
        try:
            for path, obj in checked:
                for _ in range(self.opts.repeat):     # --repeat: each file n times, as DCMTK
                    status = self._store(assoc, path, obj)
                    ok = status is not None and category(status) in ("Success", "Warning")
                    if not ok:
                        break
                if self.opts.rename:
                    self._rename(path, ok)
                if ok or not self.opts.halt:
                    continue
                if status is None:          # not sent at all: DCMTK aborts
                    if not isinstance(obj, StoreObject):
                        self.log.error("Store SCU Failed: %s", obj)
                    self.log.info("Aborting Association")
                    assoc.abort()
                    return 1
                self.log.info("Releasing Association")   # a refusal: DCMTK releases, and
                assoc.release()                          # exits with the status' high byte
                return (status >> 8) or 1
            if self.opts.abort:
                self.log.info("Aborting Association")
                assoc.abort()
            else:
                self.log.info("Releasing Association")
                assoc.release()
        except (AssociationError, OSError) as exc:
            self.log.error("Store SCU Failed: %s", exc)
            assoc.close()
            return 1
        return 0

    def _store(self, assoc: Association, path: str, obj: StoreObject | str) -> int | None:
        """Send one file; the response status, None if it could not be sent."""
        self.log.info("Sending file: %s", path)
        if not isinstance(obj, StoreObject):
            self.log.error("Bad DICOM file: %s: %s", path, obj)
            self.failed += 1
            return None
        prefix = modality_prefix(obj.sop_class)
        wanted = DEFLATED if self.opts.propose == DEFLATED and _uncompressed(obj.transfer_syntax) \
            else obj.transfer_syntax
        ctx = _choose_context(assoc, obj.sop_class, wanted)
        if ctx is None:
            self.log.error("No presentation context for: (%s) %s", prefix, obj.sop_class)
            self.log.error("Store SCU Failed: 0006:0208 DIMSE No valid Presentation Context ID")
            self.failed += 1
            return None
        self.log.info("Converting transfer syntax: %s -> %s", _ts_name(obj.transfer_syntax),
                      _ts_name(ctx.transfer_syntax))
        try:
            data = self._data_for(obj, ctx.transfer_syntax)
        except StoreError as exc:
            self.log.warn("DIMSE Warning: (%s,%s): sendMessage: %s", self.opts.calling_ae,
                          self.opts.called_ae, exc)
            self.log.error("Store Failed, file: %s:\n0006:020e DIMSE Failed to send message", path)
            self.log.error("Store SCU Failed: 0006:020e DIMSE Failed to send message")
            self.failed += 1
            return None
        mid = assoc.next_message_id()
        self.log.info("Sending Store Request (MsgID %d, %s)", mid, prefix)
        progress = self._dots() if self.progress is not None else None
        rsp = c_store(assoc, obj, ctx.id, message_id=mid, progress=progress, data=data)
        if self.progress is not None:
            self.progress.write("\n")
            self.progress.flush()
        status = rsp.Status
        self.log.info("Received Store Response (%s)", dcmtk_text(status, "C-STORE"))
        if category(status) in ("Success", "Warning"):
            self.sent += 1
        else:
            self.failed += 1
        return status

    def _dots(self) -> Callable[[int], None]:
        out = self.progress
        out.write("XMIT: ")

        def dot(_: int) -> None:
            out.write(".")
        return dot

    def _data_for(self, obj: StoreObject, ts: str) -> Any:
        """The bytes to send in ``ts``: the file's own, converted ones, or with invented UIDs."""
        if self.opts.invent is not None:
            return self._with_new_uids(obj, ts)
        if ts == obj.transfer_syntax:
            return obj.data
        return convert_for_store(obj, ts)

    def _with_new_uids(self, obj: StoreObject, ts: str) -> bytes:
        """+II/+IR/+IS/+IP: the object with new UIDs (and patient) re-encoded in ``ts``."""
        from ..dcmdata import xfer
        from ..dcmdata.reader import dcmread
        from ..dcmdata.uid import generate_uid
        from ..dcmdata.writer import WriteOptions, encode_file
        if ts != obj.transfer_syntax and (xfer.lookup(ts) is None or xfer.lookup(ts).encapsulated
                                          or xfer.lookup(obj.transfer_syntax) is None
                                          or xfer.lookup(obj.transfer_syntax).encapsulated):
            return convert_for_store(obj, ts)
        inv, n = self.opts.invent, self._invent_count
        uids = self._invent_uids
        if n % inv.series_every == 0:
            uids["series"] = generate_uid()
            series_n = n // inv.series_every
            if series_n % inv.study_every == 0:
                uids["study"] = generate_uid()
                if (series_n // inv.study_every) % inv.patient_every == 0:
                    uids["patient"] = generate_uid()[5:21]
        self._invent_count += 1
        ds = dcmread(obj.path, self.opts.read_options)
        obj.sop_instance = generate_uid()
        ds.SOPInstanceUID = obj.sop_instance
        ds.SeriesInstanceUID = uids["series"]
        ds.StudyInstanceUID = uids["study"]
        ds.PatientID = uids["patient"]
        ds.PatientName = f"DCMPY^{uids['patient']}"
        chunks = encode_file(ds, WriteOptions(transfer_syntax=ts, write_meta=False))
        return b"".join(bytes(c) for c in chunks)

    def _rename(self, path: str, ok: bool) -> None:
        target = path + (".done" if ok else ".bad")
        try:
            os.replace(path, target)
        except OSError as exc:
            self.log.error("cannot rename file: %s to %s: %s", path, target, exc.strerror)


def _choose_context(assoc: Association, sop_class: str, wanted: str):
    """The accepted context for ``sop_class`` in ``wanted``; else the first one ``wanted`` can be
    converted to. (DCMTK takes the first accepted context of the class and, for an uncompressed
    file on a compressed context, fails: it cannot compress.)"""
    contexts = [c for c in assoc.contexts.values() if c.abstract_syntax == sop_class and c.scu_role]
    for ctx in contexts:
        if ctx.transfer_syntax == wanted:
            return ctx
    for ctx in contexts:
        if _convertible(wanted, [ctx.transfer_syntax]):
            return ctx
    return contexts[0] if contexts else None


def _convertible(ts: str, targets: list[str]) -> bool:
    """True if data in ``ts`` can be re-encoded into one of ``targets`` (no codec needed)."""
    from ..dcmdata.xfer import lookup
    src = lookup(ts)
    if src is None or src.encapsulated:
        return False
    return any((t := lookup(uid)) is not None and not t.encapsulated for uid in targets)


def _uncompressed(uid: str) -> bool:
    return uid in (EXPLICIT_LE, EXPLICIT_BE, IMPLICIT_LE)


def _ts_name(uid: str) -> str:
    from ..dcmdata.xfer import lookup
    ts = lookup(uid)
    return ts.name if ts else uid
