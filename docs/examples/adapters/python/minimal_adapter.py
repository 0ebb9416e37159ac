#!/usr/bin/env python3
"""A minimal Xen-to-Viridian adapter in Python, speaking xvc's adapter protocol version 1
(docs/adapter-protocol.md) over stdin and stdout. Standard library only.

It answers three Xen hypercalls itself and every other with -ENOSYS:
  - xen_version XENVER_version: the version of the Xen it presents, from its own table;
  - console_io CONSOLEIO_write: reads the guest's buffer and prints whole lines on the serial
    port, as Xen prints a domU's console ("(d1) hello");
  - sched_op SCHEDOP_yield: returns 0.
So it fails most of the corpus; the scenarios next to it are the ones it passes:

  npx xvc run docs/examples/adapters/python/scenarios \
      --adapter-cmd "python3 docs/examples/adapters/python/minimal_adapter.py"
"""
import json
import sys

# xen/include/public/xen.h, version.h, sched.h, errno.h
XEN_VERSION, CONSOLE_IO, SCHED_OP = 17, 18, 29
XENVER_VERSION = CONSOLEIO_WRITE = SCHEDOP_YIELD = 0
ENOSYS, EFAULT = 38, 14
VERSIONS = {"xen-4.17": 0x40011, "xen-4.18": 0x40012, "xen-4.22": 0x40016}


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def receive():
    line = sys.stdin.readline()
    if not line:  # the harness closed our stdin: the run is over
        sys.exit(0)
    return json.loads(line)


def u64(value):
    """A 64-bit value as the protocol writes it: a hex string (two's complement)."""
    return hex(value & 0xFFFF_FFFF_FFFF_FFFF)


class Host:
    """The harness's host object: each call is one operation, answered before the next."""

    def __init__(self):
        self.next_id = 1

    def op(self, name, **args):
        op_id, self.next_id = self.next_id, self.next_id + 1
        send({"type": "op", "id": op_id, "op": name, **args})
        reply = receive()
        if reply.get("type") != "opResult" or reply.get("re") != op_id:
            sys.exit(f"minimal_adapter: expected the result of op {op_id}, got {reply}")
        return reply["result"]


class Adapter:
    def __init__(self, host, start):
        self.host = host
        options = start["xen"]["options"]  # only what the scenario sets; the rest is default
        self.version = VERSIONS[options.get("profile", "xen-4.22")]
        self.prefix = f"(d{options.get('domid', 1)}) ".encode()
        self.line = b""

    def hypercall(self, nr, args):
        cmd = args[0] & 0xFFFF_FFFF  # the sub-op is a C int
        if nr == XEN_VERSION and cmd == XENVER_VERSION:
            return self.version
        if nr == CONSOLE_IO and cmd == CONSOLEIO_WRITE:
            return self.console_write(args[2], args[1] & 0xFFFF_FFFF)
        if nr == SCHED_OP and cmd == SCHEDOP_YIELD:
            return 0
        return -ENOSYS

    def console_write(self, buffer, count):
        data = self.host.op("memory.readBytes", gpa=buffer, len=count)
        if isinstance(data, dict):  # a memory fault
            return -EFAULT
        for byte in bytes.fromhex(data):
            if byte == 0x0A:
                text = self.prefix + self.line + b"\n"
                self.host.op("platform.serialWrite", data=text.hex())
                self.line = b""
            elif 0x20 <= byte <= 0x7E or byte >= 0xA0 or byte == 0x09:  # Xen keeps printable bytes
                self.line += bytes([byte])
        return 0


def main():
    host, adapter = Host(), None
    while True:
        request = receive()
        kind, rid = request["type"], request["id"]
        if kind == "hello":
            send({"type": "hello", "re": rid, "protocol": 1, "name": "minimal-python-adapter", "version": "0.1.0"})
        elif kind == "start":
            adapter = Adapter(host, request)
            send({"type": "started", "re": rid, "privateFrames": []})
        elif kind == "hypercall":
            args = [int(a, 16) for a in request["args"]]
            value = adapter.hypercall(int(request["nr"], 16), args)
            send({"type": "result", "re": rid, "result": {"kind": "returned", "value": u64(value)}})
        elif kind in ("interrupt", "returnToGuest"):
            send({"type": "done", "re": rid})
        else:
            send({"type": "error", "re": rid, "message": f"unexpected request {kind}"})


if __name__ == "__main__":
    main()
