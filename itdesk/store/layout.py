"""Where things are: the desk's folders, and itdesk's own files inside ``.git``.

A module of names only, so that every other module of the store can import it.
"""

from __future__ import annotations

TICKETS = "tickets"
ARCHIVE = "tickets/archive"  # <YYYY-MM>/<ID>.yaml
KB = "kb"
ENV_DESK = "ITDESK_DESK"

# Inside .git: never committed, the state of this clone.
LOCK_FILE = "itdesk.lock"  # the desk's lock: one writing itdesk process at a time
JOURNAL = "itdesk/journal.json"  # the paths and the git step of the write under way
CACHE_DIR = "itdesk/cache"  # parsed tickets, one file per folder
HOOK_INDEX = "itdesk-index"  # .<pid>: the index the commit hooks see
