"""A small keep-alive HTTP/1.1 load generator: N concurrent connections, fixed duration.

Raw asyncio streams keep the client's own cost low, so that the server is what is measured.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time


async def _client(host: str, port: int, request: bytes, deadline: float, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next(
                int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            if status != 200:
                raise RuntimeError(f"status {status}")
            latencies.append(time.perf_counter() - start)
    finally:
        writer.close()


def post_request(host: str, port: int, path: str, body: dict) -> bytes:
    """A raw keep-alive POST of `body` as JSON."""
    payload = json.dumps(body).encode()
    head = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    return head.encode() + payload


def run_load(host: str, port: int, request: bytes, concurrency: int = 8, seconds: float = 5.0) -> dict[str, float]:
    """Requests/s and p50 / p99 latency in ms."""

    async def main() -> list[float]:
        latencies: list[float] = []
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(_client(host, port, request, deadline, latencies) for _ in range(concurrency)))
        return latencies

    start = time.perf_counter()
    latencies = asyncio.run(main())
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }
