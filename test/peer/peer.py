"""What both peer charge points share: their arguments, the connection, and one JSON line per step.

The peers are real chargers' software in miniature, built on the Mobility House `ocpp` library, so
the suite checks the gateway against an implementation that shares no code (and no reading of the
specification) with ours. Each prints one JSON object per line on stdout, `{"step": ..., ...}`;
the library's log goes to stderr.
"""

import argparse
import asyncio
import base64
import json
import logging
import sys
from datetime import datetime, timezone
from urllib.parse import quote

from ocpp.exceptions import OCPPError
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol


class StepFailed(Exception):
    """A call the gateway refused or answered wrongly; already reported on stdout."""


def parse_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("url", help="the gateway's OCPP endpoint without the charger id, e.g. ws://127.0.0.1:8080/ocpp")
    parser.add_argument("charger_id")
    parser.add_argument("password")
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for a Reset after the script (default 60)")
    return parser.parse_args()


def emit(step, **fields):
    print(json.dumps({"step": step, **fields}), flush=True)


def timestamp():
    """Now as an OCPP timestamp: UTC, milliseconds, Z."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def call(charge_point, step, payload, **fields):
    """Sends one call; reports the step with `fields`, or the error, and returns the answer."""
    try:
        result = await charge_point.call(payload, suppress=False)
    except OCPPError as error:
        # Either the gateway's CALLERROR, or an answer that failed the library's schema check.
        emit(step, **fields, error={"code": error.code, "description": error.description, "details": error.details})
        raise StepFailed from error
    except asyncio.TimeoutError as error:
        emit(step, **fields, error={"code": "Timeout", "description": str(error)})
        raise StepFailed from error
    return result


async def run(args, protocol, make_charge_point, script):
    """Connects, runs `script`, then serves the gateway until it sends a Reset; returns the exit code."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    credentials = base64.b64encode(f"{args.charger_id}:{args.password}".encode()).decode()
    url = f"{args.url.rstrip('/')}/{quote(args.charger_id, safe='')}"
    try:
        connection = await connect(
            url,
            subprotocols=[Subprotocol(protocol)],
            additional_headers={"Authorization": f"Basic {credentials}"},
            open_timeout=10,
        )
    except InvalidStatus as refused:
        emit("refused", status=refused.response.status_code)
        return 1

    async with connection:
        emit("connected", protocol=connection.subprotocol)
        charge_point = make_charge_point(args.charger_id, connection)
        serving = asyncio.create_task(charge_point.start())
        try:
            await script(charge_point)
        except StepFailed:
            pass  # reported; the Reset can still be answered
        emit("waiting")
        reset = asyncio.create_task(charge_point.reset_answered.wait())
        done, _ = await asyncio.wait({serving, reset}, timeout=args.wait, return_when=asyncio.FIRST_COMPLETED)
        if reset in done:
            serving.cancel()
            return 0
        reset.cancel()
        if serving in done:
            emit("closed", code=connection.close_code, reason=connection.close_reason)
        else:
            serving.cancel()
            emit("timeout", seconds=args.wait)
        return 1


def main(description, protocol, make_charge_point, script):
    sys.exit(asyncio.run(run(parse_args(description), protocol, make_charge_point, script)))
