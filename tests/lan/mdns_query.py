#!/usr/bin/python3
"""A one-shot mDNS query (RFC 6762 §5.1 "legacy unicast"), the way simple
resolvers such as Android's ask: one DNS question sent from an ephemeral port
to 224.0.0.251:5353; the responder answers by unicast. Built and parsed with
dnspython, independent of foyerd's code. Used by tests/tests/lan.rs.

Usage: mdns_query.py NAME TYPE SOURCE_IPV4    prints one address per line
"""

import socket
import sys

import dns.message
import dns.name
import dns.rdatatype


def main():
    name, rtype, source = sys.argv[1], sys.argv[2], sys.argv[3]
    query = dns.message.make_query(name, rtype)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(source))
    sock.settimeout(2)
    for _attempt in range(3):
        sock.sendto(query.to_wire(), ("224.0.0.251", 5353))
        try:
            while True:
                data, _ = sock.recvfrom(9000)
                reply = dns.message.from_wire(data)
                if reply.id != query.id:
                    continue
                wanted = dns.name.from_text(name)
                found = [
                    rd.address
                    for rrset in reply.answer
                    if rrset.rdtype == dns.rdatatype.from_text(rtype) and rrset.name == wanted
                    for rd in rrset
                ]
                for address in found:
                    print(address)
                return 0 if found else 1
        except socket.timeout:
            continue
    return 1


if __name__ == "__main__":
    sys.exit(main())
