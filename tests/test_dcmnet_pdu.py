"""PDUs, the state table and DIMSE command sets against pynetdicom and pydicom, and hostile bytes.

Round trips are byte for byte in both directions: pynetdicom encodes (from its own primitives),
we decode and re-encode the same bytes; we encode, pynetdicom decodes and re-encodes ours.
"""
from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings, strategies as st

from pydicom.multival import MultiValue
from pynetdicom import pdu as pn_pdu, pdu_primitives as pp
from pynetdicom.presentation import build_context

from dcmpy.dcmnet import pdu as P
from dcmpy.dcmnet.association import Association
from dcmpy.dcmnet.dimse import (Assembler, DimseError, Message, COMMANDS, decode_command,
                                encode_command)
from dcmpy.dcmnet.fsm import ACTIONS, EVENTS, STATES, TRANSITIONS

CT = "1.2.840.10008.5.1.4.1.1.2"
IMPLICIT, EXPLICIT = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1"


# ---------------------------------------------------------------------------------------------
# pynetdicom's side: primitives -> PDU bytes


def _user_items(identity: tuple | None, accept: bool, response: bytes | None = None) -> list:
    ml = pp.MaximumLengthNotification()
    ml.maximum_length_received = 32768
    ic = pp.ImplementationClassUIDNotification()
    ic.implementation_class_uid = "1.2.3.4"
    iv = pp.ImplementationVersionNameNotification()
    iv.implementation_version_name = "PYNET_1"
    ao = pp.AsynchronousOperationsWindowNegotiation()
    ao.maximum_number_operations_invoked, ao.maximum_number_operations_performed = 5, 3
    rs = pp.SCP_SCU_RoleSelectionNegotiation()
    rs.sop_class_uid, rs.scu_role, rs.scp_role = CT, True, not accept
    en = pp.SOPClassExtendedNegotiation()
    en.sop_class_uid = "1.2.840.10008.5.1.4.1.2.1.1"
    en.service_class_application_information = b"\x01\x00\x01"
    items = [ml, ic, iv, ao, rs, en]
    if not accept:
        ce = pp.SOPClassCommonExtendedNegotiation()
        ce.sop_class_uid = "1.2.840.10008.5.1.4.1.1.88.40"
        ce.service_class_uid = "1.2.840.10008.4.2"
        ce.related_general_sop_class_identification = ["1.2.840.10008.5.1.4.1.1.88.22",
                                                       "1.2.840.10008.5.1.4.1.1.88.33"]
        items.append(ce)
    if identity is not None:
        ui = pp.UserIdentityNegotiation()
        if accept:
            ui.server_response = response
        else:
            ui.user_identity_type, ui.primary_field, ui.secondary_field = identity
            ui.positive_response_requested = True
        items.append(ui)
    return items


def _pn_rq(identity: tuple | None) -> bytes:
    a = pp.A_ASSOCIATE()
    a.application_context_name = P.APPLICATION_CONTEXT
    a.calling_ae_title, a.called_ae_title = "CALLING", "CALLED"
    contexts = []
    for n, (sop, syntaxes) in enumerate([(CT, [IMPLICIT, EXPLICIT]), ("1.2.840.10008.1.1", [IMPLICIT])]):
        cx = build_context(sop, syntaxes)
        cx.context_id = 2 * n + 1
        contexts.append(cx)
    a.presentation_context_definition_list = contexts
    a.user_information = _user_items(identity, False)
    pdu = pn_pdu.A_ASSOCIATE_RQ()
    pdu.from_primitive(a)
    return pdu.encode()


IDENTITIES = [None, (1, b"user", b""), (2, b"user", b"secret"), (3, b"kerberos-ticket", b""),
              (4, b"<saml/>", b""), (5, b"eyJhbGciOi.jwt", b"")]


@pytest.mark.parametrize("identity", IDENTITIES, ids=lambda i: f"identity{i[0] if i else 0}")
def test_associate_rq_round_trip_with_pynetdicom(identity):
    theirs = _pn_rq(identity)
    ours = P.decode_pdu(theirs)
    assert isinstance(ours, P.AssociateRQ)
    assert (ours.called_ae, ours.calling_ae) == ("CALLED", "CALLING")
    assert [(pc.id, pc.abstract_syntax, pc.transfer_syntaxes) for pc in ours.contexts] == \
        [(1, CT, [IMPLICIT, EXPLICIT]), (3, "1.2.840.10008.1.1", [IMPLICIT])]
    user = ours.user
    assert (user.max_length, user.implementation_class_uid, user.implementation_version_name,
            user.async_ops) == (32768, "1.2.3.4", "PYNET_1", (5, 3))
    assert user.roles == [P.RoleSelection(CT, True, True)]
    assert user.common_extended[0].related == ["1.2.840.10008.5.1.4.1.1.88.22",
                                               "1.2.840.10008.5.1.4.1.1.88.33"]
    if identity is not None:
        assert (user.user_identity.type, user.user_identity.primary,
                user.user_identity.secondary) == identity
    assert P.encode(ours) == theirs
    # and pynetdicom reads ours back to the same bytes
    again = pn_pdu.A_ASSOCIATE_RQ()
    again.decode(P.encode(ours))
    assert again.encode() == theirs


@pytest.mark.parametrize("response", [None, b"", b"server-ticket"])
def test_associate_ac_round_trip_with_pynetdicom(response):
    a = pp.A_ASSOCIATE()
    a.application_context_name = P.APPLICATION_CONTEXT
    a.calling_ae_title, a.called_ae_title = "CALLING", "CALLED"
    a.result = 0
    contexts = []
    for cid, result, ts in [(1, 0, EXPLICIT), (3, 3, IMPLICIT), (5, 4, IMPLICIT), (7, 1, IMPLICIT),
                            (9, 2, IMPLICIT)]:
        cx = build_context(CT, [ts])
        cx.context_id, cx.result = cid, result
        contexts.append(cx)
    a.presentation_context_definition_results_list = contexts
    a.user_information = _user_items(None if response is None else (), True, response)
    pdu = pn_pdu.A_ASSOCIATE_AC()
    pdu.from_primitive(a)
    theirs = pdu.encode()
    ours = P.decode_pdu(theirs)
    assert [(pc.id, pc.result) for pc in ours.contexts] == [(1, 0), (3, 3), (5, 4), (7, 1), (9, 2)]
    assert ours.contexts[0].transfer_syntax == EXPLICIT
    assert ours.user.user_identity_response == response
    assert P.encode(ours) == theirs
    again = pn_pdu.A_ASSOCIATE_AC()
    again.decode(P.encode(ours))
    assert again.encode() == theirs


@pytest.mark.parametrize("result,source,reason", [(1, 1, 1), (1, 1, 2), (1, 1, 3), (1, 1, 7),
                                                  (1, 2, 2), (2, 3, 1), (2, 3, 2)])
def test_associate_rj_round_trip(result, source, reason):
    pdu = pn_pdu.A_ASSOCIATE_RJ()
    pdu.result, pdu.source, pdu.reason_diagnostic = result, source, reason
    theirs = pdu.encode()
    assert P.decode_pdu(theirs) == P.AssociateRJ(result, source, reason)
    assert P.encode(P.AssociateRJ(result, source, reason)) == theirs


@pytest.mark.parametrize("source,reason", [(0, 0), (2, 0), (2, 1), (2, 2), (2, 4), (2, 5), (2, 6)])
def test_abort_round_trip(source, reason):
    pdu = pn_pdu.A_ABORT_RQ()
    pdu.source, pdu.reason_diagnostic = source, reason
    theirs = pdu.encode()
    assert P.decode_pdu(theirs) == P.Abort(source, reason)
    assert P.encode(P.Abort(source, reason)) == theirs


def test_release_round_trip():
    for theirs_cls, ours in ((pn_pdu.A_RELEASE_RQ, P.ReleaseRQ()), (pn_pdu.A_RELEASE_RP, P.ReleaseRP())):
        theirs = theirs_cls().encode()
        assert P.encode(ours) == theirs
        assert type(P.decode_pdu(theirs)) is type(ours)


def test_pdata_round_trip_and_header():
    pdvs = [(1, 0x03, b"\x01\x02command"), (1, 0x00, b"x" * 1000), (3, 0x02, b"")]
    ours = P.encode(P.PDataTF(pdvs))
    pdu = pn_pdu.P_DATA_TF()
    pdu.decode(ours)
    assert pdu.encode() == ours
    back = P.decode_pdu(ours)
    assert [(c, m, bytes(d)) for c, m, d in back.pdvs] == pdvs
    one = P.pdata_header(5, 0x02, 10) + b"0123456789"
    assert P.encode(P.PDataTF([(5, 0x02, b"0123456789")])) == one


# ---------------------------------------------------------------------------------------------
# hostile bytes: every failure is a PDUError naming the PDU and an offset


def _assert_pdu_error(data: bytes) -> None:
    try:
        P.decode_pdu(data)
    except P.PDUError as exc:
        text = str(exc)
        assert "offset" in text
        return
    raise AssertionError("decoded without error")


def test_truncated_associate_rq_at_every_offset():
    whole = _pn_rq((2, b"user", b"secret"))
    for cut in range(len(whole)):
        data = bytearray(whole[:cut])
        if cut >= 6:                      # keep the header consistent with what is left
            data[2:6] = struct.pack(">I", cut - 6)
        _assert_pdu_error(bytes(data))


def test_item_length_past_the_pdu_is_named():
    data = bytearray(_pn_rq(None))
    pos = 6 + 68                      # the application context item
    data[pos + 2:pos + 4] = struct.pack(">H", 0xFFFF)
    with pytest.raises(P.PDUError, match=r"A-ASSOCIATE-RQ: item 0x10 length 65535 runs past.*offset 74"):
        P.decode_pdu(bytes(data))


@pytest.mark.parametrize("body,message", [
    (struct.pack(">I", 0) + b"\x01\x03", "PDV item length 0 is less than 2"),
    (struct.pack(">I", 1) + b"\x01\x03", "PDV item length 1 is less than 2"),
    (struct.pack(">I", 100) + b"\x01\x03abc", "PDV item length 100 runs past"),
    (struct.pack(">I", 0xFFFFFFFF) + b"\x01\x03", "PDV item length 4294967295 runs past"),
    (b"\x00\x00", "truncated PDV item header"),
    (b"", "no PDV item"),
])
def test_hostile_pdata(body, message):
    with pytest.raises(P.PDUError, match=message):
        P.decode(P.P_DATA_TF, body)


@pytest.mark.parametrize("kind", [0, 8, 0x55, 0xFF])
def test_unknown_pdu_type(kind):
    with pytest.raises(P.PDUError, match=f"unknown PDU type 0x{kind:02X}"):
        P.decode(kind, b"\0\0\0\0")


@pytest.mark.parametrize("kind", [P.ASSOCIATE_RJ, P.RELEASE_RQ, P.RELEASE_RP, P.ABORT])
def test_fixed_size_pdus_refuse_other_lengths(kind):
    for body in (b"", b"\0" * 3, b"\0" * 5, b"\0" * 100):
        with pytest.raises(P.PDUError, match="expected 4"):
            P.decode(kind, body)


def test_associate_without_user_information_or_context_uids():
    rq = P.AssociateRQ("A", "B", [P.PresentationContextRQ(1, CT, [IMPLICIT])],
                       P.UserInformation(16384, "1.2.3"))
    data = bytearray(P.encode(rq))
    user_at = data.index(b"\x50\x00")
    cut = bytes(data[:user_at])
    cut = cut[:2] + struct.pack(">I", len(cut) - 6) + cut[6:]
    with pytest.raises(P.PDUError, match="no user information item"):
        P.decode_pdu(cut)
    no_ts = P.AssociateRQ("A", "B", [P.PresentationContextRQ(1, CT, [])], P.UserInformation(16384, "1.2.3"))
    with pytest.raises(P.PDUError, match="without abstract or transfer syntax"):
        P.decode_pdu(P.encode(no_ts))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_associate_pdus_fail_cleanly(data):
    whole = bytearray(_pn_rq((2, b"user", b"secret")) if data.draw(st.booleans()) else
                      P.encode(P.AssociateAC("A", "B", [P.PresentationContextAC(1, 0, IMPLICIT)],
                                             P.UserInformation(16384, "1.2.3", "X"))))
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(6, len(whole) - 1))
        whole[pos] = data.draw(st.integers(0, 255))
    try:
        P.decode_pdu(bytes(whole))
    except P.PDUError:
        pass


# ---------------------------------------------------------------------------------------------
# the state table (PS3.8 Table 9-10)


def test_state_table_is_complete_and_consistent():
    assert len(STATES) == 13 and len(EVENTS) == 19 and len(ACTIONS) == 28
    used = {a for row in TRANSITIONS.values() for a in row.values()}
    assert used == set(ACTIONS)
    for event, row in TRANSITIONS.items():
        assert event in EVENTS and set(row) <= set(STATES)
    for action, (state, text) in ACTIONS.items():
        assert state is None or state in STATES
        assert callable(getattr(Association, action.replace("-", "_")))
    # the cells PS3.8 gives for received PDUs in Sta6 and Sta13, and the ARTIM events
    assert [TRANSITIONS[e]["Sta6"] for e in ("Evt3", "Evt4", "Evt6", "Evt10", "Evt12", "Evt13",
                                               "Evt16", "Evt17", "Evt19")] == \
        ["AA-8", "AA-8", "AA-8", "DT-2", "AR-2", "AA-8", "AA-3", "AA-4", "AA-8"]
    assert [TRANSITIONS[e]["Sta13"] for e in ("Evt3", "Evt6", "Evt10", "Evt16", "Evt17", "Evt18",
                                                "Evt19")] == \
        ["AA-6", "AA-7", "AA-6", "AA-2", "AR-5", "AA-2", "AA-7"]
    assert TRANSITIONS["Evt12"]["Sta7"] == "AR-8" and TRANSITIONS["Evt13"]["Sta10"] == "AR-10"
    assert TRANSITIONS["Evt14"] == {"Sta8": "AR-4", "Sta9": "AR-9", "Sta12": "AR-4"}
    # every received-PDU event has an entry for every state where a connection is open
    for event in ("Evt3", "Evt4", "Evt6", "Evt10", "Evt12", "Evt13", "Evt16", "Evt17", "Evt19"):
        assert set(TRANSITIONS[event]) >= set(STATES) - {"Sta1", "Sta4"}


# ---------------------------------------------------------------------------------------------
# DIMSE command sets


def _pydicom_command(data: bytes):
    from io import BytesIO
    from pydicom.filereader import read_dataset
    return read_dataset(BytesIO(data), is_implicit_VR=True, is_little_endian=True)


MESSAGES = [
    Message("C-ECHO-RQ", MessageID=7, AffectedSOPClassUID="1.2.840.10008.1.1"),
    Message("C-STORE-RQ", MessageID=1, AffectedSOPClassUID=CT, Priority=2,
            AffectedSOPInstanceUID="1.2.3.4.5", MoveOriginatorApplicationEntityTitle="MOVER",
            MoveOriginatorMessageID=9),
    Message("C-STORE-RSP", MessageIDBeingRespondedTo=1, Status=0xB000, AffectedSOPClassUID=CT,
            AffectedSOPInstanceUID="1.2.3.4.5", ErrorComment="coerced", OffendingElement=[0x00100010, 0x00100020]),
    Message("C-FIND-RQ", MessageID=3, AffectedSOPClassUID="1.2.840.10008.5.1.4.1.2.1.1", Priority=0),
    Message("C-MOVE-RQ", MessageID=4, AffectedSOPClassUID="1.2.840.10008.5.1.4.1.2.1.2", Priority=1,
            MoveDestination="DEST"),
    Message("C-GET-RSP", MessageIDBeingRespondedTo=4, Status=0xFF00, NumberOfRemainingSuboperations=3,
            NumberOfCompletedSuboperations=2, NumberOfFailedSuboperations=1, NumberOfWarningSuboperations=0),
    Message("C-CANCEL-RQ", MessageIDBeingRespondedTo=3),
    Message("N-EVENT-REPORT-RQ", MessageID=5, AffectedSOPClassUID="1.2.840.10008.1.20.1",
            AffectedSOPInstanceUID="1.2.840.10008.1.20.1.1", EventTypeID=1),
    Message("N-GET-RQ", MessageID=6, RequestedSOPClassUID="1.2.840.10008.5.1.1.16",
            RequestedSOPInstanceUID="1.2.840.10008.5.1.1.17", AttributeIdentifierList=[0x21100010]),
    Message("N-SET-RQ", MessageID=7, RequestedSOPClassUID="1.2.840.10008.3.1.2.3.3",
            RequestedSOPInstanceUID="1.2.3"),
    Message("N-ACTION-RQ", MessageID=8, RequestedSOPClassUID="1.2.840.10008.1.20.1",
            RequestedSOPInstanceUID="1.2.840.10008.1.20.1.1", ActionTypeID=1),
    Message("N-CREATE-RQ", MessageID=9, AffectedSOPClassUID="1.2.840.10008.3.1.2.3.3"),
    Message("N-DELETE-RQ", MessageID=10, RequestedSOPClassUID="1.2.840.10008.5.1.1.2",
            RequestedSOPInstanceUID="1.2.3"),
    Message("N-ACTION-RSP", MessageIDBeingRespondedTo=8, Status=0x0112),
]


@pytest.mark.parametrize("msg", MESSAGES, ids=lambda m: m.name)
def test_command_sets_read_by_pydicom(msg):
    with_data = msg.name in ("C-STORE-RQ", "C-FIND-RQ", "C-MOVE-RQ", "N-SET-RQ")
    data = encode_command(msg, with_data)
    ds = _pydicom_command(data)
    assert ds.CommandGroupLength == len(data) - 12
    assert ds.CommandField == msg.command_field
    assert ds.CommandDataSetType == (0x0000 if with_data else 0x0101)
    for keyword, value in msg.fields.items():
        got = getattr(ds, keyword)
        if isinstance(value, list):
            assert [int(v) for v in (got if isinstance(got, MultiValue) else [got])] == value
        else:
            assert (int(got) if isinstance(value, int) else str(got)) == value
    back = decode_command(data, 1)
    assert back.name == msg.name and {k: v for k, v in back.fields.items() if k != "CommandDataSetType"} \
        == msg.fields


def test_command_sets_from_pynetdicom():
    from pynetdicom.dimse_messages import C_STORE_RQ, C_FIND_RSP
    from pynetdicom.dimse_primitives import C_STORE, C_FIND
    prim = C_STORE()
    prim.MessageID, prim.AffectedSOPClassUID, prim.AffectedSOPInstanceUID = 11, CT, "1.2.3.4"
    from io import BytesIO
    prim.Priority, prim.DataSet = 2, BytesIO(b"\x08\x00\x18\x00\x00\x00\x00\x00")
    msg = C_STORE_RQ()
    msg.primitive_to_message(prim)
    from pydicom.filewriter import write_dataset
    from pydicom.filebase import DicomBytesIO
    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, True
    write_dataset(buf, msg.command_set)
    ours = decode_command(buf.getvalue())
    assert (ours.name, ours.MessageID, ours.AffectedSOPClassUID, ours.AffectedSOPInstanceUID,
            ours.Priority, ours.has_dataset) == ("C-STORE-RQ", 11, CT, "1.2.3.4", 2, True)
    rsp = C_FIND()
    rsp.MessageIDBeingRespondedTo, rsp.Status = 11, 0xFF00
    rsp.AffectedSOPClassUID = "1.2.840.10008.5.1.4.31"
    m2 = C_FIND_RSP()
    m2.primitive_to_message(rsp)
    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, True
    write_dataset(buf, m2.command_set)
    back = decode_command(buf.getvalue())
    assert (back.name, back.Status, back.MessageIDBeingRespondedTo) == ("C-FIND-RSP", 0xFF00, 11)


@pytest.mark.parametrize("code", sorted(COMMANDS))
def test_missing_required_fields_are_refused(code):
    """CVE-2024-34508/34509: a command set lacking what the message needs is an error, not a crash."""
    name, required, _ = COMMANDS[code]
    data = struct.pack("<HHIH", 0, 0x0100, 2, code) + struct.pack("<HHIH", 0, 0x0800, 2, 0x0101)
    if not required:
        return
    with pytest.raises(DimseError, match=f"{name} without required"):
        decode_command(data)


@pytest.mark.parametrize("data,message", [
    (b"", "without Command Field"),
    (struct.pack("<HHIH", 0, 0x0100, 2, 0x7777) + struct.pack("<HHIH", 0, 0x0800, 2, 0x0101),
     "unknown Command Field 0x7777"),
    (struct.pack("<HHI", 8, 0x0016, 0), "outside group 0000"),
    (struct.pack("<HHI", 0, 0x0100, 0xFFFFFFF0) + b"\0\0", "length 4294967280 runs past"),
    (b"\0\0\0\0\0", "truncated element header"),
    (struct.pack("<HHIB", 0, 0x0100, 1, 1), "has length 1, expected 2"),
    (struct.pack("<HHIH", 0, 0x0100, 2, 0x0001) + struct.pack("<HHIH", 0, 0x0110, 2, 1)
     + struct.pack("<HHI", 0, 0x0002, 2) + b"12" + struct.pack("<HHIH", 0, 0x0700, 2, 0)
     + struct.pack("<HHI", 0, 0x1000, 2) + b"34" + struct.pack("<HHIH", 0, 0x0800, 2, 0x0101),
     "C-STORE-RQ without the data set it requires"),
])
def test_bad_command_sets(data, message):
    with pytest.raises(DimseError, match=message):
        decode_command(data)


def test_assembler_rules():
    echo = encode_command(Message("C-ECHO-RQ", MessageID=1, AffectedSOPClassUID="1.2.840.10008.1.1"), False)
    store = encode_command(Message("C-STORE-RQ", MessageID=2, AffectedSOPClassUID=CT, Priority=0,
                                   AffectedSOPInstanceUID="1.2"), True)
    asm = Assembler({1: None, 3: None})
    assert asm.feed(1, 0x01, memoryview(echo[:10])) is None
    msg = asm.feed(1, 0x03, memoryview(echo[10:]))
    assert msg.name == "C-ECHO-RQ" and msg.context_id == 1
    assert asm.feed(3, 0x03, memoryview(store)) is None
    assert asm.feed(3, 0x00, memoryview(b"ab")) is None
    msg = asm.feed(3, 0x02, memoryview(b"cd"))
    assert msg.dataset == b"abcd"
    for steps, message in [
        ([(5, 0x03, echo)], "context 5, which was not accepted"),
        ([(1, 0x00, b"x")], "data set fragment before its command set"),
        ([(3, 0x03, store), (1, 0x02, b"x")], "data set fragment on context 1"),
        ([(3, 0x03, store), (3, 0x03, echo)], "command fragment while a data set was expected"),
        ([(1, 0x07, echo)], "reserved bits"),
        ([(1, 0x01, b"\0" * 40000), (1, 0x01, b"\0" * 40000)], "command set larger than"),
    ]:
        asm = Assembler({1: None, 3: None})
        with pytest.raises(DimseError, match=message):
            for cid, control, data in steps:
                asm.feed(cid, control, memoryview(data))
