# SPDX-License-Identifier: MIT
# tests/lib/callcycles.py - the file-level call graph of src/ and its cycles.
#
#   python3 tests/lib/callcycles.py SRCDIR
#
# A file uses another when it names (calls, or takes the address of) a
# function the other defines with external linkage and the two can be
# linked into one program; a function of the file's own (static or not)
# shadows any other of the same name. Functions come
# from universal-ctags. The strongly connected components of that graph
# (Tarjan) are printed one per line, largest first, as
#   cycle N files: a.c b.c ...
# and the exit status is 1 when one of them is not allowed. Allowed: a
# cycle inside one folder's one module, i.e. files that share a stem before
# their first "_" suffix within the same folder (delivery.c, delivery_http.c
# ... behind delivery_int.h; store_bdb*.c; maillog_correlate*.c), since a
# module split across files behind a private header is still one module.
# Everything else (a cycle across folders, or across two modules of one
# folder) is the call cycle that README's Layout promises is not there.
import os
import re
import subprocess
import sys

PROGRAMS = {'mailhookd', 'milter', 'mailhookctl'}
IDENT = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', re.S)


def functions(files):
    out = subprocess.run(['ctags', '--fields=+Kf', '--c-kinds=f', '-o', '-'] + files,
                         check=True, capture_output=True, text=True).stdout
    external, static = {}, {}
    for line in out.splitlines():
        cols = line.split('\t')
        name, path = cols[0], cols[1]
        if 'file:' in cols[3:]:
            static.setdefault(path, set()).add(name)
        else:
            external.setdefault(name, set()).add(path)
    return external, static


def linked_together(a, b):
    """Whether a and b can be in one program: a program's folder links only
    itself and the libraries."""
    fa, fb = os.path.basename(os.path.dirname(a)), os.path.basename(os.path.dirname(b))
    return fa == fb or fb not in PROGRAMS


def uses(files, external, static):
    graph = {f: set() for f in files}
    for f in files:
        with open(f, encoding='utf-8', errors='replace') as fh:
            text = COMMENT.sub(' ', fh.read())
        for name in set(IDENT.findall(text)):
            targets = external.get(name, set())
            if name in static.get(f, ()) or f in targets:
                continue
            graph[f].update(t for t in targets if linked_together(f, t))
    return graph


def tarjan(graph):
    index, low, onstack, stack, sccs, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        onstack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in onstack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                onstack.discard(w)
                scc.append(w)
                if w == v:
                    break
            sccs.append(sorted(scc))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [s for s in sccs if len(s) > 1]


def module(path):
    folder, base = os.path.split(path)
    stem = os.path.splitext(base)[0]
    for prefix in ('store_bdb', 'maillog_correlate', 'maillog_parse', 'tail', 'conf',
                   'endpoint', 'delivery', 'milter'):
        if stem == prefix or stem.startswith(prefix + '_'):
            return folder, prefix
    return folder, stem


def main():
    srcdir = sys.argv[1]
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(srcdir)
                   for f in fs if f.endswith('.c'))
    external, static = functions(files)
    bad = 0
    for scc in sorted(tarjan(uses(files, external, static)), key=len, reverse=True):
        rel = [os.path.relpath(f, srcdir) for f in scc]
        allowed = len({module(f) for f in rel}) == 1
        bad += not allowed
        print('%s %d files: %s' % ('module' if allowed else 'cycle', len(rel), ' '.join(rel)))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
