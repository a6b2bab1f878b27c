"""itdesk/store/cache.py: what the per-file cache serves, by a file's stat, and by its
bytes while the file is too new for its stat to be trusted."""

from __future__ import annotations

from pathlib import Path

from itdesk.store.cache import RACY_NS, FileCache, stat_key


def test_a_racy_file_is_served_while_it_holds_the_bytes_kept_then_by_its_stat(
    tmp_path: Path,
) -> None:
    ticket = tmp_path / "IT-1.yaml"
    ticket.write_bytes(b"title: a\n")
    key = stat_key(ticket.stat())
    now = key[1] + 1  # just written
    kept = tmp_path / "cache"
    cache = FileCache(kept, now_ns=now)
    cache.put("IT-1", key, {"title": "a"})  # no bytes given: a racy file is not kept
    cache.save()
    assert not kept.exists()
    cache.put("IT-1", key, {"title": "a"}, b"title: a\n")
    cache.save()

    cache = FileCache(kept, now_ns=now)
    assert not cache.serves("IT-1", key)  # not by the stat alone
    assert cache.get("IT-1", key) is None  # nobody to read the file: not served
    assert cache.get("IT-1", key, lambda: b"title: b\n") is None  # rewritten, same stat
    assert cache.get("IT-1", key, lambda: None) is None  # gone, or unreadable
    assert cache.get("IT-1", key, lambda: b"title: a\n") == {"title": "a"}

    later = FileCache(kept, now_ns=key[1] + RACY_NS)  # the file is older now
    read: list[str] = []

    def content() -> bytes:
        read.append("read")
        return b"title: a\n"

    assert later.get("IT-1", key, content) == {"title": "a"}
    assert read == ["read"]
    later.save()  # from now on its stat tells any rewrite: the bytes are let go
    again = FileCache(kept, now_ns=key[1] + RACY_NS)
    assert again.serves("IT-1", key)
    assert again.get("IT-1", key, content) == {"title": "a"}
    assert read == ["read"]


def test_bytes_kept_go_with_their_entry(tmp_path: Path) -> None:
    """An entry of a file that is gone is dropped with its bytes; a file kept again when
    no longer racy keeps no bytes."""
    kept = tmp_path / "cache"
    key = (9, 10**18, 10**18, 1)
    cache = FileCache(kept, now_ns=key[1])
    cache.put("a", key, {"n": 1}, b"123456789")
    cache.put("b", key, {"n": 2}, b"abcdefghi")
    cache.save()
    cache = FileCache(kept, now_ns=key[1])
    assert cache.get("a", key, lambda: b"123456789") == {"n": 1}
    cache.save()  # "b" not seen: pruned
    cache = FileCache(kept, now_ns=key[1] + RACY_NS)
    assert cache.get("b", key, lambda: b"abcdefghi") is None
    cache.put("a", key, {"n": 3})  # kept by its stat now
    cache.save()
    assert FileCache(kept, now_ns=key[1] + RACY_NS).serves("a", key)
    assert len(kept.read_bytes()) < 200


def test_a_broken_payload_leaves_the_racy_entries_and_raises_nothing(tmp_path: Path) -> None:
    """The tickets' blob of a cache file damaged (a crash, a hand), its keys intact: an
    entry of a racy file, which holds its own data, still serves and is kept by its stat
    once the file is older; the others are read again from the files."""
    import marshal

    kept = tmp_path / "cache"
    old, new = (9, 10**18, 10**18, 1), (9, 2 * 10**18, 2 * 10**18, 2)
    cache = FileCache(kept, now_ns=new[1])
    cache.put("a", old, {"n": 1})
    cache.put("b", new, {"n": 2}, b"abcdefghi")
    cache.save()
    version, keys, payload, racy_held = marshal.loads(kept.read_bytes())
    kept.write_bytes(marshal.dumps((version, keys, b"\x07broken", racy_held)))
    later = FileCache(kept, now_ns=new[1] + RACY_NS)
    assert later.get("b", new, lambda: b"abcdefghi") == {"n": 2}
    assert later.get("a", old) is None
    later.save()
    again = FileCache(kept, now_ns=new[1] + RACY_NS)
    assert again.serves("b", new) and not again.serves("a", old)
