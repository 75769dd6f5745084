#!/usr/bin/env python3
"""Parity between infodemic's feed parser and Python's feedparser on a corpus of real feeds.

The corpus lives in tests/fixtures/feeds/corpus/:
  docs/           the documents, named <source>__<original-name>
  MANIFEST.tsv    where each came from (repository, path, commit, licence) and its kind:
                  feed, malformed or not-a-feed
  LICENSES/       the licence of each source repository
  expected.json   what feedparser makes of each document (written by --expect)

Modes
-----
--setup-venv
    Create .venv-feedparser/ at the repository root and install feedparser 6.0.14 into it.

--expect
    Parse every document in docs/ with feedparser and write expected.json:
        {"<file>": {"format": "rss20", "bozo": false, "entries": 25,
                    "titles": [...first 20 entry titles...],
                    "links": [...first 20 entry links...],
                    "engine": "feedparser 6.0.14"}, ...}
    "format" is feedparser's version string ("rss090", "rss091n", "rss091u", "rss092",
    "rss093", "rss094", "rss20", "rss10", "rss", "atom03", "atom10", "atom", "cdf", ...,
    "" when feedparser does not recognise the document). Titles and links are exactly what
    feedparser gives (entry.title / entry.link); an entry without one gets "".
    The document is passed as bytes, with no HTTP headers and no base URL, so relative links
    stay relative.

    JSON Feed: feedparser 6.0.x, the released line on PyPI, has no JSON Feed parser (it only
    exists on feedparser's unreleased development branch). For a document that feedparser
    does not recognise and that decodes as JSON, the expectation is computed by a small
    fallback that follows that development-branch parser's mapping: version
    "https://jsonfeed.org/version/1" -> "json1", "https://jsonfeed.org/version/1.1" ->
    "json11" (any other value, including an http:// URL, is unrecognised: bozo, 0 entries);
    entries = items; title = item "title"; link = item "url". Such records carry
    "engine": "jsonfeed-fallback".

--compare RESULTS.json
    RESULTS.json holds our crawler's results in the same shape, at least
        {"<file>": {"entries": n, "titles": [...]}, ...}
    (a record may also carry "error": "..."; a missing record or a missing "entries" counts
    as 0 entries). Prints:
      * count parity: the share of well-formed documents whose entry count equals
        feedparser's;
      * title fidelity: over the entries matched by position (the first
        min(ours, feedparser's, 20) entries of each well-formed document), the share whose
        titles read the same (markup stripped, entities decoded, whitespace collapsed: see
        norm());
      * the well-formed documents whose counts differ, with both counts, and a sample of
        title mismatches.

Well-formed
-----------
A document is well-formed when feedparser reports bozo == false, or when it reports
bozo == true but still found entries (entries > 0). feedparser sets bozo for many
recoverable faults (a wrong encoding declaration, an undefined entity, a bare ampersand)
and still returns the entries its loose parser recovered; a crawler is expected to recover
those entries too, so such documents stay in the parity figures. Documents that are bozo
with no entries (HTML pages, truncated or empty documents, unrecognised JSON) are left out
of the parity figures; --compare only reports how many of them our crawler accepted.
Some documents that are not feeds are well-formed by this rule (an XHTML page, an OPML
list, a generic XML file: feedparser parses them cleanly and finds 0 entries); a crawler
that rejects them reports 0 entries and so matches.

Usage
-----
    python3 scripts/feedparser_parity.py --setup-venv
    python3 scripts/feedparser_parity.py --expect
    python3 scripts/feedparser_parity.py --compare results.json
The script re-runs itself under .venv-feedparser/bin/python when feedparser is not
importable and that venv exists. --compare needs only the standard library.
"""

import argparse
import html
import re
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "feeds" / "corpus"
DOCS = CORPUS / "docs"
EXPECTED = CORPUS / "expected.json"
VENV = ROOT / ".venv-feedparser"
VENV_PY = VENV / "bin" / "python"
FEEDPARSER_PIN = "feedparser==6.0.14"
MAX_LIST = 20

JSONFEED_VERSIONS = {
    "https://jsonfeed.org/version/1": "json1",
    "https://jsonfeed.org/version/1.1": "json11",
}


def setup_venv():
    if not VENV_PY.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(VENV_PY), "-m", "pip", "install", "--quiet", FEEDPARSER_PIN], check=True)
    print(f"feedparser installed in {VENV}")


def import_feedparser():
    try:
        import feedparser  # noqa: F401

        return feedparser
    except ImportError:
        if VENV_PY.exists() and not os.environ.get("FEEDPARSER_PARITY_REEXEC"):
            os.environ["FEEDPARSER_PARITY_REEXEC"] = "1"
            os.execv(str(VENV_PY), [str(VENV_PY), *sys.argv])
        sys.exit("feedparser is not installed: run with --setup-venv first")


def _text(value):
    return value if isinstance(value, str) else ""


def jsonfeed_fallback(data):
    """Expectation for a JSON document, following feedparser's development-branch JSONParser."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None  # not JSON: keep feedparser's own verdict
    record = {"format": "", "bozo": True, "entries": 0, "titles": [], "links": [],
              "engine": "jsonfeed-fallback"}
    if not isinstance(doc, dict):
        return record
    version = JSONFEED_VERSIONS.get(doc.get("version"))
    items = doc.get("items")
    if version is None or not isinstance(items, list):
        return record
    items = [i for i in items if isinstance(i, dict)]
    record.update(
        format=version,
        bozo=False,
        entries=len(items),
        titles=[_text(i.get("title")) for i in items[:MAX_LIST]],
        links=[_text(i.get("url")) for i in items[:MAX_LIST]],
    )
    return record


def expect():
    feedparser = import_feedparser()
    engine = f"feedparser {feedparser.__version__}"
    out = {}
    for path in sorted(DOCS.iterdir()):
        if not path.is_file():
            continue
        data = path.read_bytes()
        d = feedparser.parse(data)
        record = {
            "format": d.get("version", "") or "",
            "bozo": bool(d.get("bozo")),
            "entries": len(d.entries),
            "titles": [_text(e.get("title")) for e in d.entries[:MAX_LIST]],
            "links": [_text(e.get("link")) for e in d.entries[:MAX_LIST]],
            "engine": engine,
        }
        if not record["format"] and not record["entries"]:
            fallback = jsonfeed_fallback(data)
            if fallback is not None:
                record = fallback
        out[path.name] = record
    EXPECTED.write_text(json.dumps(out, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                        encoding="utf-8")
    formats = {}
    for r in out.values():
        formats[r["format"] or "(unrecognised)"] = formats.get(r["format"] or "(unrecognised)", 0) + 1
    wf = sum(1 for r in out.values() if is_well_formed(r))
    print(f"{len(out)} documents ({engine}); {wf} well-formed; written to {EXPECTED.relative_to(ROOT)}")
    for fmt, n in sorted(formats.items()):
        print(f"  {fmt:16} {n}")


def is_well_formed(record):
    return (not record["bozo"]) or record["entries"] > 0


def norm(title):
    """A title as a reader sees it: markup stripped and entities decoded (feedparser keeps the
    inline markup of HTML titles, `<b>Slack</b>`, and the entities a feed escaped twice,
    `&#8217;`; rendered, they are plain text). crates/infodemic-crawler/tests/feed_corpus.rs
    compares the same way."""
    text = html.unescape(re.sub(r"<[^>]*>", "", html.unescape(title or "")))
    return " ".join(text.split())


def compare(results_path, fail_under_count=None, fail_under_title=None, show=30):
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    results = json.loads(Path(results_path).read_text(encoding="utf-8"))

    wf = {name: r for name, r in expected.items() if is_well_formed(r)}
    count_ok = 0
    count_bad = []
    matched = 0
    title_ok = 0
    title_bad = []
    per_format = {}
    for name, exp in sorted(wf.items()):
        ours = results.get(name) or {}
        n = ours.get("entries")
        n = n if isinstance(n, int) else 0
        fmt = exp["format"] or "(unrecognised)"
        agg = per_format.setdefault(fmt, [0, 0])
        agg[1] += 1
        if n == exp["entries"]:
            count_ok += 1
            agg[0] += 1
        else:
            count_bad.append((name, exp["entries"], n if name in results else None, ours.get("error")))
        their_titles = exp["titles"][:MAX_LIST]
        our_titles = [t if isinstance(t, str) else "" for t in (ours.get("titles") or [])][:MAX_LIST]
        for i in range(min(len(their_titles), len(our_titles))):
            matched += 1
            if norm(their_titles[i]) == norm(our_titles[i]):
                title_ok += 1
            else:
                title_bad.append((name, i, their_titles[i], our_titles[i]))

    bad_docs = {name for name, r in expected.items() if not is_well_formed(r)}
    accepted = sorted(name for name in bad_docs
                      if isinstance((results.get(name) or {}).get("entries"), int)
                      and results[name]["entries"] > 0)
    missing = sorted(set(expected) - set(results))

    def pct(a, b):
        return f"{100.0 * a / b:.1f}%" if b else "n/a"

    count_parity = count_ok / len(wf) if wf else 1.0
    title_fidelity = title_ok / matched if matched else 1.0
    print(f"documents: {len(expected)}; well-formed (feedparser bozo == false, or entries > 0): {len(wf)}")
    print(f"count parity:   {count_ok}/{len(wf)} = {pct(count_ok, len(wf))}")
    print(f"title fidelity: {title_ok}/{matched} = {pct(title_ok, matched)} of entries matched by position")
    print("count parity by feedparser format:")
    for fmt, (ok, total) in sorted(per_format.items()):
        print(f"  {fmt:16} {ok}/{total}")
    if missing:
        print(f"no result for {len(missing)} document(s): {', '.join(missing[:10])}"
              + (" ..." if len(missing) > 10 else ""))
    print(f"not well-formed per feedparser: {len(bad_docs)}; of these ours returned entries for {len(accepted)}"
          + (f": {', '.join(accepted)}" if accepted else ""))
    if count_bad:
        print(f"\ncount mismatches ({len(count_bad)}): file, feedparser, ours")
        for name, theirs, ours_n, err in count_bad:
            shown = "missing" if ours_n is None else str(ours_n)
            print(f"  {name}\t{theirs}\t{shown}" + (f"\t({err})" if err else ""))
    if title_bad:
        print(f"\ntitle mismatches ({len(title_bad)}; first {min(show, len(title_bad))}): file #index")
        for name, i, theirs, ours_t in title_bad[:show]:
            print(f"  {name} #{i}\n    feedparser: {norm(theirs)!r}\n    ours:       {norm(ours_t)!r}")

    failed = False
    if fail_under_count is not None and 100.0 * count_parity < fail_under_count:
        print(f"FAIL: count parity below {fail_under_count}%")
        failed = True
    if fail_under_title is not None and 100.0 * title_fidelity < fail_under_title:
        print(f"FAIL: title fidelity below {fail_under_title}%")
        failed = True
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--setup-venv", action="store_true", help="create .venv-feedparser with feedparser")
    mode.add_argument("--expect", action="store_true", help="write corpus/expected.json with feedparser")
    mode.add_argument("--compare", metavar="RESULTS.json", help="print parity of RESULTS.json against expected.json")
    ap.add_argument("--fail-under-count", type=float, metavar="PCT", help="exit 1 if count parity is below PCT")
    ap.add_argument("--fail-under-title", type=float, metavar="PCT", help="exit 1 if title fidelity is below PCT")
    ap.add_argument("--show", type=int, default=30, help="title mismatches to print (default 30)")
    args = ap.parse_args()
    if args.setup_venv:
        setup_venv()
    elif args.expect:
        expect()
    else:
        sys.exit(compare(args.compare, args.fail_under_count, args.fail_under_title, args.show))


if __name__ == "__main__":
    main()
