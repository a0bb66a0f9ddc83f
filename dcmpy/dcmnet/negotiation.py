"""Association negotiation as the acceptor decides it (PS3.8 7.1 and 9.3, PS3.7 D.3.3).

An :class:`AcceptorPolicy` says which abstract syntaxes we accept with which transfer syntaxes
(in our order of preference), which roles, and how to answer extended negotiation and user
identity; :meth:`AcceptorPolicy.negotiate` turns an A-ASSOCIATE-RQ into the A-ASSOCIATE-AC or
-RJ that answers it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .pdu import (APPLICATION_CONTEXT, AssociateAC, AssociateRJ, AssociateRQ,
                  ExtendedNegotiation, PresentationContextAC, RoleSelection, UserIdentity,
                  UserInformation)
from ..dcmdata.uid import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME

VERIFICATION = "1.2.840.10008.1.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
UNCOMPRESSED = [EXPLICIT_LE, EXPLICIT_BE, IMPLICIT_LE]

# A-ASSOCIATE-RJ (result, source, reason) used here (PS3.8 9.3.4)
RJ_NO_REASON = (1, 1, 1)
RJ_APPLICATION_CONTEXT = (1, 1, 2)
RJ_CALLING_AE = (1, 1, 3)
RJ_CALLED_AE = (1, 1, 7)
RJ_PROTOCOL_VERSION = (1, 2, 2)
RJ_CONGESTION = (2, 3, 1)
RJ_LOCAL_LIMIT = (2, 3, 2)

# DCMTK's words for them (its log lines after "Association Rejected:")
RJ_TEXT = {
    "result": {1: "Rejected Permanent", 2: "Rejected Transient"},
    "source": {1: "Service User", 2: "Service Provider (ACSE Related)",
               3: "Service Provider (Presentation Related)"},
    "reason": {(1, 1): "No Reason", (1, 2): "App Context Name Not Supported",
               (1, 3): "Calling AE Title Not Recognized", (1, 7): "Called AE Title Not Recognized",
               (2, 1): "No Reason", (2, 2): "Protocol Version Not Supported",
               (3, 1): "Temporary Congestion", (3, 2): "Local Limit Exceeded"},
}


def describe_rejection(rj: AssociateRJ) -> str:
    """DCMTK's two-line description of an A-ASSOCIATE-RJ."""
    result = RJ_TEXT["result"].get(rj.result, f"Unknown ({rj.result})")
    source = RJ_TEXT["source"].get(rj.source, f"Unknown ({rj.source})")
    reason = RJ_TEXT["reason"].get((rj.source, rj.reason), f"Unknown ({rj.reason})")
    return f"Result: {result}, Source: {source}\nReason: {reason}"


@dataclass
class SupportedContext:
    """An abstract syntax we accept, its transfer syntaxes in our preference order
    (``["*"]``: any the requestor proposes, its order), and the roles the requestor may take."""
    abstract_syntax: str
    transfer_syntaxes: list[str]
    scu_role: bool = True        # the requestor may act as SCU (we are SCP): the default role
    scp_role: bool = False       # the requestor may act as SCP (we are SCU, e.g. C-GET storage)


IdentityCheck = Callable[[UserIdentity], "bytes | None | bool"]
ExtendedHandler = Callable[[ExtendedNegotiation], "bytes | None"]


@dataclass
class AcceptorPolicy:
    """What an SCP accepts. ``promiscuous_transfer_syntaxes`` accepts any abstract syntax not
    listed with those transfer syntaxes (storescp ``-pm``)."""
    ae_title: str = "ANY-SCP"
    contexts: dict[str, SupportedContext] = field(default_factory=dict)
    promiscuous_transfer_syntaxes: list[str] | None = None
    check_called_ae: bool = False
    refuse: bool = False                   # reject every association (--refuse)
    require_implementation_uid: bool = False   # --reject
    max_pdu: int = 16384
    identity: IdentityCheck | None = None  # None: accept any identity, answer nothing
    extended: ExtendedHandler | None = None
    implementation_class_uid: str = IMPLEMENTATION_CLASS_UID
    implementation_version_name: str = IMPLEMENTATION_VERSION_NAME
    accept: Callable[[AssociateRQ], tuple[int, int, int] | None] | None = None  # extra check

    def add(self, abstract_syntax: str, transfer_syntaxes: list[str] | None = None,
            scu_role: bool = True, scp_role: bool = False) -> None:
        """Accept ``abstract_syntax`` (default transfer syntaxes: the uncompressed three)."""
        self.contexts[abstract_syntax] = SupportedContext(
            abstract_syntax, list(transfer_syntaxes or UNCOMPRESSED), scu_role, scp_role)

    # -- the decision -------------------------------------------------------------------------
    def rejection(self, rq: AssociateRQ) -> tuple[int, int, int] | None:
        """(result, source, reason) if the association as a whole is rejected."""
        if not rq.protocol_version & 1:
            return RJ_PROTOCOL_VERSION
        if self.refuse:
            return RJ_NO_REASON
        if rq.application_context != APPLICATION_CONTEXT:
            return RJ_APPLICATION_CONTEXT
        if self.require_implementation_uid and not rq.user.implementation_class_uid:
            return RJ_NO_REASON
        if self.check_called_ae and rq.called_ae != self.ae_title:
            return RJ_CALLED_AE
        return self.accept(rq) if self.accept is not None else None

    def negotiate(self, rq: AssociateRQ) -> AssociateAC | AssociateRJ:
        """The answer to ``rq``."""
        reason = self.rejection(rq)
        if reason is not None:
            return AssociateRJ(*reason)
        user = UserInformation(max_length=self.max_pdu,
                               implementation_class_uid=self.implementation_class_uid,
                               implementation_version_name=self.implementation_version_name)
        if rq.user.async_ops is not None:
            user.async_ops = (1, 1)      # we perform one operation at a time
        if rq.user.user_identity is not None:
            answer = self._identify(rq.user.user_identity)
            if answer is False:
                return AssociateRJ(*RJ_NO_REASON)
            if isinstance(answer, bytes) and rq.user.user_identity.positive_response_requested:
                user.user_identity_response = answer
        proposed_roles = {r.sop_class: r for r in rq.user.roles}
        contexts, seen = [], set()
        for pc in rq.contexts:
            result, ts, role = self._context(pc.id, pc.abstract_syntax, pc.transfer_syntaxes,
                                             proposed_roles.get(pc.abstract_syntax), seen)
            contexts.append(PresentationContextAC(pc.id, result, ts))
            if role is not None and result == 0 and role not in user.roles:
                user.roles.append(role)
        if self.extended is not None:
            for ext in rq.user.extended:
                info = self.extended(ext)
                if info is not None:
                    user.extended.append(ExtendedNegotiation(ext.sop_class, info))
        return AssociateAC(rq.called_ae, rq.calling_ae, contexts, user)

    def _identify(self, ident: UserIdentity) -> bytes | None | bool:
        if self.identity is None:
            return None
        return self.identity(ident)

    def _context(self, pc_id: int, abstract: str, proposed: list[str],
                 role: RoleSelection | None, seen: set[int]):
        """(result, transfer syntax, role answer) for one proposed presentation context."""
        if pc_id % 2 == 0 or pc_id in seen:
            return 2, "", None          # even or repeated ids are invalid: provider rejection
        seen.add(pc_id)
        supported = self.contexts.get(abstract)
        if supported is None and self.promiscuous_transfer_syntaxes is not None:
            supported = SupportedContext(abstract, self.promiscuous_transfer_syntaxes)
        if supported is None:
            return 3, "", None
        ts = _choose(supported.transfer_syntaxes, proposed)
        if ts is None:
            return 4, "", None
        answer = None
        if role is not None:
            scu, scp = role.scu and supported.scu_role, role.scp and supported.scp_role
            if not scu and not scp:
                return 1, "", None
            answer = RoleSelection(abstract, scu, scp)
        elif not supported.scu_role:
            return 1, "", None          # default role (requestor SCU) not allowed
        return 0, ts, answer


def _choose(ours: list[str], proposed: list[str]) -> str | None:
    """Our most preferred transfer syntax among those proposed ('*': the requestor's first)."""
    if ours == ["*"]:
        from ..dcmdata.xfer import lookup
        known = [ts for ts in proposed if lookup(ts) is not None]
        return known[0] if known else None
    for ts in ours:
        if ts in proposed:
            return ts
    return None
