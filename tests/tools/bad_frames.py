# Malformed VRRP adverts, ARP and sync frames for tests/netns_faults.rs,
# built with scapy and sent on one interface of a test namespace:
#   bad_frames.py lan IFACE SRC_IP COUNT    (VRRP v2 vrid 51 + ARP kinds)
#   bad_frames.py sync IFACE SRC_IP COUNT   (conntrack-sync frames to
#                                            225.0.0.50:3780)
# Each kind has exactly one defect and is sent COUNT times; every VRRP
# advert claims priority 254 (or 0), so one that got through would move
# the master. The last sync kinds are whole frames (right magic, version
# and CRC, sequence numbers counting up) from a stranger node whose
# messages are garbage: they reach the message decoder. Prints "KIND N"
# per kind sent.
import struct, sys, zlib
from scapy.all import ARP, Ether, IP, UDP, Raw, sendp, get_if_hwaddr
from scapy.layers.vrrp import VRRP

mode, iface, src, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
mac = get_if_hwaddr(iface)
kinds = []

def vrrp(**kw):
    f = dict(version=2, type=1, vrid=51, priority=254, ipcount=1, authtype=0,
             adv=1, addrlist=['192.168.10.1'])
    f.update(kw)
    return VRRP(**f)

def advert(v, ttl=255, **ip):
    return (Ether(src=mac, dst='01:00:5e:00:00:12') /
            IP(src=src, dst='224.0.0.18', ttl=ttl, proto=112, **ip) / v)

def bad_sum(v):
    b = bytearray(bytes(v))
    b[6] ^= 0x5a  # the checksum field
    return Raw(bytes(b))

if mode == 'lan':
    kinds += [
        ('vrrp_ttl', advert(vrrp(), ttl=64)),
        ('vrrp_checksum', advert(bad_sum(vrrp()))),
        ('vrrp_checksum', advert(bad_sum(vrrp(priority=0)))),
        ('vrrp_version', advert(vrrp(version=5))),
        ('vrrp_type', advert(vrrp(type=2))),
        ('vrrp_length', advert(Raw(bytes(vrrp())[:6]))),
        ('vrrp_length', advert(Raw(bytes(vrrp()) + b'\0' * 4))),
        ('vrrp_auth', advert(vrrp(authtype=1, auth1=0x41414141))),
        ('vrrp_interval', advert(vrrp(adv=7))),
        ('vrrp_unknown_vrid', advert(vrrp(vrid=99))),
        ('malformed', advert(vrrp(), chksum=0x1234)),  # IPv4 header checksum
        ('malformed', Ether(src=mac, dst='ff:ff:ff:ff:ff:ff') /
            ARP(hwtype=6, op=1, hwsrc=mac, psrc=src, pdst='192.168.10.1')),
        ('malformed', Ether(src=mac, dst='ff:ff:ff:ff:ff:ff') /
            ARP(plen=6, op=1, hwsrc=mac, psrc=src, pdst='192.168.10.1')),
    ]
elif mode == 'sync':
    def frame(magic=b'HS', ver=1, node=7, seq=1, body=b'', crc=None, n=0):
        h = magic + bytes([ver, 0]) + struct.pack('!HHII', node, n, 0x1234, seq) + body
        c = zlib.crc32(h) if crc is None else crc
        return h + struct.pack('!I', c)
    def udp(payload):
        return (Ether(src=mac, dst='01:00:5e:00:00:32') /
                IP(src=src, dst='225.0.0.50', ttl=1) / UDP(sport=3780, dport=3780) /
                Raw(payload))
    kinds += [
        ('malformed', udp(b'HS\x01\x00\x00\x07')),           # truncated
        ('malformed', udp(frame(magic=b'XY'))),               # bad magic
        ('bad_version', udp(frame(ver=9))),
        ('bad_crc', udp(frame(crc=0xdeadbeef))),
        ('bad_crc', udp(frame(body=b'\xff' * 40, crc=0))),
    ]
    # Message = kind u8, length (varint), body. Each list holds COUNT
    # frames with fresh sequence numbers of node 9's epoch.
    seq = iter(range(1, 1000))
    def whole(body, n):
        return [udp(frame(node=9, seq=next(seq), body=body, n=n)) for _ in range(count)]
    kinds += [
        # A NEW session whose body is two bytes: undecodable.
        ('msg_malformed', whole(b'\x01\x02\x00\x00', 1)),
        # A message kind from the future: skipped by its length.
        ('msg_unknown', whole(b'\x63\x03abc', 1)),
        # The header says 5 messages, the payload holds one (unknown).
        ('msg_count', whole(b'\x63\x01z', 5)),
        # A length running past the end of the payload.
        ('msg_malformed', whole(b'\x02\x7f\x00', 1)),
    ]
else:
    sys.exit('mode: lan or sync')

for name, pkt in kinds:
    if isinstance(pkt, list):
        sendp(pkt, iface=iface, verbose=False)
    else:
        sendp(pkt, iface=iface, count=count, verbose=False)
    print(name, count, flush=True)
