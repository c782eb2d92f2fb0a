"""An OCPP 1.6-J charge point on Mobility House's `ocpp`: boot, a ground fault, a charging session
with energy, and a Reset it accepts. Usage: charge_point_16.py URL CHARGER_ID PASSWORD [--wait S]

It resends StartTransaction, MeterValues and StopTransaction once each, unchanged, as a charger
does when an answer is lost: the session must still be one session of 7500 Wh.
"""

import asyncio

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, ResetStatus

from peer import call as send, emit, main, timestamp

ID_TAG = "04A1B2C3D4E5F6"
METER_START_WH = 1000
METER_SAMPLE_WH = 4000
METER_STOP_WH = 8500


class ChargePoint16(ChargePoint):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reset_answered = asyncio.Event()

    @on(Action.reset)
    def on_reset(self, **request):
        return call_result.Reset(status=ResetStatus.accepted)

    @after(Action.reset)
    def after_reset(self, **request):
        emit("reset", type=request["type"])
        self.reset_answered.set()


async def status(cp, step, state, error_code="NoError", **extra):
    await send(cp, step, call.StatusNotification(connector_id=1, error_code=error_code, status=state, timestamp=timestamp(), **extra), status=state)
    emit(step, status=state, errorCode=error_code)


async def script(cp):
    boot = await send(cp, "booted", call.BootNotification(
        charge_point_vendor="Mobility House peer", charge_point_model="ocpp-1.6", charge_point_serial_number="PEER16-0001", firmware_version="2.1.0",
    ))
    emit("booted", status=boot.status, interval=boot.interval)

    await status(cp, "available", "Available")
    await status(cp, "faulted", "Faulted", error_code="GroundFailure", info="RCD tripped", vendor_error_code="E-GF-32mA")
    await status(cp, "recovered", "Available")

    authorized = await send(cp, "authorized", call.Authorize(id_tag=ID_TAG))
    emit("authorized", status=authorized.id_tag_info["status"])
    await status(cp, "status", "Preparing")

    # Each message is built once, so a resend is the same message, timestamps and all.
    started_at = timestamp()
    start = call.StartTransaction(connector_id=1, id_tag=ID_TAG, meter_start=METER_START_WH, timestamp=started_at)
    started = await send(cp, "started", start)
    emit("started", transactionId=started.transaction_id, authorization=started.id_tag_info["status"], at=started_at, meterStartWh=METER_START_WH)
    again = await send(cp, "started", start, resent=True)
    emit("started", transactionId=again.transaction_id, authorization=again.id_tag_info["status"], resent=True)
    transaction_id = started.transaction_id
    await status(cp, "status", "Charging")

    sampled_at = timestamp()
    sample = call.MeterValues(connector_id=1, transaction_id=transaction_id, meter_value=[{
        "timestamp": sampled_at,
        "sampledValue": [{"value": str(METER_SAMPLE_WH), "context": "Sample.Periodic", "measurand": "Energy.Active.Import.Register", "location": "Outlet", "unit": "Wh"}],
    }])
    for resent in (False, True):
        await send(cp, "metered", sample, resent=resent)
        emit("metered", at=sampled_at, valueWh=METER_SAMPLE_WH, resent=resent)

    stopped_at = timestamp()
    stop = call.StopTransaction(meter_stop=METER_STOP_WH, timestamp=stopped_at, transaction_id=transaction_id, reason="Local", id_tag=ID_TAG)
    for resent in (False, True):
        await send(cp, "stopped", stop, resent=resent)
        emit("stopped", transactionId=transaction_id, at=stopped_at, meterStopWh=METER_STOP_WH, resent=resent)
    await status(cp, "status", "Finishing")
    await status(cp, "status", "Available")


if __name__ == "__main__":
    main(__doc__, "ocpp1.6", ChargePoint16, script)
