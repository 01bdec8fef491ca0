"""A lean HTTP/1.1 client for the benchmarks: on a two-core machine the load generator shares
the cores with the server, and httpx's client costs about as much CPU per request as the
server's whole HTTP layer, so its figures mostly measure the client. This one writes a request
whole and reads the status, headers and a Content-Length body back on one keep-alive
connection; nothing else."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit


class LeanClient:
    """One HTTP/1.1 keep-alive connection: a request written whole, the status line, headers
    and a Content-Length body read back (what uvicorn sends for these endpoints)."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], content: bytes = b"") -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head += f"Content-Length: {len(content)}\r\n\r\n"
        self.writer.write(head.encode("latin-1") + content)
        status_line = await self.reader.readline()
        length = None
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError("a response without Content-Length")
        await self.reader.readexactly(length)
        return int(status_line.split()[1])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
