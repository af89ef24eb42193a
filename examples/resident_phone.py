"""A resident's phone in a few lines: sign in, join the flat's room, hear the gate.

    pip install "python-socketio[asyncio-client]" httpx
    python examples/resident_phone.py resident1@demo.example.com demo-password-1

With `--once` it stops after the first visitor request (the test suite runs it that way).
"""

import argparse
import asyncio

import httpx
import socketio


async def main(url: str, email: str, password: str, once: bool) -> None:
    async with httpx.AsyncClient(base_url=url) as http:
        signed_in = await http.post("/v1/auth/login", json={"email": email, "password": password})
        if signed_in.status_code == 429:
            raise SystemExit(f"too many sign-ins; try again in {signed_in.headers['retry-after']} s")
        signed_in.raise_for_status()
        token = signed_in.json()["access_token"]
        me = await http.get("/v1/profile/me", headers={"authorization": f"Bearer {token}"})
        flat_id = me.json()["flats"][0]["id"]

    sio = socketio.AsyncClient()
    first = asyncio.Event()

    @sio.on("visitor_request")
    async def at_the_gate(event: dict) -> None:
        print("at the gate:", event["data"]["name"], flush=True)
        first.set()

    await sio.connect(url, auth={"token": token}, transports=["websocket"])
    print("joined:", await sio.call("join_room", {"room_type": "flat", "room_id": flat_id}), flush=True)
    if once:
        await first.wait()
        await sio.disconnect()
    else:
        await sio.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("email")
    parser.add_argument("password")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--once", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.url, args.email, args.password, args.once))
