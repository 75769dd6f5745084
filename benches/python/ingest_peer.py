"""The Python peer of `ingest_vs_python`: the same job done the usual Python way.

Fetches every feed URL given on stdin (one per line) with 16 threads of urllib, parses each
with feedparser, and stores the entries in SQLite, deduplicated by URL (INSERT OR IGNORE on
a primary key), one transaction per feed. Prints one JSON object: feeds, items stored,
seconds.

    python ingest_peer.py DB_PATH < urls.txt
"""

import json
import sqlite3
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed

import feedparser


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return url, response.read()


def main():
    db_path = sys.argv[1]
    urls = [line.strip() for line in sys.stdin if line.strip()]
    db = sqlite3.connect(db_path)
    db.execute(
        "CREATE TABLE IF NOT EXISTS items (url TEXT PRIMARY KEY, feed TEXT, title TEXT, summary TEXT, published TEXT)"
    )
    started = time.monotonic()
    stored = 0
    failed = 0
    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(fetch, url) for url in urls]
        for future in as_completed(futures):
            try:
                url, body = future.result()
            except Exception:  # noqa: BLE001 - a failed feed is counted, not fatal
                failed += 1
                continue
            parsed = feedparser.parse(body)
            rows = [
                (entry.get("link"), url, entry.get("title"), entry.get("summary"), entry.get("published"))
                for entry in parsed.entries
                if entry.get("link")
            ]
            with db:
                before = db.total_changes
                db.executemany("INSERT OR IGNORE INTO items VALUES (?, ?, ?, ?, ?)", rows)
                stored += db.total_changes - before
    seconds = time.monotonic() - started
    print(json.dumps({"feeds": len(urls), "failed": failed, "items": stored, "seconds": seconds}))


if __name__ == "__main__":
    main()
