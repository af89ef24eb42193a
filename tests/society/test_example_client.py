"""The README's Python client runs as written: it is `examples/resident_phone.py`, run here against a
live server until the gate's first visitor request reaches it (#10, item 10)."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

from tests.helpers import PASSWORD, Api
from tests.society.conftest import Gate, walk_in

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "resident_phone.py"


def test_the_readmes_python_client_is_the_example_verbatim() -> None:
    (block,) = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block.strip() and block in EXAMPLE.read_text()


async def test_the_example_client_hears_the_gate(api: Api, gate: Gate, server) -> None:
    phone = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLE),
        gate.resident.email,
        PASSWORD,
        "--url",
        server.url,
        "--once",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        joined = await asyncio.wait_for(phone.stdout.readline(), timeout=30)
        assert joined.startswith(b"joined: {'ok': True"), joined
        await walk_in(api, gate, "Ramesh")
        out, err = await asyncio.wait_for(phone.communicate(), timeout=30)
        assert phone.returncode == 0, err.decode()
        assert out.decode().strip() == "at the gate: Ramesh"
    finally:
        if phone.returncode is None:
            phone.kill()
            await phone.wait()
