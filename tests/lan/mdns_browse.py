#!/usr/bin/python3
"""An mDNS/DNS-SD browser independent of foyerd's own mDNS code (python-zeroconf),
used by tests/tests/lan.rs from inside a network namespace.

Usage: mdns_browse.py TIMEOUT_S [--watch-removal SECONDS] [--server NAME.local.]

Browses _foyer._tcp and _https._tcp, prints one JSON line per resolved service:
  {"event":"resolved","type","name","server","port","addresses","txt","t"}
and, with --watch-removal, keeps watching and prints {"event":"removed",...} when a
service says goodbye. `t` is time.time() at the event (for the start-to-answer figure).
With --server, only services whose host is NAME count (several boxes may answer).
Exits 0 once every service type was resolved (and, when watching, once removed), 1 on timeout.
"""

import json
import sys
import threading
import time

from zeroconf import IPVersion, ServiceBrowser, ServiceStateChange, Zeroconf

TYPES = ["_foyer._tcp.local.", "_https._tcp.local."]


def emit(obj):
    print(json.dumps(obj), flush=True)


def main():
    timeout = float(sys.argv[1])
    watch_removal = None
    server = None
    args = sys.argv[2:]
    while args:
        if args[0] == "--watch-removal":
            watch_removal = float(args[1])
            args = args[2:]
        elif args[0] == "--server":
            server = args[1]
            args = args[2:]
        else:
            raise SystemExit(f"unknown argument {args[0]}")

    zc = Zeroconf(ip_version=IPVersion.All)
    resolved = {}
    removed = set()
    done = threading.Event()
    lock = threading.Lock()

    def on_change(zeroconf, service_type, name, state_change):
        if state_change is ServiceStateChange.Removed:
            with lock:
                removed.add(service_type)
            emit({"event": "removed", "type": service_type, "name": name, "t": time.time()})
            if watch_removal is not None and removed >= set(TYPES):
                done.set()
            return
        if state_change not in (ServiceStateChange.Added, ServiceStateChange.Updated):
            return
        info = zeroconf.get_service_info(service_type, name, timeout=3000)
        if info is None or (server is not None and info.server != server):
            return
        txt = {
            k.decode(): (v.decode() if v is not None else None)
            for k, v in info.properties.items()
        }
        emit(
            {
                "event": "resolved",
                "type": service_type,
                "name": name,
                "server": info.server,
                "port": info.port,
                "addresses": info.parsed_scoped_addresses(),
                "txt": txt,
                "t": time.time(),
            }
        )
        with lock:
            resolved[service_type] = True
            if watch_removal is None and set(resolved) >= set(TYPES):
                done.set()

    ServiceBrowser(zc, TYPES, handlers=[on_change])
    ok = done.wait(timeout if watch_removal is None else timeout + watch_removal)
    zc.close()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
