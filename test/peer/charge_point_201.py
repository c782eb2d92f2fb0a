"""An OCPP 2.0.1 charging station on Mobility House's `ocpp`: boot, a ground fault on EVSE 1 (status
and device-model event), a transaction with energy, and a Reset it accepts.
Usage: charge_point_201.py URL CHARGER_ID PASSWORD [--wait S]

It resends the Updated and the Ended TransactionEvent once each, unchanged (same seqNo), as a
station does when an answer is lost: the transaction must still be one session of 7500 Wh.
"""

import asyncio
import uuid

from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action, ResetStatusEnumType

from peer import call as send, emit, main, timestamp

ID_TOKEN = {"idToken": "04A1B2C3D4E5F6", "type": "ISO14443"}
EVSE = {"id": 1, "connectorId": 1}
METER_START_WH = 1000
METER_SAMPLE_WH = 4000
METER_STOP_WH = 8500


class ChargePoint201(ChargePoint):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reset_answered = asyncio.Event()

    @on(Action.reset)
    def on_reset(self, **request):
        return call_result.Reset(status=ResetStatusEnumType.accepted)

    @after(Action.reset)
    def after_reset(self, **request):
        emit("reset", type=request["type"])
        self.reset_answered.set()


async def status(cp, step, state):
    await send(cp, step, call.StatusNotification(timestamp=timestamp(), connector_status=state, evse_id=EVSE["id"], connector_id=EVSE["connectorId"]), status=state)
    emit(step, status=state)


def energy(wh, context, at):
    return [{"timestamp": at, "sampledValue": [{"value": wh, "context": context, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}}]}]


async def script(cp):
    boot = await send(cp, "booted", call.BootNotification(
        reason="PowerUp",
        charging_station={"vendorName": "Mobility House peer", "model": "ocpp-2.0.1", "serialNumber": "PEER201-0001", "firmwareVersion": "2.1.0"},
    ))
    emit("booted", status=boot.status, interval=boot.interval)

    await status(cp, "available", "Available")
    await status(cp, "faulted", "Faulted")
    faulted_at = timestamp()
    await send(cp, "event-notified", call.NotifyEvent(generated_at=faulted_at, seq_no=0, event_data=[{
        "eventId": 1,
        "timestamp": faulted_at,
        "trigger": "Delta",
        "actualValue": "true",
        "techCode": "CX002",
        "techInfo": "Ground fault: residual current 32 mA on connector 1",
        "eventNotificationType": "HardWiredNotification",
        "component": {"name": "Connector", "evse": EVSE},
        "variable": {"name": "Problem"},
    }]))
    emit("event-notified", techCode="CX002")
    await status(cp, "recovered", "Available")

    authorized = await send(cp, "authorized", call.Authorize(id_token=ID_TOKEN))
    emit("authorized", status=authorized.id_token_info["status"])

    transaction_id = str(uuid.uuid4())
    started_at = timestamp()
    started = await send(cp, "started", call.TransactionEvent(
        event_type="Started", timestamp=started_at, trigger_reason="Authorized", seq_no=0,
        transaction_info={"transactionId": transaction_id, "chargingState": "Charging"},
        evse=EVSE, id_token=ID_TOKEN, meter_value=energy(METER_START_WH, "Transaction.Begin", started_at),
    ))
    emit("started", transactionId=transaction_id, authorization=(started.id_token_info or {}).get("status"), at=started_at, meterStartWh=METER_START_WH)
    await status(cp, "status", "Occupied")

    # Each message is built once, so a resend is the same message, seqNo and timestamps and all.
    sampled_at = timestamp()
    updated = call.TransactionEvent(
        event_type="Updated", timestamp=sampled_at, trigger_reason="MeterValuePeriodic", seq_no=1,
        transaction_info={"transactionId": transaction_id, "chargingState": "Charging"},
        meter_value=energy(METER_SAMPLE_WH, "Sample.Periodic", sampled_at),
    )
    for resent in (False, True):
        await send(cp, "metered", updated, resent=resent)
        emit("metered", seqNo=1, at=sampled_at, valueWh=METER_SAMPLE_WH, resent=resent)

    ended_at = timestamp()
    ended = call.TransactionEvent(
        event_type="Ended", timestamp=ended_at, trigger_reason="StopAuthorized", seq_no=2,
        transaction_info={"transactionId": transaction_id, "chargingState": "Idle", "stoppedReason": "Local"},
        evse=EVSE, id_token=ID_TOKEN, meter_value=energy(METER_STOP_WH, "Transaction.End", ended_at),
    )
    for resent in (False, True):
        await send(cp, "stopped", ended, resent=resent)
        emit("stopped", transactionId=transaction_id, seqNo=2, at=ended_at, meterStopWh=METER_STOP_WH, resent=resent)
    await status(cp, "status", "Available")


if __name__ == "__main__":
    main(__doc__, "ocpp2.0.1", ChargePoint201, script)
