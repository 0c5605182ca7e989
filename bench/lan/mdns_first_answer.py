#!/usr/bin/python3
"""Waits for the first mDNS answer to a question and prints when it came.

Asks like a simple resolver does (RFC 6762 §5.1 legacy unicast: one DNS
question from an ephemeral port to 224.0.0.251:5353) every 10 ms, from the
"phone" network namespace that foyer-bench made, until a record of TYPE (A or
PTR) for NAME arrives. Prints the wall-clock time of that answer
(time.time(), seconds) and the record's data, then exits 0; exits 1 after TIMEOUT seconds without an answer.
Built and parsed with dnspython, independent of foyerd's code.

Usage: mdns_first_answer.py NAME TYPE SOURCE_IPV4 TIMEOUT
"""

import select
import socket
import sys
import time

import dns.message
import dns.name
import dns.rdatatype


def main():
    name, rtype, source = sys.argv[1], sys.argv[2], sys.argv[3]
    timeout = float(sys.argv[4])
    wanted_type = dns.rdatatype.from_text(rtype)
    wanted = dns.name.from_text(name)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(source))
    sock.setblocking(False)
    deadline = time.time() + timeout
    ids = set()
    print("ready", flush=True)
    while time.time() < deadline:
        query = dns.message.make_query(name, rtype)
        ids.add(query.id)
        try:
            sock.sendto(query.to_wire(), ("224.0.0.251", 5353))
        except OSError:
            pass  # the interface may not be up yet
        end = time.time() + 0.010
        while (left := end - time.time()) > 0:
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                break
            data, _ = sock.recvfrom(9000)
            at = time.time()
            try:
                reply = dns.message.from_wire(data)
            except Exception:
                continue
            if reply.id not in ids:
                continue
            for rrset in reply.answer:
                if rrset.rdtype == wanted_type and rrset.name == wanted:
                    for rd in rrset:
                        print(f"{at:.6f} {rd.to_text()}", flush=True)
                        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
