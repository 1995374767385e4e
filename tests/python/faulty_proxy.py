"""A fault-injecting HTTP proxy for 127.0.0.1: sits between the job and the S3 server.

Each request is forwarded on a fresh upstream connection, unless a fault is drawn for it:
503 SlowDown, a connection reset (no response), or a stall longer than the client's read
timeout. Faults are drawn from a seeded generator; the first `--clean` requests are spared
so the bucket can be set up. With `--fail-puts-matching TEXT`, every PUT whose path contains
TEXT gets a permanent 403 (a storage error that retries cannot fix).

Usage: python faulty_proxy.py --listen PORT --upstream PORT [--fault-rate 0.1] [--seed 1]
"""
import argparse
import asyncio
import random


async def read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        if name.strip().lower() == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    body = b""
    if chunked:
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.strip().split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            body += size_line + chunk
            if size == 0:
                break
    elif length:
        body = await reader.readexactly(length)
    return lines[0], head + body


async def forward(raw, upstream):
    r, w = await asyncio.open_connection("127.0.0.1", upstream)
    # One request per upstream connection keeps the framing trivial.
    raw = raw.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1) if b"Connection:" not in raw.split(b"\r\n\r\n")[0] else raw
    w.write(raw)
    await w.drain()
    response = await r.read()
    w.close()
    return response


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--upstream", type=int, required=True)
    ap.add_argument("--fault-rate", type=float, default=0.1)
    ap.add_argument("--stall-seconds", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--clean", type=int, default=0)
    ap.add_argument("--fail-puts-matching", default=None)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    counter = {"n": 0}

    async def handle(reader, writer):
        try:
            while True:
                try:
                    request_line, raw = await read_request(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                counter["n"] += 1
                method, path = request_line.split(" ")[:2]
                if args.fail_puts_matching and method == "PUT" and args.fail_puts_matching in path:
                    body = b"<Error><Code>AccessDenied</Code><Message>injected</Message></Error>"
                    writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                    await writer.drain()
                    continue
                roll = rng.random() if counter["n"] > args.clean else 1.0
                if roll < args.fault_rate / 3:
                    print(f"FAULT 503 {method} {path}", flush=True)
                    body = b"<Error><Code>SlowDown</Code><Message>injected</Message></Error>"
                    writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                    await writer.drain()
                    continue
                if roll < 2 * args.fault_rate / 3:
                    print(f"FAULT reset {method} {path}", flush=True)
                    writer.transport.abort()  # connection reset, no response
                    return
                if roll < args.fault_rate:
                    print(f"FAULT stall {method} {path}", flush=True)
                    await asyncio.sleep(args.stall_seconds)  # past the client's read timeout
                    writer.transport.abort()
                    return
                response = await forward(raw, args.upstream)
                writer.write(response)
                await writer.drain()
                if b"connection: close" in response.split(b"\r\n\r\n")[0].lower():
                    writer.close()
                    return
        except Exception:
            writer.transport.abort()

    async def serve():
        server = await asyncio.start_server(handle, "127.0.0.1", args.listen)
        print("ready", flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
