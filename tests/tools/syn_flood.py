# A bounded TCP SYN flood for tests/netns_faults.rs (run inside a test
# namespace only):
#   syn_flood.py SRC DST DPORT COUNT SECONDS FIRST_SPORT
# Sends COUNT SYNs from SRC to DST:DPORT through a raw socket, source ports
# FIRST_SPORT, FIRST_SPORT+1, ... (each a new flow), as fast as it can;
# stops after COUNT or SECONDS, whichever comes first. Prints what it sent.
import socket, struct, sys, time

src, dst, dport = sys.argv[1], sys.argv[2], int(sys.argv[3])
count, secs, first = int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])

def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 6, 20)
t0, sent = time.time(), 0
for i in range(count):
    if time.time() - t0 > secs:
        break
    sport = first + i % (65536 - first)
    seq = (i * 2654435761) & 0xffffffff
    tcp = struct.pack('!HHIIBBHHH', sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    tcp = tcp[:16] + struct.pack('!H', csum(pseudo + tcp)) + tcp[18:]
    try:
        s.sendto(tcp, (dst, 0))
        sent += 1
    except OSError:
        time.sleep(0.001)  # the qdisc is full: let it drain
print('sent %d SYNs in %.2f s' % (sent, time.time() - t0), flush=True)
