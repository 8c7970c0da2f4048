#!/usr/bin/env python3
"""Reads the CSV written with REDIS_STREAMS_LATENCY_TRACE (several files: comma-separated, pooled) and prints, for each segment of a message's way, p50/p99 in µs
and how often the segment changed threads. Usage: latency-trace.py FILE [FIRST_MESSAGE] [MESSAGES]
(the compare latency workload at 100 msg/s sends 200 warm-up messages first, then 500: the defaults skip and take those)."""
import sys

path = sys.argv[1]
first = int(sys.argv[2]) if len(sys.argv) > 2 else 200
take = int(sys.argv[3]) if len(sys.argv) > 3 else 500


def load(file):
    rows = []
    with open(file) as f:
        header = f.readline()
        frequency = int(header.strip().split('frequency=')[1])
        for line in f:
            t, stage, thread, pool = line.strip().split(',')
            rows.append((int(t), stage, int(thread), pool == '1'))
    rows.sort(key=lambda r: r[0])
    return rows, frequency

chain = ['SendCalled', 'TransportSend', 'Serialized', 'Appending', 'ScriptSent', 'WakeReceived', 'ReaderWoken', 'ReadSent',
         'ReadReplied', 'Queued', 'Taken', 'Dispatching', 'Consumed']
side = [('ScriptSent', 'ScriptReplied'), ('ScriptReplied', 'AppendCompleted'), ('SendCalled', 'SendReturned'),
        ('SendCalled', 'AppendCompleted')]

segments = {}
missing = 0
messages = 0
runs = []
for file in path.split(','):
    rows, frequency = load(file)
    sends = [i for i, r in enumerate(rows) if r[1] == 'SendCalled']
    runs.extend((rows, frequency, sends, n) for n in range(first, min(first + take, len(sends))))
for rows, frequency, sends, n in runs:
    start = sends[n]
    end = sends[n + 1] if n + 1 < len(sends) else len(rows)
    window = rows[start:end]
    found = {}
    t0 = window[0][0]
    cursor = 0
    ok = True
    for stage in chain:
        for j in range(cursor, len(window)):
            if window[j][1] == stage:
                found[stage] = window[j]
                cursor = j + 1
                break
        else:
            ok = False
            break
    if not ok:
        missing += 1
        continue
    for a, b in side:
        if a in found:
            for r in window:
                if r[1] == b and r[0] >= found[a][0]:
                    found[b] = r
                    break
    messages += 1
    pairs = list(zip(chain, chain[1:])) + side + [('SendCalled', 'Consumed')]
    for a, b in pairs:
        if a in found and b in found:
            d = (found[b][0] - found[a][0]) * 1e6 / frequency
            segments.setdefault((a, b), []).append((d, found[a][2] != found[b][2]))


def pct(values, p):
    values = sorted(values)
    return values[max(0, min(len(values) - 1, int(-(-p * len(values) // 1)) - 1))]


print(f'{messages} messages traced, {missing} without every stage')
print(f'| {"segment":<34} | {"p50 µs":>7} | {"p90 µs":>7} | {"p99 µs":>7} | {"thread changed":>14} |')
print(f'|{"-" * 36}|{"-" * 9}:|{"-" * 9}:|{"-" * 9}:|{"-" * 15}:|')
for (a, b), values in segments.items():
    ds = [d for d, _ in values]
    hops = sum(1 for _, h in values if h) * 100 // len(values)
    print(f'| {a + " → " + b:<34} | {pct(ds, .5):7.0f} | {pct(ds, .9):7.0f} | {pct(ds, .99):7.0f} | {hops:13d}% |')
