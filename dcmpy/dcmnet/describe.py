"""Association parameters printed as DCMTK prints them (``+v`` and ``-d`` of the tools)."""
from __future__ import annotations

from .pdu import RESULT_TEXT, AssociateAC, AssociateRQ


def _uid(uid: str) -> str:
    from ..dcmdata.uid import dcmtk_name
    name = dcmtk_name(uid)
    return f"={name}" if name else uid


def _role(role) -> str:
    if role is None:
        return "Default"
    if role.scu and role.scp:
        return "SCP/SCU"
    return "SCP" if role.scp else "SCU"


def describe(rq: AssociateRQ, ac: AssociateAC | None = None, ours_requestor: bool = True) -> str:
    """The ``BEGIN A-ASSOCIATE-RQ`` (or ``-AC`` when ``ac`` is given) block."""
    kind = "A-ASSOCIATE-AC" if ac is not None else "A-ASSOCIATE-RQ"
    ours, theirs = (rq.user, ac.user if ac else None) if ours_requestor else (ac.user if ac else None, rq.user)
    lines = [f"====================== BEGIN {kind} =====================",
             f"Our Implementation Class UID:      {ours.implementation_class_uid if ours else ''}",
             f"Our Implementation Version Name:   {(ours.implementation_version_name or '') if ours else ''}",
             f"Their Implementation Class UID:    {theirs.implementation_class_uid if theirs else ''}",
             f"Their Implementation Version Name: {(theirs.implementation_version_name or '') if theirs else ''}",
             f"Application Context Name:    {rq.application_context}",
             f"Calling Application Name:    {rq.calling_ae}",
             f"Called Application Name:     {rq.called_ae}",
             f"Responding Application Name: {ac.called_ae if ac else rq.called_ae}",
             f"Our Max PDU Receive Size:    {ours.max_length if ours else 0}",
             f"Their Max PDU Receive Size:  {(theirs.max_length or 0) if theirs else 0}",
             "Presentation Contexts:"]
    roles = {r.sop_class: r for r in rq.user.roles}
    accepted_roles = {r.sop_class: r for r in ac.user.roles} if ac else {}
    answers = {pc.id: pc for pc in ac.contexts} if ac else {}
    for pc in rq.contexts:
        answer = answers.get(pc.id)
        state = "Proposed" if ac is None else RESULT_TEXT.get(answer.result, "Rejected") if answer else "Rejected"
        lines += [f"  Context ID:        {pc.id} ({state})",
                  f"    Abstract Syntax: {_uid(pc.abstract_syntax)}",
                  f"    Proposed SCP/SCU Role: {_role(roles.get(pc.abstract_syntax))}"]
        if ac is None:
            lines.append("    Proposed Transfer Syntax(es):")
            lines += [f"      {_uid(ts)}" for ts in pc.transfer_syntaxes]
        elif answer is not None and answer.result == 0:
            lines += [f"    Accepted SCP/SCU Role: {_role(accepted_roles.get(pc.abstract_syntax))}",
                      f"    Accepted Transfer Syntax: {_uid(answer.transfer_syntax)}"]
    ext = rq.user.extended
    lines.append("Requested Extended Negotiation:" + ("" if ext else " none"))
    lines += [f"  Abstract Syntax: {_uid(e.sop_class)}\n  Info: {e.info.hex(' ')}" for e in ext]
    acc = ac.user.extended if ac else []
    lines.append("Accepted Extended Negotiation: " + ("" if acc else " none"))
    lines += [f"  Abstract Syntax: {_uid(e.sop_class)}\n  Info: {e.info.hex(' ')}" for e in acc]
    ident = rq.user.user_identity
    lines.append("Requested User Identity Negotiation:" + (f" type {ident.type}" if ident else " none"))
    response = ac.user.user_identity_response if ac else None
    lines.append("User Identity Negotiation Response: " + (f" {len(response)} bytes" if response is not None else " none"))
    lines.append(f"======================= END {kind} ======================")
    return "\n".join(lines)
