#!/usr/bin/env python3
"""Echo servers against the project's shared C load client, as the README's second table.

Each server runs on CPU 0 and the client (`../shared/bench/c/client.c`) on CPU 1; every round
runs every server once per connection count, in a shuffled order; a cell is 2 s after 0.5 s of
warm-up with 64-byte messages. Prints, per server and count, the median messages per second,
the server's user and system time per message (from /proc/PID/stat over the measured window:
clock ticks, so read the medians), and the median of the per-round ratios to the floor (raw
epoll, or raw io_uring for the io_uring port).

    make -C ../shared/bench/c OUT=$PWD/target/c-bench      # the client and the C servers
    cargo build --release -p overlap-cli
    python3 docs/c-client-bench.py                          # CONNS=16,256,1024 ROUNDS=5 SECS=2

Environment: C_BENCH (where the C binaries are; default target/c-bench), OVERLAP (the overlap
binary; default target/release/overlap), CONNS, ROUNDS, SECS, WARM, ONLY (server names, comma
separated: raw-epoll, raw-uring, libevent, libuv, reactor/epoll, port/epoll, port/uring,
event/epoll, bufferevent/epoll, bufferevent-completion/uring), and OLD (another overlap binary, added as
old-<name> for every overlap server above, for a before/after in one run; ONLY may name them).
"""
import os, random, re, signal, socket, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
C = os.environ.get('C_BENCH', os.path.join(ROOT, 'target/c-bench'))
OVERLAP = os.environ.get('OVERLAP', os.path.join(ROOT, 'target/release/overlap'))
conns_list = [int(x) for x in os.environ.get('CONNS', '16,256,1024').split(',')]
rounds = int(os.environ.get('ROUNDS', '5'))
secs = float(os.environ.get('SECS', '2'))
warm = float(os.environ.get('WARM', '0.5'))
TICK = os.sysconf('SC_CLK_TCK')

def overlap(binary, model, backend):
    return [binary, 'echo-server', '--model', model, '--backend', backend, '--threads', '1']

servers = {
    'raw-epoll': [f'{C}/echo_epoll'],
    'raw-uring': [f'{C}/echo_uring'],
    'libevent': [f'{C}/echo_libevent'],
    'libuv': [f'{C}/echo_libuv'],
    'reactor/epoll': overlap(OVERLAP, 'readiness', 'epoll'),
    'port/epoll': overlap(OVERLAP, 'completion', 'epoll'),
    'port/uring': overlap(OVERLAP, 'completion', 'uring'),
    'event/epoll': overlap(OVERLAP, 'event', 'epoll'),
    'bufferevent/epoll': overlap(OVERLAP, 'bufferevent', 'epoll'),
    'bufferevent-completion/uring': overlap(OVERLAP, 'bufferevent', 'uring') + ['--engine', 'completion'],
}
floor = {'libevent': 'raw-epoll', 'libuv': 'raw-epoll', 'reactor/epoll': 'raw-epoll',
         'port/epoll': 'raw-epoll', 'port/uring': 'raw-uring', 'event/epoll': 'raw-epoll',
         'bufferevent/epoll': 'raw-epoll', 'bufferevent-completion/uring': 'raw-uring'}
if os.environ.get('OLD'):
    for name in [k for k, v in list(servers.items()) if v[0] == OVERLAP]:
        servers['old-' + name] = [os.environ['OLD']] + servers[name][1:]
        floor['old-' + name] = floor[name]
servers = {k: v for k, v in servers.items() if os.path.exists(v[0])}
if os.environ.get('ONLY'):
    servers = {k: v for k, v in servers.items() if k in os.environ['ONLY'].split(',')}

def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port

def cpu(pid):
    fields = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK  # utime, stime in seconds

def run(name, conns):
    port = free_port()
    srv = subprocess.Popen(['taskset', '-c', '0'] + servers[name] + ['--port', str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(500):
            try:
                socket.create_connection(('127.0.0.1', port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.02)
        client = subprocess.Popen(['taskset', '-c', '1', f'{C}/client', '--port', str(port), '--conns', str(conns),
                                   '--size', '64', '--secs', str(secs), '--warmup', str(warm)],
                                  stdout=subprocess.PIPE, text=True)
        time.sleep(warm + 0.05)
        u0, s0 = cpu(srv.pid)
        t0 = time.time()
        out = client.communicate()[0]
        u1, s1 = cpu(srv.pid)
        elapsed = time.time() - t0
    finally:
        srv.send_signal(signal.SIGTERM)
        try:
            srv.wait(5)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
    rate = float(re.search(r'msgs_per_sec=(\d+)', out).group(1))
    msgs = rate * elapsed
    return rate, (u1 - u0) / msgs * 1e6, (s1 - s0) / msgs * 1e6

results = {}
for r in range(rounds):
    for conns in conns_list:
        names = list(servers)
        random.Random(r * 7919 + conns).shuffle(names)
        for name in names:
            results.setdefault((name, conns), []).append(run(name, conns))
    print(f'round {r + 1} of {rounds} done', file=sys.stderr)

print('| server | conns | msgs/s | user µs/msg | sys µs/msg | × floor |')
print('|---|---|---|---|---|---|')
for conns in conns_list:
    for name in servers:
        rs = results[(name, conns)]
        med = lambda i: statistics.median(x[i] for x in rs)
        ratio = ''
        f = floor.get(name)
        if f in servers:
            ratio = f'{statistics.median(a[0] / b[0] for a, b in zip(rs, results[(f, conns)])):.2f}'
        print(f'| {name} | {conns} | {med(0):,.0f} | {med(1):.2f} | {med(2):.2f} | {ratio} |')
