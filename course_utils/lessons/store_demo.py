"""Lesson 11's rendezvous store on its own, to read where it listens: ``default`` or ``loopback``.

    python -m course_utils.lessons.store_demo default 29500    # TCPStore as init_process_group makes it
    python -m course_utils.lessons.store_demo loopback 29500   # the course's: bound to 127.0.0.1 first

It hosts rank 0's store (world size 1) and waits to be stopped; the lesson starts it with
``servers.start``, reads its sockets from the operating system (``servers.listening_sockets``) and stops
it at once. ``default`` listens on every interface: tests/listen_watch.py lists it as lesson 11's
demonstration, a known exception.

Used in: 11_distributed.
"""
from __future__ import annotations

import datetime
import os
import signal
import socket
import sys
import time

import torch.distributed as dist

HOST = "127.0.0.1"


def main(argv: list[str] | None = None) -> None:
    kind, port = (argv or sys.argv[1:])[:2]
    timeout = datetime.timedelta(seconds=30)
    if kind == "default":  # what env:// gives rank 0: TCPStore(MASTER_ADDR, MASTER_PORT, is_master=True)
        store = dist.TCPStore(HOST, int(port), 1, is_master=True, timeout=timeout, wait_for_workers=False)
    elif kind == "loopback":  # ddp_worker.rendezvous_store: bind the socket ourselves, hand it over
        listener = socket.create_server((HOST, int(port)))
        store = dist.TCPStore(HOST, int(port), 1, is_master=True, timeout=timeout, wait_for_workers=False,
                              master_listen_fd=listener.detach())
    else:
        raise SystemExit(f"store_demo: expected 'default' or 'loopback', found {kind!r}")
    store.set("ready", "1")
    print(f"{kind} store ready", flush=True)
    held = [store]
    del store

    def stop(signum: int, frame: object) -> None:
        # Close the listening socket while this process is still whole, then leave at once: on SIGTERM's
        # default action the kernel tears down the process's memory (its command line reads empty) before
        # its sockets, and a socket watcher sampling in that instant (tests/listen_watch.py) could not
        # tell who listened.
        held.clear()   # the store's destructor closes its socket
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:  # until the lesson stops us (SIGTERM)
        time.sleep(1)


if __name__ == "__main__":
    main()
