#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Cross-file calls of the CBD driver, by layer.

Usage: tools/testing/cbd/callgraph.py [-v] [SRCDIR]

Every cbd_*.c file belongs to one layer (LAYERS below, lowest first).  A
call from a function of one file to a function defined (not static) in
another file is a cross-file call; it goes *up* when the callee's layer
is above the caller's.  Prints the files and lines per layer, the
cross-file calls, the calls going up (call sites and distinct
caller -> callee pairs; -v lists them) and the cycles between files
that span layers.  Calls through function pointers (ops tables,
callbacks) are not calls here: that is how a lower layer reaches up.
The parsing is regular expressions over the sources with comments and
strings removed, good enough for kernel-style C.
"""
import os
import re
import sys

LAYERS = [
    ('media', ['cbd_dax.c', 'cbd_layout.c', 'cbd_media.c', 'cbd_fault.c']),
    ('registry', ['cbd_slot.c', 'cbd_heartbeat.c', 'cbd_host.c',
                  'cbd_blkdev_slot.c']),
    ('sysfs', ['cbd_sysfs.c']),
    ('segment/channel', ['cbd_segment.c', 'cbd_channel.c']),
    ('channel ends', ['cbd_handler.c', 'cbd_queue.c']),
    ('cache', ['cbd_cache.c', 'cbd_cache_segment.c', 'cbd_cache_key.c',
               'cbd_cache_req.c', 'cbd_cache_writeback.c',
               'cbd_cache_wb_window.c', 'cbd_cache_gc.c']),
    ('backend', ['cbd_backend.c']),
    ('blkdev', ['cbd_blkdev.c']),
    ('control', ['cbd_transport.c', 'cbd_adm.c', 'cbd_debugfs.c',
                 'cbd_main.c']),
]

KEYWORDS = {'if', 'for', 'while', 'switch', 'return', 'sizeof', 'do',
            'else', 'case', 'typeof', 'defined'}


def strip(src):
    src = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'),
                 src, flags=re.S)
    src = re.sub(r'//[^\n]*', '', src)
    src = re.sub(r'"(\\.|[^"\\\n])*"', '""', src)
    src = re.sub(r"'(\\.|[^'\\\n])*'", "''", src)
    return src


DEF = re.compile(r'^(static\s+)?[A-Za-z_][\w\s\*]*?\b(\w+)\s*\(([^;{}]*?)\)\s*\{',
                 re.M | re.S)
CALL = re.compile(r'\b([a-z_]\w*)\s*\(')


def functions(src):
    """(name, static, body) of each function definition."""
    out = []
    for m in DEF.finditer(src):
        name = m.group(2)
        if name in KEYWORDS:
            continue
        depth, i = 1, m.end()
        while depth and i < len(src):
            depth += {'{': 1, '}': -1}.get(src[i], 0)
            i += 1
        out.append((name, bool(m.group(1)), src[m.end():i]))
    return out


def main():
    args = [a for a in sys.argv[1:] if a != '-v']
    verbose = '-v' in sys.argv[1:]
    top = args[0] if args else os.getcwd()
    layer_of, order = {}, {}
    for i, (layer, files) in enumerate(LAYERS):
        order[layer] = i
        for f in files:
            layer_of[f] = layer
    srcs = sorted(f for f in os.listdir(top)
                  if f.startswith('cbd') and f.endswith('.c') and f != 'cbd.mod.c')
    unknown = [f for f in srcs if f not in layer_of]
    if unknown:
        sys.exit('no layer for: ' + ' '.join(unknown))

    defined, funcs, lines = {}, {}, {}
    for f in srcs:
        text = open(os.path.join(top, f)).read()
        lines[f] = text.count('\n')
        funcs[f] = functions(strip(text))
        for name, static, _ in funcs[f]:
            if not static:
                defined[name] = f

    cross, up, pairs, edges = 0, 0, set(), {}
    for f in srcs:
        for name, _, body in funcs[f]:
            for callee in CALL.findall(body):
                g = defined.get(callee)
                if not g or g == f:
                    continue
                cross += 1
                edges.setdefault(f, set()).add(g)
                if order[layer_of[g]] > order[layer_of[f]]:
                    up += 1
                    pairs.add((f, name, g, callee))

    print('layer             files  lines')
    for layer, files in LAYERS:
        present = [f for f in files if f in lines]
        print('%-16s  %5d  %5d  %s' % (layer, len(present),
              sum(lines[f] for f in present), ' '.join(present)))
    print('cross-file calls: %d; calls going up: %d call sites, %d distinct'
          % (cross, up, len(pairs)))
    by_pair = {}
    for f, name, g, callee in pairs:
        by_pair.setdefault((layer_of[f], layer_of[g]), []).append(
            '%s:%s -> %s:%s' % (f, name, g, callee))
    for (a, b), calls in sorted(by_pair.items(), key=lambda kv: -len(kv[1])):
        print('  %s -> %s: %d' % (a, b, len(calls)))
        if verbose:
            for c in sorted(calls):
                print('      ' + c)

    # strongly connected components of the file graph (Tarjan)
    index, low, stack, onstack, sccs, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        onstack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in onstack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                onstack.discard(w)
                comp.append(w)
                if w == v:
                    break
            sccs.append(comp)

    sys.setrecursionlimit(10000)
    for v in srcs:
        if v not in index:
            visit(v)
    spanning = [c for c in sccs if len({layer_of[f] for f in c}) > 1]
    print('cycles spanning layers: %d' % len(spanning))
    for c in spanning:
        print('  %d files in %d layers: %s' % (len(c), len({layer_of[f] for f in c}),
              ' '.join(sorted(c))))


if __name__ == '__main__':
    main()
