#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""contrib/header-drift.py - does every header still say what it declares?

Usage: header-drift.py [SRCDIR]   (SRCDIR: the tree's src/, default ./src)

Prints one line per drift, "file:line: what", and exits 1 when there is
any (0 when none, 2 when it cannot run: no universal-ctags). Run by
tests/t0102-header-drift.sh in "make check". What it checks, for every
header src/*/*.h:

  names     the functions documented in the header's top comment equal
            the functions it declares (prototypes, and static inline
            definitions). The house form is an indented list at the top,
            one entry per line, "name(args)  what it does"; several on
            one line joined by " / " or ", " (an argument list may go on
            to the next lines); "name_a/b" stands for
            name_a and name_b; "prefix_*" for every declared name that
            matches. An entry is a line whose name starts at the list's
            indentation (the smallest of the lines that start with
            "name("); deeper lines are the entry's text. In a *_int.h
            file a bare "name  what" also documents name, and so does a
            section comment "/* file.c */" (or "/* file.c: ... */") for
            the prototypes below it up to the next such comment.
  args      where an entry gives arguments, their count equals the
            prototype's, and each argument that is a name ("&len" is len)
            is the prototype's parameter of that place; literals (true,
            NULL, 0, "x") are checked by count only.
  files     in a *_int.h file, an entry that names its file ("(file.c)",
            "(file.c, ...)", "(file.c; ...)"), or a section comment,
            names the file where ctags finds each function's definition.
  mentions  a function named "name(...)" in any comment of a header, when
            it has the prefix of a function one of our headers declares
            (daemon_, tail_, ...), exists somewhere in src/ (a function,
            macro or other symbol).
  layers    no file in src/util/ includes a header of another folder; no
            library (util, global, store, maillog, webhook) includes a
            header of a program's folder (mailhookd, milter, mailhookctl).

Names that are not functions (macros, variables, types) may be documented
too; a documented name must then be declared in the header as something.
The parse is deliberately simple: write the list in the house form rather
than teaching this script a new one.
"""
import os
import re
import subprocess
import sys

LIBRARIES = ("util", "global", "store", "maillog", "webhook")
PROGRAMS = ("mailhookd", "milter", "mailhookctl")
LITERALS = {"true", "false", "NULL"}
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"

drifts = []


def drift(path, line, what):
    drifts.append((path, line, what))


def ctags(paths, kinds):
    """[(name, line, kind, signature, file)] for paths, in file order."""
    out = subprocess.run(
        ["ctags", "-x", "--sort=no", "--language-force=C", "--c-kinds=" + kinds,
         "--_xformat=%N\t%n\t%K\t%{signature}\t%F"] + list(paths),
        check=True, capture_output=True, text=True).stdout
    rows = []
    for ln in out.splitlines():
        f = ln.split("\t")
        if len(f) == 5:
            rows.append((f[0], int(f[1]), f[2], f[3], f[4]))
    return rows


def split_top(s):
    """s split at the commas outside parentheses and brackets."""
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def param_names(sig):
    """The parameter names of a ctags signature "(int a,char * b)"."""
    inner = sig.strip()[1:-1].strip()
    if inner in ("", "void"):
        return []
    names = []
    for p in split_top(inner):
        if p == "...":
            names.append("...")
            continue
        m = re.search(r"\(\s*\*\s*(" + IDENT + r")\s*\)", p)  # function pointer
        if not m:
            m = re.search(r"(" + IDENT + r")\s*(\[[^\]]*\]\s*)*$", p)
        names.append(m.group(1) if m else "?")
    return names


def top_comment(lines):
    """(first line number, lines) of the header's top comment."""
    i = 0
    if lines and "SPDX-License-Identifier" in lines[0]:
        i = 1
    if i >= len(lines) or not lines[i].startswith("/*"):
        return 0, []
    out = []
    for j in range(i, len(lines)):
        out.append((j + 1, lines[j]))
        if "*/" in lines[j]:
            break
    return i + 1, out


def balanced(s, i):
    """Index just past the parenthesis that closes the one at s[i]."""
    depth = 0
    for j in range(i, len(s)):
        if s[j] == "(":
            depth += 1
        elif s[j] == ")":
            depth -= 1
            if depth == 0:
                return j + 1
    return -1


def parse_head(text):
    """The documented items at the start of text: [(name, args or None)]."""
    items, i = [], 0
    while True:
        m = re.match(r"(" + IDENT + r")(\*|/" + IDENT + r"|\[\])?", text[i:])
        if not m:
            break
        name, tail = m.group(1), m.group(2) or ""
        if name in ("struct", "enum", "union"):
            break
        i += m.end()
        args = None
        if tail == "" and i < len(text) and text[i] == "(":
            end = balanced(text, i)
            if end < 0:
                break
            args = split_top(text[i + 1:end - 1])
            i = end
        if tail == "*":
            items.append((name + "*", None))
        elif tail.startswith("/"):
            stem = name.rsplit("_", 1)[0] + "_" if "_" in name else ""
            items.append((name, None))
            items.append((stem + tail[1:], None))
        elif tail == "[]":
            items.append((name + "[]", None))
        else:
            items.append((name, args))
        sep = re.match(r"\s*/\s*|,\s*", text[i:])
        if not sep or not re.match(IDENT, text[i + sep.end():]):
            break
        i += sep.end()
    return items


def doc_entries(comment, internal):
    """[(line, [(name, args)], entry text)] of the top comment's list."""
    body = []
    for no, ln in comment:
        m = re.match(r"^\s*/?\*+( *)(.*?)(\*/)?\s*$", ln)
        if m:
            body.append((no, len(m.group(1)), m.group(2)))
    call = re.compile(IDENT + r"(\(|/" + IDENT + r"\(| / )")
    # An argument list continued on the next lines is joined to its entry.
    joined, k = [], 0
    while k < len(body):
        no, ind, t = body[k]
        while call.match(t) and t.count("(") > t.count(")") and k + 1 < len(body):
            k += 1
            t += " " + body[k][2]
        joined.append((no, ind, t))
        k += 1
    body = joined
    indents = [ind for _, ind, t in body if ind >= 2 and call.match(t)]
    if internal:
        indents += [ind for _, ind, t in body
                    if ind >= 2 and re.match(IDENT + r"(\*|\s{2,}|/|,|$)", t)]
    if not indents:
        return []
    want = min(indents)
    entries = []
    for no, ind, t in body:
        if ind == want and (call.match(t) or internal):
            items = parse_head(t)
            if items and (internal or call.match(t)
                          or any(a is not None for _, a in items)):
                entries.append([no, items, t])
                continue
        if entries and ind > want:
            entries[-1][2] += " " + t
        elif entries and ind <= want:
            entries.append([no, [], t])  # ends the entry's text
    return [(no, items, t) for no, items, t in entries if items]


def attributed_file(text):
    m = re.search(r"\((" + r"[A-Za-z0-9_]+\.c" + r")\s*[),;]", text)
    return m.group(1) if m else None


def sections(lines):
    """{prototype line: file.c} from "/* file.c */" section comments."""
    out, cur = {}, None
    for no, ln in enumerate(lines, 1):
        m = re.match(r"^/\*\s*([A-Za-z0-9_]+\.c)\s*(\*/|:)", ln)
        if m:
            cur = m.group(1)
        elif cur:
            out[no] = cur
    return out


def glob_match(pattern, names):
    stem = pattern[:-1]
    return [n for n in names if n.startswith(stem)]


def check_header(path, rel, defs):
    with open(path, encoding="utf-8") as fp:
        lines = fp.read().split("\n")
    internal = rel.endswith("_int.h")
    _, comment = top_comment(lines)
    entries = doc_entries(comment, internal)
    rows = ctags([path], "pfdxvtsgeu")
    funcs = {}
    for name, no, kind, sig, _ in rows:
        # an all-capitals name is a macro use (TAILQ_HEAD(...);), not a function
        if kind in ("prototype", "function") and name not in funcs and not name.isupper():
            funcs[name] = (no, sig)
    symbols = {name for name, _, _, _, _ in rows}
    sect = sections(lines) if internal else {}
    documented = set()
    files = {}  # function name -> (doc line, file.c it is attributed to)
    for no, items, text in entries:
        where = attributed_file(text) if internal else None
        for name, args in items:
            if name.endswith("[]"):
                name = name[:-2]
            if name.endswith("*"):
                hits = glob_match(name, symbols)
                if not hits:
                    drift(rel, no, "%s: documented, matches nothing declared" % name)
                for h in hits:
                    documented.add(h)
                    if where and h in funcs:
                        files.setdefault(h, (no, where))
                continue
            documented.add(name)
            if name not in symbols:
                drift(rel, no, "%s: documented, not declared here" % name)
                continue
            if where and name in funcs:
                files[name] = (no, where)
            if args is not None and name in funcs:
                check_args(rel, no, name, args, funcs[name][1])
    for name, (no, sig) in funcs.items():
        if no in sect:
            documented.add(name)
            files.setdefault(name, (no, sect[no]))
        if name not in documented:
            drift(rel, no, "%s: declared, not documented in the top comment" % name)
    folder = os.path.dirname(path)
    for name, (no, cfile) in sorted(files.items()):
        where = defs.get((folder, name), [])
        if not where:
            drift(rel, no, "%s: attributed to %s, defined nowhere in %s/"
                  % (name, cfile, os.path.basename(folder)))
        elif cfile not in where:
            drift(rel, no, "%s: attributed to %s, defined in %s" % (name, cfile, ", ".join(where)))


def check_args(rel, no, name, args, sig):
    params = param_names(sig)
    if len(args) != len(params):
        drift(rel, no, "%s: documented with %d argument(s) (%s), declared with %d (%s)"
              % (name, len(args), ", ".join(args), len(params), ", ".join(params)))
        return
    for a, p in zip(args, params):
        a = a.lstrip("&*").strip()
        if re.fullmatch(IDENT, a) and a not in LITERALS and a != p:
            drift(rel, no, "%s: documented argument %s is declared as %s" % (name, a, p))


def check_mentions(path, rel, known, prefixes):
    """name() in any comment of a header: name must exist somewhere in src/
    when it has the prefix of one of our functions (daemon_, tail_, ...)."""
    with open(path, encoding="utf-8") as fp:
        text = fp.read()
    for m in re.finditer(r"/\*.*?\*/", text, re.S):
        for n in re.finditer(r"\b(" + IDENT + r")\(", m.group(0)):
            name = n.group(1)
            if "_" in name and name.split("_")[0] + "_" in prefixes and name not in known:
                no = text.count("\n", 0, m.start() + n.start()) + 1
                drift(rel, no, "%s: named in a comment, defined nowhere in src/" % name)


def check_includes(src, rel_of):
    homes = {}
    for folder in os.listdir(src):
        d = os.path.join(src, folder)
        if os.path.isdir(d):
            for f in os.listdir(d):
                if f.endswith(".h"):
                    homes[f] = folder
    for folder in sorted(os.listdir(src)):
        d = os.path.join(src, folder)
        if not os.path.isdir(d) or folder not in LIBRARIES:
            continue
        for f in sorted(os.listdir(d)):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(d, f)
            with open(path, encoding="utf-8") as fp:
                for no, ln in enumerate(fp, 1):
                    m = re.match(r'\s*#\s*include\s+"([^"]+)"', ln)
                    if not m:
                        continue
                    inc = os.path.basename(m.group(1))
                    home = homes.get(inc)
                    if home is None or home == folder:
                        continue
                    if folder == "util":
                        drift(rel_of(path), no, "%s: util/ includes %s/%s" % (inc, home, inc))
                    elif home in PROGRAMS:
                        drift(rel_of(path), no, "%s: library %s/ includes program header %s/%s"
                              % (inc, folder, home, inc))


def main():
    src = os.path.normpath(sys.argv[1] if len(sys.argv) > 1 else "src")
    top = os.path.dirname(os.path.abspath(src))

    def rel_of(p):
        return os.path.relpath(os.path.abspath(p), top)

    try:
        cfiles = sorted(os.path.join(src, d, f) for d in os.listdir(src)
                        if os.path.isdir(os.path.join(src, d))
                        for f in os.listdir(os.path.join(src, d)) if f.endswith(".c"))
        defs = {}
        for name, _, _, _, f in ctags(cfiles, "f"):
            defs.setdefault((os.path.dirname(f), name), []).append(os.path.basename(f))
        hfiles = sorted(os.path.join(src, d, f) for d in os.listdir(src)
                        if os.path.isdir(os.path.join(src, d))
                        for f in os.listdir(os.path.join(src, d)) if f.endswith(".h"))
        everything = ctags(cfiles + hfiles, "pfdxvtsgeu")
        known = {r[0] for r in everything}
        prefixes = {r[0].split("_")[0] + "_" for r in everything
                    if r[2] in ("function", "prototype") and "_" in r[0]
                    and r[4].endswith(".h")}
    except (OSError, subprocess.CalledProcessError) as e:
        print("header-drift: cannot run universal-ctags: %s" % e, file=sys.stderr)
        return 2
    for d in sorted(os.listdir(src)):
        dd = os.path.join(src, d)
        if os.path.isdir(dd):
            for f in sorted(os.listdir(dd)):
                if f.endswith(".h"):
                    check_header(os.path.join(dd, f), rel_of(os.path.join(dd, f)), defs)
                    check_mentions(os.path.join(dd, f), rel_of(os.path.join(dd, f)), known,
                                   prefixes)
    check_includes(src, rel_of)
    for path, no, what in drifts:
        print("%s:%d: %s" % (path, no, what))
    return 1 if drifts else 0


if __name__ == "__main__":
    sys.exit(main())
