# A one-file HTTP server that paces its answer (tests and `make demo`):
#   paced_http.py ADDRESS PORT FILE BYTES_PER_SECOND
# Pacing at the sender keeps a transfer in flight for its whole length (a
# receiver-side limit such as curl --limit-rate lets the sender fill the
# socket buffers in the first second). Serves forever; one client at a time.
import socket, sys, time, os
addr, port, path, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port)); s.listen(4); s.settimeout(120)
def serve(c, peer):
    req = b''
    while b'\r\n\r\n' not in req:
        d = c.recv(4096)
        if not d: return  # a port probe (nc -z)
        req += d
    size = os.path.getsize(path)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    c.sendall(b'HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n' % size)
    chunk, t0, sent = 16384, time.time(), 0
    with open(path, 'rb') as f:
        while True:
            b = f.read(chunk)
            if not b: break
            c.sendall(b); sent += len(b)
            ahead = sent / rate - (time.time() - t0)
            if ahead > 0: time.sleep(ahead)
    print('%s:%d sent %d bytes' % (peer[0], peer[1], sent), flush=True)
while True:
    c, peer = s.accept()
    c.settimeout(60)
    try:
        serve(c, peer)
    except OSError as e:
        print('%s:%d %s' % (peer[0], peer[1], e), flush=True)
    c.close()
